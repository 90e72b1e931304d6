"""The OAuth token: the installed-app consent flow, and the saved token, refreshed when due.

The token file holds a refresh token (a credential): it is written with mode 0600, tightened to
0600 when found looser, and never logged.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import google_auth_httplib2
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import InstalledAppFlow
from googleapiclient.http import build_http
from oauthlib.oauth2 import OAuth2Error

from errors import Remedy
from workspace import atomic_write_text
from youtube.common import YouTubeAccess, quiet_loggers
from youtube.errors import AuthError, ClientSecretsError, auth_error

log = logging.getLogger(__name__)

# videos.update (the privacy change) accepts youtube, youtube.force-ssl or youtubepartner;
# youtube.force-ssl is the narrowest of them and also covers videos.insert, thumbnails.set,
# channels.list and the playlists.
SCOPES = ("https://www.googleapis.com/auth/youtube.force-ssl",)
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
# Records of these libraries carry authorization codes and tokens (debug) or the code (info).
_OAUTH_LOGGERS = ("requests_oauthlib", "oauthlib", "google_auth_oauthlib")


@dataclass
class Account:
    token_file: Path  # where the token is saved
    credentials: Credentials
    saved_token: str | None

    def save_if_refreshed(self) -> None:
        """Keep a token refreshed during the run, so the next run need not refresh it again."""
        if self.credentials.token != self.saved_token:
            _save_token(self.token_file, self.credentials)
            self.saved_token = self.credentials.token


def _save_token(path: Path, credentials: Credentials) -> None:
    atomic_write_text(path, credentials.to_json(), mode=0o600)


def load_account(path: Path) -> Account:
    """The token saved at `path`, refreshed when it has expired."""
    if not path.is_file():
        raise AuthError(f"No YouTube token at {path}: authorize uploads first", Remedy.AUTH)
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by other users; restricting it to mode 0600", path)
        path.chmod(0o600)
    try:
        text = path.read_bytes()
    except OSError as error:
        raise auth_error(path, f"cannot be read ({error.strerror}); fix its permissions") from None
    try:
        info = json.loads(text)
        loaded = Credentials.from_authorized_user_info(info)
        # google-auth always points a loaded token at Google; the file keeps the endpoint of
        # the OAuth client it came from (GOOGLE_CLIENT_SECRETS), which tests point elsewhere.
        credentials = loaded.with_token_uri(info.get("token_uri") or GOOGLE_TOKEN_URI)
        credentials.expiry = loaded.expiry  # the copy forgets it
    except (ValueError, AttributeError):
        raise auth_error(path, "not a saved authorization (damaged or from another tool)") from None
    missing = sorted(set(SCOPES) - set(info.get("scopes") or []))
    if missing:
        raise auth_error(path, f"it does not grant {', '.join(missing)}")
    account = Account(path, credentials, credentials.token)
    if not credentials.valid:
        with auth_failures(path):
            credentials.refresh(google_auth_httplib2.Request(build_http()))
        account.save_if_refreshed()
    return account


@contextmanager
def auth_failures(token_file: Path) -> Iterator[None]:
    """A refresh Google refuses (expired or revoked grant) becomes an AuthError."""
    try:
        yield
    except RefreshError as error:
        if getattr(error, "retryable", False):
            raise
        raise auth_error(token_file, "Google refused to refresh it (expired or revoked)") from None


def _auth_prompt(port: int) -> str:
    where = f"http://localhost:{port}/" if port else "the redirect address in that URL"
    forward = f"ssh -L {port}:localhost:{port} <this machine>" if port else "ssh -L"
    return (
        "Open this URL in a browser, sign in with the café's YouTube account and allow access:"
        "\n\n    {url}\n\n"
        f"Google then sends the browser back to {where} on this machine. If the browser runs "
        f"on another computer, forward that port to this machine first ({forward}).\n"
        "Waiting for the authorization..."
    )


def run_auth_flow(access: YouTubeAccess) -> None:
    """Installed-app OAuth consent with a local redirect; saves the token with mode 0600."""
    flow = _installed_app_flow(access.client_secrets)
    # The flow prints the URL, then waits: through a pipe (`| tee`, no terminal) a block
    # buffered stdout would hold the URL back until it is too late.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    try:
        with quiet_loggers(*_OAUTH_LOGGERS):
            credentials = flow.run_local_server(
                host="localhost",
                port=access.auth_port,
                open_browser=False,
                authorization_prompt_message=_auth_prompt(access.auth_port),
                success_message="The café uploader is authorized; you can close this tab.",
                access_type="offline",
                prompt="consent",
            )
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise AuthError(
            f"Port {access.auth_port} on this machine is in use: stop what uses it or "
            "set YOUTUBE_AUTH_PORT to a free port, then authorize again",
            Remedy.AUTH,
        ) from None
    except OAuth2Error as error:
        raise AuthError(
            f"Google did not authorize the uploader ({error.error}: {error.description}); "
            "authorize again and allow access",
            Remedy.AUTH,
        ) from None
    granted = set(getattr(credentials, "granted_scopes", None) or credentials.scopes or ())
    missing = sorted(set(SCOPES) - granted)
    if missing:
        raise AuthError(
            f"The authorization does not include {', '.join(missing)}; authorize again and "
            "leave every permission ticked",
            Remedy.AUTH,
        )
    if not credentials.refresh_token:
        raise AuthError(
            "Google returned no refresh token; remove the uploader's access at "
            "https://myaccount.google.com/permissions, then authorize again",
            Remedy.AUTH,
        )
    _save_token(access.token_file, credentials)
    log.info("YouTube token saved to %s (mode 0600)", access.token_file)


def _installed_app_flow(secrets_path: Path) -> InstalledAppFlow:
    fix = (
        "create an OAuth client of type Desktop app in Google Cloud Console (APIs & Services > "
        "Credentials, with the YouTube Data API v3 enabled), download its JSON there, or set "
        "GOOGLE_CLIENT_SECRETS"
    )
    if not secrets_path.is_file():
        raise ClientSecretsError(f"{secrets_path}: no OAuth client file; {fix}.")
    try:
        config = json.loads(secrets_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ClientSecretsError(f"{secrets_path}: not valid JSON; {fix}.") from None
    if not isinstance(config, dict) or "installed" not in config:
        raise ClientSecretsError(
            f'{secrets_path}: not a Desktop app OAuth client (no "installed" section); {fix}.'
        )
    try:
        return InstalledAppFlow.from_client_config(config, scopes=list(SCOPES))
    except ValueError as error:
        raise ClientSecretsError(f"{secrets_path}: {error}; {fix}.") from None

"""The chooser's pages: Starlette routes over a `VideoSource`, rendered with Jinja2.

Every page is server-rendered HTML (autoescaped); the one script only refreshes the live part
of the page and asks before a cancel. Choices and actions are POSTed forms that answer with a
redirect and a one-line message.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from errors import Remedy
from operator_cli.stats import stats_lines
from remedies import CAFE
from temporal.messages import FILE_REFUSED, HOLD_FOR_ATTENTION
from web.auth import (
    WRONG_PASSWORD_PAUSE_SECONDS,
    SignInThrottle,
    csrf_token,
    is_loopback,
    is_same_origin_post,
    password_matches,
)
from web.previews import TILE, Previews
from web.redact import Redactor
from web.source import ChoiceStatus, SourceError, VideoSource, WaitingVideo

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_DAYS = 30
REFRESH_SECONDS = 5
LIVE_VERSION_HEADER = (
    "X-Live-Version"  # the live part's version: the page replaces it when it changes
)
RECENT_LIMIT = 20
WARM_SECONDS = 10  # how often the chooser looks for newly waiting videos to make previews for
# At start the chooser makes the waiting videos' previews before it answers, for at most this
# long: the first phone to open it gets them at once (50 videos: about 1.5 s on 2 cores).
WARM_AT_START_SECONDS = 5
SHEETS_AT_ONCE = 4  # previews made side by side while warming (each reads 6 from Temporal)
MAX_SHEET_TILES = 9  # TOP_RANKED_CANDIDATES_NUM's largest value
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
FLASH_KINDS = {
    ChoiceStatus.ACCEPTED: "ok",
    ChoiceStatus.REFUSED: "error",
    ChoiceStatus.ALREADY_TAKEN: "warning",
}


@dataclass(frozen=True)
class ChooserOptions:
    """What the pages need beyond the source."""

    host: str  # the address listened on: a loopback one accepts loopback Host headers only
    password: str | None
    redactor: Redactor
    timezone: tzinfo
    refresh_seconds: float = REFRESH_SECONDS
    recent_limit: int = RECENT_LIMIT
    warm_seconds: float = WARM_SECONDS


def create_app(source: VideoSource, options: ChooserOptions) -> Starlette:
    chooser = _Chooser(source, options)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        first_pass = asyncio.Event()
        warming = asyncio.create_task(chooser.keep_previews_warm(first_pass))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first_pass.wait(), WARM_AT_START_SECONDS)
        try:
            yield
        finally:
            warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warming

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", chooser.index),
            Route("/live", chooser.live),
            Route("/candidate", chooser.candidate),
            Route("/preview", chooser.preview),
            Route("/sheet", chooser.sheet),
            Route("/choose", chooser.choose, methods=["POST"]),
            Route("/retry", chooser.retry, methods=["POST"]),
            Route("/cancel", chooser.cancel, methods=["POST"]),
            Route("/change", chooser.change_page),
            Route("/change", chooser.change, methods=["POST"]),
            Route("/stats", chooser.stats),
            Route("/signin", chooser.signin_form),
            Route("/signin", chooser.signin, methods=["POST"]),
            Route("/signout", chooser.signout, methods=["POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[
            Middleware(GZipMiddleware, exclude_content_types=("image/jpeg",)),
            Middleware(
                SessionMiddleware,
                secret_key=secrets.token_urlsafe(32),  # a restart signs everyone out
                session_cookie="chooser_session",
                max_age=SESSION_DAYS * 86400,
                same_site="lax",
            ),
            Middleware(_Gate, options=options),
        ],
    )


class _Gate:
    """Host check, sign-in requirement and security headers, for every request (plain ASGI)."""

    def __init__(self, app: ASGIApp, options: ChooserOptions):
        self._app = app
        self._options = options

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        refusal = self._refusal(Request(scope))
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(SECURITY_HEADERS)
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self._app(scope, receive, send_with_headers)

    def _refusal(self, request: Request) -> Response | None:
        if is_loopback(self._options.host) and not _loopback_host_header(request):
            # a page elsewhere that made its name resolve to 127.0.0.1 (DNS rebinding)
            return PlainTextResponse("Unknown host.", status_code=400)
        path = request.url.path
        open_path = path == "/signin" or path.startswith("/static/")
        if self._options.password and not open_path and not request.session.get("signed_in"):
            if request.method == "GET":
                return RedirectResponse("/signin", status_code=303)
            return PlainTextResponse("Sign in first.", status_code=403)
        return None


def _loopback_host_header(request: Request) -> bool:
    hostname = urlsplit("//" + request.headers.get("host", "")).hostname
    return bool(hostname) and is_loopback(hostname)


class _Chooser:
    def __init__(self, source: VideoSource, options: ChooserOptions):
        self._source = source
        self._options = options
        self._previews = Previews(source)
        self._throttle = SignInThrottle()
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        environment.filters["waited"] = _waited
        environment.filters["clock"] = lambda moment: _clock(moment, options.timezone)
        environment.filters["position"] = _position
        environment.filters["web_link"] = _web_link
        environment.filters["sheet_url"] = _sheet_url
        environment.filters["crop_text"] = _crop_text
        environment.globals["tile"] = TILE
        environment.globals["ATTENTION"] = HOLD_FOR_ATTENTION
        environment.globals["AUTH"] = Remedy.AUTH
        environment.globals["CAFE"] = CAFE
        environment.globals["REFUSED"] = FILE_REFUSED
        self._templates = Jinja2Templates(env=environment)

    async def keep_previews_warm(self, first_pass: asyncio.Event) -> None:
        """Make the sheet of each newly waiting video before anyone asks for it: a phone
        opening the page after a notification gets them at once. `first_pass` is set once the
        videos waiting at start have theirs (or could not get them)."""
        at_once = asyncio.Semaphore(SHEETS_AT_ONCE)

        async def make(video: WaitingVideo) -> None:
            async with at_once:
                ids = [candidate.id for candidate in video.candidates]
                await self._previews.sheet(video.workflow_id, ids)

        while True:
            try:
                videos = await self._source.waiting()
                await asyncio.gather(*(make(video) for video in videos if video.candidates))
            except SourceError as error:
                log.debug("previews not warmed: %s", error)
            except Exception:  # a helper's bug must not stop the chooser: the page makes them too
                log.exception("making previews ahead failed")
            first_pass.set()
            await asyncio.sleep(self._options.warm_seconds)

    def _render(self, request: Request, name: str, status_code: int = 200, **context) -> Response:
        context.update(
            csrf=csrf_token(request),
            signed_in=bool(self._options.password and request.session.get("signed_in")),
            refresh_seconds=self._options.refresh_seconds,
        )
        return self._templates.TemplateResponse(request, name, context, status_code=status_code)

    async def _live_context(self) -> dict:
        (waiting, waiting_error), (recent, recent_error), (files, _) = await asyncio.gather(
            self._guarded(self._source.waiting()),
            self._guarded(self._source.recent(self._options.recent_limit)),
            self._guarded(self._source.not_started()),
        )
        redact = self._options.redactor.fields
        return {
            "waiting": [redact(video) for video in waiting or []],
            "waiting_error": waiting_error,
            "recent": [redact(video) for video in recent or []],
            "recent_error": recent_error,
            "not_started": [redact(file) for file in files or []],
        }

    async def _guarded(self, work):
        try:
            return await work, None
        except SourceError as error:
            return None, self._options.redactor.text(str(error))

    async def _live_fragment(self, request: Request) -> tuple[str, str]:
        """The live part of the page and its version: the page's script replaces the part only
        when the version changed, so elements a person is about to tap stay in place."""
        context = {
            **await self._live_context(),
            "request": request,
            "csrf": csrf_token(request),
            "refresh_seconds": self._options.refresh_seconds,
        }
        html = self._templates.get_template("live.html").render(context)
        return html, hashlib.sha256(html.encode()).hexdigest()[:16]

    async def index(self, request: Request) -> Response:
        flash = request.session.pop("flash", None)
        live_html, version = await self._live_fragment(request)
        return self._render(
            request, "index.html", flash=flash, live_html=live_html, live_version=version
        )

    async def live(self, request: Request) -> Response:
        live_html, version = await self._live_fragment(request)
        return HTMLResponse(live_html, headers={LIVE_VERSION_HEADER: version})

    async def candidate(self, request: Request) -> Response:
        workflow_id = request.query_params.get("w", "")
        candidate_id = request.query_params.get("c", "")
        try:
            waiting = await self._source.waiting()
            error = None
        except SourceError as failure:
            waiting, error = [], self._options.redactor.text(str(failure))
        video = _find(waiting, workflow_id)
        chosen = (
            next((c for c in video.candidates if c.id == candidate_id), None) if video else None
        )
        return self._render(
            request,
            "candidate.html",
            status_code=200 if chosen else 404,
            video=self._options.redactor.fields(video) if video else None,
            chosen=chosen,
            error=error,
        )

    async def preview(self, request: Request) -> Response:
        """One candidate, large, as its thumbnail frames it (the page names the crop the
        source gave: `k`)."""
        workflow_id, candidate_id = (
            request.query_params.get("w", ""),
            request.query_params.get("c", ""),
        )
        crop = _crop(request.query_params.get("k", ""))
        return await _image(self._previews.large(workflow_id, candidate_id, crop))

    async def sheet(self, request: Request) -> Response:
        """A video's candidates side by side, TILE each, for the list (cropped by the page)."""
        candidate_ids = request.query_params.getlist("c")
        if not 0 < len(candidate_ids) <= MAX_SHEET_TILES:
            return PlainTextResponse("Name one to nine candidates.", status_code=400)
        return await _image(self._previews.sheet(request.query_params.get("w", ""), candidate_ids))

    async def _checked_form(self, request: Request):
        form = await request.form()
        if not is_same_origin_post(request, str(form.get("csrf", ""))):
            return None
        return form

    def _refused_cross_site(self) -> Response:
        return PlainTextResponse(
            "Refused: this request did not come from the chooser's own page.", status_code=403
        )

    def _back(self, request: Request, kind: str, text: str) -> Response:
        request.session["flash"] = {"kind": kind, "text": self._options.redactor.text(text)}
        return RedirectResponse("/", status_code=303)

    async def choose(self, request: Request) -> Response:
        return await self._candidate_action(request, self._source.choose)

    async def _candidate_action(self, request: Request, action) -> Response:
        """A candidate taken from a form (chosen, or made live), its outcome back as a flash."""
        form = await self._checked_form(request)
        if form is None:
            return self._refused_cross_site()
        try:
            outcome = await action(
                str(form.get("workflow_id", "")), str(form.get("candidate_id", ""))
            )
        except SourceError as error:
            return self._back(request, "error", str(error))
        return self._back(request, FLASH_KINDS[outcome.status], outcome.message)

    async def change_page(self, request: Request) -> Response:
        """A published video's candidates, the live one marked, each a button to make it live."""
        workflow_id = request.query_params.get("w", "")
        try:
            offer, error = await self._source.change_offer(workflow_id), None
        except SourceError as failure:
            offer, error = None, self._options.redactor.text(str(failure))
        return self._render(
            request,
            "change.html",
            status_code=200 if offer else 404,
            offer=self._options.redactor.fields(offer.choice) if offer else None,
            live=offer.live_candidate_id if offer else None,
            closes_at=offer.closes_at if offer else None,
            error=error,
        )

    async def change(self, request: Request) -> Response:
        return await self._candidate_action(request, self._source.change)

    async def stats(self, request: Request) -> Response:
        try:
            days = min(max(float(request.query_params.get("days", "7")), 0.01), 365.0)
        except ValueError:
            days = 7.0
        try:
            found, error = await self._source.stats(days), None
        except SourceError as failure:
            found, error = None, self._options.redactor.text(str(failure))
        lines = [line.text for line in stats_lines(found)] if found else []
        return self._render(request, "stats.html", lines=lines, error=error)

    async def retry(self, request: Request) -> Response:
        return await self._action(request, self._source.retry)

    async def cancel(self, request: Request) -> Response:
        return await self._action(request, self._source.cancel)

    async def _action(self, request: Request, action) -> Response:
        form = await self._checked_form(request)
        if form is None:
            return self._refused_cross_site()
        try:
            outcome = await action(str(form.get("workflow_id", "")))
        except SourceError as error:
            return self._back(request, "error", str(error))
        return self._back(request, "ok", outcome.message)

    async def signin_form(self, request: Request) -> Response:
        if not self._options.password:
            return RedirectResponse("/", status_code=303)
        return self._render(request, "signin.html", message=None)

    async def signin(self, request: Request) -> Response:
        form = await self._checked_form(request)
        if form is None:
            return self._refused_cross_site()
        if not self._options.password:
            return RedirectResponse("/", status_code=303)
        address = request.client.host if request.client else "?"
        wait = self._throttle.wait_seconds(address)
        if wait > 0:
            message = f"Too many wrong passwords: try again in {int(wait) + 1} s."
            return self._render(request, "signin.html", status_code=429, message=message)
        if not password_matches(str(form.get("password", "")), self._options.password):
            log.warning("wrong chooser password from %s", address)
            # counted before the pause: attempts sent meanwhile, side by side, are not checked
            self._throttle.failed(address, answered_in=WRONG_PASSWORD_PAUSE_SECONDS)
            await asyncio.sleep(WRONG_PASSWORD_PAUSE_SECONDS)
            return self._render(request, "signin.html", status_code=401, message="Wrong password.")
        self._throttle.succeeded(address)
        request.session.clear()
        request.session["signed_in"] = True
        return RedirectResponse("/", status_code=303)

    async def signout(self, request: Request) -> Response:
        form = await self._checked_form(request)
        if form is None:
            return self._refused_cross_site()
        request.session.clear()
        return RedirectResponse("/signin", status_code=303)


async def _image(making) -> Response:
    try:
        image = await making
    except SourceError:
        image = None
    if image is None:
        return PlainTextResponse("No preview.", status_code=404)
    return Response(
        image, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
    )


def _sheet_url(video: WaitingVideo) -> str:
    """The address of the video's sheet: its candidates' tiles, best first."""
    pairs = [("w", video.workflow_id), *(("c", candidate.id) for candidate in video.candidates)]
    return "/sheet?" + urlencode(pairs)


def _crop_text(crop: tuple[float, float, float, float] | None) -> str:
    return "" if crop is None else ",".join(f"{value:.4f}" for value in crop)


def _crop(text: str) -> tuple[float, float, float, float] | None:
    """A crop as `_crop_text` wrote it; None for anything else (the whole picture)."""
    try:
        x0, y0, x1, y1 = (float(value) for value in text.split(","))
    except ValueError:
        return None
    return (x0, y0, x1, y1) if 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 else None


def _find(videos: list[WaitingVideo], workflow_id: str) -> WaitingVideo | None:
    return next((video for video in videos if video.workflow_id == workflow_id), None)


def _waited(since: datetime | None) -> str:
    if since is None:
        return "-"
    minutes = max(0, int((datetime.now(UTC) - since).total_seconds() // 60))
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min" if minutes else "under a minute"


def _clock(moment: datetime | str | None, zone: tzinfo) -> str:
    """`14:05` today, else `09 Jan 14:05`, in the café's time; an ISO time (a hold's) too."""
    if not moment:
        return "-"
    local = (datetime.fromisoformat(moment) if isinstance(moment, str) else moment).astimezone(zone)
    today = datetime.now(zone).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%d %b %H:%M")


def _position(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def _web_link(link: str | None) -> str | None:
    """A link the page may make clickable: http(s) only (never javascript: or file:)."""
    return link if link and urlsplit(link).scheme in ("http", "https") else None

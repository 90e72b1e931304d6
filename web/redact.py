"""Keep secrets and the machine's layout out of the pages.

Texts from the workflows (failure reasons, messages) may quote a path, a token or an upload
session address. A page shows paths inside the café's folders as they are; any other absolute
path is cut to its last part, and secrets are replaced by a marker.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any, TypeVar

T = TypeVar("T")
HIDDEN = "[hidden]"
IDENTIFIERS = frozenset({"workflow_id", "id", "taken_candidate_id"})

_SECRET_PATTERNS = (
    # a YouTube resumable session address is a credential for that upload
    re.compile(r"https?://\S*upload_id=\S*"),
    re.compile(r"\bya29\.[\w.-]+"),  # Google access token
    re.compile(r"\b1//[\w-]{20,}"),  # Google refresh token
    re.compile(
        r"(?i)((?:access|refresh|id)_token|client_secret|api_key|password)"
        r"([\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]+"
    ),
)
# an absolute POSIX path: a slash not inside a word, address or another path
_PATH = re.compile(r"(?<![\w:/.~…-])/[^\s\"'`<>|;,()\[\]{}]+")


class Redactor:
    def __init__(self, allowed_roots: Iterable[PurePosixPath | str], secrets: Iterable[str]):
        self._roots = [str(root).rstrip("/") for root in allowed_roots if str(root) != "/"]
        self._secrets = sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, HIDDEN)
        for pattern in _SECRET_PATTERNS:
            value = pattern.sub(_hide, value)
        value = re.sub(r"file://(/\S+)", lambda m: "file://" + self._path(m.group(1)), value)
        return _PATH.sub(lambda m: self._path(m.group(0)), value)

    def _path(self, path: str) -> str:
        if any(path == root or path.startswith(root + "/") for root in self._roots):
            return path
        return "…/" + PurePosixPath(path).name

    def fields(self, item: T) -> T:
        """A copy of the dataclass `item` with every text in it (nested too) redacted, but its
        identifiers: they name things in links and forms, and are made of safe characters."""
        changes = {
            f.name: self._value(getattr(item, f.name))
            for f in dataclasses.fields(item)  # type: ignore[arg-type]
            if f.name not in IDENTIFIERS
        }
        return dataclasses.replace(item, **changes)  # type: ignore[type-var]

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._value(v) for v in value]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self.fields(value)
        return value


def _hide(match: re.Match[str]) -> str:
    if match.re.groups == 2:  # key=value: keep the key, hide the value
        return f"{match.group(1)}{match.group(2)}{HIDDEN}"
    return HIDDEN

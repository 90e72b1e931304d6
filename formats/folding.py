"""Names without their accents, as people type them and as ASCII names (slugs) need them."""

from __future__ import annotations

import re
import unicodedata


def fold_accents(text: str) -> str:
    """`Nguyễn Đức Trâm` -> `Nguyen Duc Tram`: every letter without its accents (Đ as D) and
    compatibility characters in their plain form; letters with no plain form (ø, 李) stay."""
    decomposed = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def slug(text: str, limit: int | None = None) -> str:
    """`md_Nguyễn Đức HuyvsTrâm` -> `md-nguyen-duc-huyvstram`: lowercase ASCII letters and
    digits joined by `-`, at most `limit` characters; `video` when nothing is left."""
    ascii_text = fold_accents(text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:limit].rstrip("-") or "video"

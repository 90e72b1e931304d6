"""What YouTube takes in a video's fields: the privacy statuses, a language tag, and the limits of
the title, the description and the tags a real channel hits."""

from __future__ import annotations

import re

PRIVACY_STATUSES = ("private", "unlisted", "public")
CATEGORY_SPORTS = "17"

TITLE_MAX_CHARS = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500


def without_angle_brackets(text: str) -> str:
    """YouTube rejects `<` and `>` in titles and descriptions."""
    return text.replace("<", "‹").replace(">", "›")


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, at a space or between partners
    (never inside a name, unless one name alone is longer than `limit`)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    breaks = [cut.rfind(" "), cut.rfind("/")]
    if max(breaks) > 0:
        cut = cut[: max(breaks)]
    return cut.rstrip(" |/,-") + "…"


def fit_title(text: str) -> str:
    """A title as written (a sidecar's), within YouTube's rules."""
    return shorten(without_angle_brackets(text), TITLE_MAX_CHARS)


def fit_description(text: str) -> str:
    text = without_angle_brackets(text)
    encoded = text.encode("utf-8")
    if len(encoded) <= DESCRIPTION_MAX_BYTES:
        return text
    return encoded[: DESCRIPTION_MAX_BYTES - 3].decode("utf-8", "ignore").rstrip() + "…"


def tags_length(tags: list[str]) -> int:
    """YouTube counts a tag with a space as if quoted, and a comma between tags."""
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(0, len(tags) - 1)


def fit_tags(tags: list[str]) -> list[str]:
    unique: list[str] = []
    for tag in tags:
        tag = without_angle_brackets(tag).replace(",", " ").strip()
        if tag and tag.lower() not in (t.lower() for t in unique):
            unique.append(tag[: TAGS_MAX_CHARS - 2])
    while tags_length(unique) > TAGS_MAX_CHARS:
        unique.pop()
    return unique


def check_language(setting: str) -> str | None:
    """VIDEO_LANGUAGE: a BCP-47 language tag such as `vi` or `en-US`; empty: none."""
    tag = setting.strip()
    if not tag:
        return None
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag):
        raise ValueError("expected a language code such as vi, en or en-US (empty: none)")
    return tag

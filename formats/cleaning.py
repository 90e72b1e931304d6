"""Text that goes to YouTube, cleaned of invisible controls."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

# Bidi embeddings and overrides (U+202A-202E) and isolates (U+2066-2069): they reorder what
# follows, so a title can read differently from what it holds.
_BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
# Characters that break a line: kept as a line break in a description, a space elsewhere.
_LINE_BREAKS = frozenset("\n\r\v\f\x85\u2028\u2029")


def clean_text(text: str, multiline: bool = False) -> str:
    """`text` without control characters, NULs and bidi overrides.

    Line breaks become `\\n` when `multiline` (a description), a space otherwise (a title, a
    tag, a name, then stripped); a tab becomes a space.
    """
    text = text.replace("\r\n", "\n")
    kept = []
    for char in text:
        if char in _LINE_BREAKS:
            kept.append("\n" if multiline else " ")
        elif char == "\t":
            kept.append(" ")
        elif char not in _BIDI_CONTROLS and unicodedata.category(char) != "Cc":
            kept.append(char)
    cleaned = "".join(kept)
    return cleaned if multiline else cleaned.strip()


def clean_metadata_text(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a video's metadata fields with its texts cleaned (`clean_text`): the title,
    description, tags, team names and tournament, wherever they came from."""
    cleaned = dict(values)
    for key in ("title", "tournament", "match_type_name"):
        if isinstance(values.get(key), str):
            cleaned[key] = clean_text(values[key])
    if isinstance(values.get("description"), str):
        cleaned["description"] = clean_text(values["description"], multiline=True)
    for key in ("team1", "team2"):
        if isinstance(values.get(key), list):
            cleaned[key] = [clean_text(name) for name in values[key]]
    if isinstance(values.get("tags"), list):
        cleaned["tags"] = [tag for tag in map(clean_text, values["tags"]) if tag]
    return cleaned

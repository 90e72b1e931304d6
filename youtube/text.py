"""Text that goes to YouTube: cleaned of invisible controls, and filled from templates.

Imports nothing of the project: `config` validates the templates with it at load, and
`video_prep` cleans the metadata it assembles.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

# Bidi embeddings and overrides (U+202A-202E) and isolates (U+2066-2069): they reorder what
# follows, so a title can read differently from what it holds.
_BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
# Characters that break a line: kept as a line break in a description, a space elsewhere.
_LINE_BREAKS = frozenset("\n\r\v\f\x85\u2028\u2029")

DEFAULT_DESCRIPTION_TEMPLATE = files(__package__) / "description_template.txt"
CAFE_HASHTAGS = ("#cafebadminton", "#badminton")
PLACEHOLDERS = {
    "teams": "the matchup: An/Binh vs Chi/Dung",
    "team1": "the first team: An/Binh",
    "team2": "the second team: Chi/Dung",
    "players": "every player: An, Binh, Chi, Dung",
    "match_type": "Men's Doubles, Mixed Doubles...",
    "tournament": "Cafe Game, or the file name's tournament",
    "date": "the recording date: 25 Dec 2024",
    "hashtags": "#cafebadminton #badminton and one for the tournament",
}


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


def ascii_fold(text: str) -> str:
    """`Nguyễn Đức` -> `Nguyen Duc`."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def hashtags(tournament: str) -> str:
    """`#cafebadminton #badminton #cafegame`: the café's own, then one for the tournament."""
    tournament_tag = "#" + re.sub(r"[^a-z0-9]", "", ascii_fold(tournament).lower())
    tags = [*CAFE_HASHTAGS, tournament_tag]
    return " ".join(tag for tag in dict.fromkeys(tags) if tag != "#")


# -- templates ----------------------------------------------------------------------------------


def template_problem(template: str) -> str | None:
    """What is wrong with a template's placeholders, or None."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return "has a lone { or }: write {{ or }} for a literal brace"
    named = [(name, spec or conversion) for _, name, spec, conversion in parsed if name is not None]
    unknown = sorted({"{" + name + "}" for name, _ in named if name not in PLACEHOLDERS})
    if unknown:
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        return f"unknown placeholder {', '.join(unknown)}; the placeholders are {known}"
    formatted = sorted({"{" + name + "}" for name, formatting in named if formatting})
    if formatted:
        return f"{', '.join(formatted)} carries a format or conversion; write it plain"
    return None


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """The template with each placeholder replaced (checked by `template_problem` first)."""
    return template.format_map(values)


def read_description_template(setting: str) -> str:
    """DESCRIPTION_TEMPLATE: the text of the template file it names, checked; empty: the
    template shipped with the tool. Raises ValueError with the problem."""
    if not setting.strip():
        return DEFAULT_DESCRIPTION_TEMPLATE.read_text(encoding="utf-8")
    path = Path(setting.strip()).expanduser()
    try:
        template = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValueError(
            "no such file; write the description as a text file with placeholders such as "
            "{teams} and {hashtags}, or leave it empty for the template shipped with the tool"
        ) from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text; save it again as UTF-8") from None
    except OSError as error:
        raise ValueError(f"cannot be read ({error.strerror})") from None
    problem = template_problem(template)
    if problem:
        raise ValueError(problem)
    return template


def check_line_template(setting: str) -> str:
    """A one-line template setting (YOUTUBE_PLAYLIST), checked; empty stays empty."""
    template = setting.strip()
    problem = template_problem(template)
    if problem:
        raise ValueError(problem)
    return template


def check_language(setting: str) -> str | None:
    """VIDEO_LANGUAGE: a BCP-47 language tag such as `vi` or `en-US`; empty: none."""
    tag = setting.strip()
    if not tag:
        return None
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag):
        raise ValueError("expected a language code such as vi, en or en-US (empty: none)")
    return tag

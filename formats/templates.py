"""DESCRIPTION_TEMPLATE and YOUTUBE_PLAYLIST: their placeholders, checked when the settings load,
and filled for each video; the hashtags the description ends with."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from pathlib import Path

from formats.folding import fold_accents

DEFAULT_DESCRIPTION_TEMPLATE = Path(__file__).with_name("description_template.txt")
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


def hashtags(tournament: str) -> str:
    """`#cafebadminton #badminton #cafegame`: the café's own, then one for the tournament."""
    tournament_tag = "#" + re.sub(r"[^a-z0-9]", "", fold_accents(tournament).lower())
    tags = [*CAFE_HASHTAGS, tournament_tag]
    return " ".join(tag for tag in dict.fromkeys(tags) if tag != "#")


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

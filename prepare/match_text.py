"""A match's words on YouTube: its title, description and tags within YouTube's limits, and the
day it was played on the café's calendar."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

from formats.cleaning import clean_text
from formats.templates import fill_template, hashtags
from formats.youtube_fields import (
    TITLE_MAX_CHARS,
    fit_description,
    fit_tags,
    shorten,
    without_angle_brackets,
)
from prepare.file_names import MATCH_TYPES


def in_zone(stamp: datetime, zone: tzinfo) -> datetime:
    """`stamp` in `zone` (the café's); a time without a zone is the café's."""
    return stamp.astimezone(zone) if stamp.tzinfo else stamp.replace(tzinfo=zone)


def recording_date(recorded_at: str, zone: tzinfo) -> str:
    """`25 Dec 2024`: the day on the café's calendar, `zone` (cameras store UTC; a match at 6 am
    in Vietnam is not on the day before, whatever zone the machine running this is set to)."""
    return in_zone(datetime.fromisoformat(recorded_at), zone).strftime("%d %b %Y").lstrip("0")


def matchup(team1: list[str], team2: list[str]) -> str:
    return f"{'/'.join(team1)} vs {'/'.join(team2)}"


def build_title(team1: list[str], team2: list[str], tournament: str, date: str) -> str:
    """`Nho/Vinh vs Khanh/Leo | Cafe Game (25 Dec 2024)`, at most 100 characters.

    Too long, the players' names are shortened first: every name to its given name (a
    Vietnamese name's last word: `Nguyễn Văn Thành` is `Thành`), then, the longest first, to
    their initials (`T.`). Then the tournament is cut between words; the date always stays.
    Only when the names, even as initials, leave no room for the tournament's first word does
    it go.
    """
    dated = f" ({date})"
    names = [_name_forms(name) for name in (*team1, *team2)]
    shown = [0] * len(names)  # which form of each name the title shows

    def teams() -> tuple[str, str]:
        texts = [
            without_angle_brackets(forms[step]) for forms, step in zip(names, shown, strict=True)
        ]
        return "/".join(texts[: len(team1)]), "/".join(texts[len(team1) :])

    def players() -> str:
        return " vs ".join(teams())

    def too_long() -> bool:
        return len(players()) + len(f" | {tournament}{dated}") > TITLE_MAX_CHARS

    if too_long():
        shown = [1] * len(names)  # given names
    while too_long():
        longer = [index for index, forms in enumerate(names) if shown[index] < len(forms) - 1]
        if not longer:
            break
        shown[max(longer, key=lambda index: len(names[index][shown[index]]))] += 1
    room = TITLE_MAX_CHARS - len(players()) - len(" | ") - len(dated)
    cut = _shorten_words(without_angle_brackets(tournament), room)
    if cut:
        return f"{players()} | {cut}{dated}"
    return _cut_teams(*teams(), dated)


def _name_forms(name: str) -> tuple[str, str, str]:
    """(full, given name, initial): `Nguyễn Văn Thành`, `Thành`, `T.`; a form that would not be
    shorter repeats the one before."""
    given = name.split()[-1] if name.split() else name
    initial = next((char for char in given if char.isalnum()), given[:1]) + "."
    return name, given, initial if len(initial) < len(given) else given


def _shorten_words(text: str, limit: int) -> str:
    """`text`, or as many of its first words as fit in `limit` characters with an ellipsis;
    empty when not even the first word fits."""
    if len(text) <= limit:
        return text
    kept = ""
    for word in text.split(" "):
        longer = f"{kept} {word}" if kept else word
        if len(longer) + len("…") > limit:
            break
        kept = longer
    kept = kept.rstrip(" |/,-")
    return kept + "…" if kept else ""


def _cut_teams(first: str, second: str, dated: str) -> str:
    """Both teams cut to fit beside the date, each to half the room or what the other leaves:
    a long first team must not push out the second."""
    room = TITLE_MAX_CHARS - len(dated) - len(" vs ")
    half = room // 2
    if len(second) <= half:
        first = shorten(first, room - len(second))
    elif len(first) <= half:
        second = shorten(second, room - len(first))
    else:
        first, second = shorten(first, half), shorten(second, room - half)
    return f"{first} vs {second}{dated}"


def template_values(
    match_type_name: str, team1: list[str], team2: list[str], tournament: str, date: str
) -> dict[str, str]:
    """What each placeholder of DESCRIPTION_TEMPLATE and YOUTUBE_PLAYLIST stands for."""
    values = {
        "teams": matchup(team1, team2),
        "team1": "/".join(team1),
        "team2": "/".join(team2),
        "players": ", ".join([*team1, *team2]),
        "match_type": match_type_name,
        "tournament": tournament,
        "date": date,
        "hashtags": hashtags(tournament),
    }
    return {name: clean_text(value) for name, value in values.items()}


def build_description(values: Mapping[str, str], template: str) -> str:
    """`template` (DESCRIPTION_TEMPLATE) filled with the match's `template_values`."""
    return fit_description(fill_template(template, values))


def build_tags(match_type: str, team1: list[str], team2: list[str], tournament: str) -> list[str]:
    tags = ["badminton", MATCH_TYPES[match_type], tournament, *team1, *team2, "cafe badminton"]
    return fit_tags(tags)

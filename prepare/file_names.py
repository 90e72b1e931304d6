"""The café's file names: `{type}_{team1}vs{team2}[_{tournament}].{ext}`, e.g.
`md_NhozVinhvsKhanhzLeo.mov` (Nho/Vinh vs Khanh/Leo, Cafe Game) or
`xd_KhanhzVyvsZezTram_Friendly Game.mov`: who played, which kind of match, which tournament.
Imports neither PyAV nor OpenCV: the operator's commands check names with it cheaply.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from errors import PipelineError

SUPPORTED_EXTENSIONS = (".mov", ".mp4", ".m4v", ".mkv")
MATCH_TYPES = {
    "ms": "Men's Singles",
    "md": "Men's Doubles",
    "ws": "Women's Singles",
    "wd": "Women's Doubles",
    "xd": "Mixed Doubles",
}
DEFAULT_TOURNAMENT = "Cafe Game"
NAME_PATTERN = "{type}_{team1}vs{team2}[_{tournament}].{ext}"
NAME_EXAMPLE = "md_NhozVinhvsKhanhzLeo.mov"


class FileNameError(PipelineError):
    pass


@dataclass(frozen=True)
class ParsedName:
    match_type: str
    team1: list[str]
    team2: list[str]
    tournament: str


def _name_error(name: str, problem: str) -> FileNameError:
    types = ", ".join(f"{code}={label}" for code, label in MATCH_TYPES.items())
    return FileNameError(
        f"{name}: {problem}; rename it as {NAME_PATTERN} (e.g. {NAME_EXAMPLE}; type is {types})."
    )


def _joins_partners(team: str, index: int) -> bool:
    """A lowercase `z` between a lowercase and an uppercase letter ("NhozVinh", "TrâmzĐức"), so
    names such as "Ze", "Lizzy" or "Lizé" stay whole."""
    before, after = team[index - 1 : index], team[index + 1 : index + 2]
    return team[index] == "z" and before.islower() and after.isupper()


def _split_players(team: str) -> list[str]:
    joined = "".join("+" if _joins_partners(team, i) else char for i, char in enumerate(team))
    parts = re.split(r"\s*[+&]\s*", joined)
    return [" ".join(_spaced(part).split()) for part in parts]


def _spaced(name: str) -> str:
    """A full name written without spaces, as people do in file names, with its spaces back:
    a space where a lowercase letter meets a capital (`NguyễnVănThành`: `Nguyễn Văn Thành`)."""
    return "".join(
        f" {char}" if index and name[index - 1].islower() and char.isupper() else char
        for index, char in enumerate(name)
    )


def _title_case(text: str) -> str:
    # Capitalise lowercase words only: "Tour HCM 2024" keeps its capitals.
    return " ".join(
        word[:1].upper() + word[1:] if word.islower() else word for word in text.split()
    )


def parse_file_name(name: str) -> ParsedName:
    """Read the match from a file name of the form `{type}_{team1}vs{team2}[_{tournament}]`."""
    stem = unicodedata.normalize("NFC", Path(name).stem)
    match_type, sep, rest = stem.partition("_")
    if not sep or match_type.lower() not in MATCH_TYPES:
        return_problem = f"the type {match_type!r} is not one of {', '.join(MATCH_TYPES)}"
        raise _name_error(name, return_problem if sep else "it has no `_` after the type")
    match_type = match_type.lower()
    teams, _, tournament = rest.partition("_")
    split_at = _teams_separator(teams)
    team1_text, team2_text = teams[:split_at], teams[split_at + 2 :]
    if split_at < 0 or not team1_text.strip() or not team2_text.strip():
        raise _name_error(name, "the two teams must be separated by `vs`")
    team1, team2 = _split_players(team1_text), _split_players(team2_text)
    expected = 1 if match_type.endswith("s") else 2
    for team in (team1, team2):
        if len(team) != expected or not all(team):
            raise _name_error(
                name,
                f"{MATCH_TYPES[match_type]} needs {expected} player(s) a team, got "
                f"{' / '.join(team) or 'none'} (join partners with a lowercase z between "
                "their names, NhozVinh, or with + or &)",
            )
    tournament = _title_case(tournament.replace("_", " "))
    return ParsedName(match_type, team1, team2, tournament or DEFAULT_TOURNAMENT)


def _teams_separator(teams: str) -> int:
    """Where the `vs` between the teams starts, -1 when there is none.

    Names may hold a "vs" too ("Evsen"): the separator is the first "vs" before a capital
    letter ("EvsenvsAn"), else the first one.
    """
    found = [match.start() for match in re.finditer("vs", teams)]
    if not found:
        return -1
    return next((at for at in found if teams[at + 2 : at + 3].isupper()), found[0])

"""Prepare: validate and probe a match video, read the match from its file name, and write the
video's YouTube-ready metadata to its workspace.

File names follow the café's convention `{type}_{team1}vs{team2}[_{tournament}].{ext}`, e.g.
`md_NhozVinhvsKhanhzLeo.mov` (Nho/Vinh vs Khanh/Leo, Cafe Game) or
`xd_KhanhzVyvsZezTram_Friendly Game.mov`. A sidecar `<video file>.json` may override any field.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av

from config import PRIVACY_STATUSES, get_settings
from errors import PipelineError, Step
from workspace import METADATA_FILE, atomic_write_json, ensure_workspace, read_json, workspace_dir
from youtube.schedule import publish_at_problem
from youtube.text import clean_metadata_text, clean_text, fill_template, hashtags

log = logging.getLogger(__name__)

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
CATEGORY_SPORTS = "17"

TITLE_MAX_CHARS = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500

# Containers whose header we recognise: such a file that FFmpeg cannot open was cut off.
_CONTAINER_SIGNATURES = (
    (4, b"ftyp"),
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"wide"),
    (0, b"\x1aE\xdf\xa3"),
)


class VideoError(PipelineError):
    """A video file that cannot be used as it is."""


class EmptyVideoError(VideoError):
    pass


class NotAVideoError(VideoError):
    pass


class TruncatedVideoError(VideoError):
    pass


class NoVideoStreamError(VideoError):
    pass


class UnreadableVideoError(VideoError):
    pass


class UnsupportedExtensionError(VideoError):
    pass


class FileNameError(PipelineError):
    pass


class SidecarError(PipelineError):
    pass


class MetadataMissingError(PipelineError):
    pass


class MetadataUnreadableError(MetadataMissingError):
    """metadata.json exists but is damaged (e.g. edited by hand)."""


def find_videos(directory: Path) -> list[Path]:
    """The match videos directly in `directory`, by name; hidden files are ignored."""
    return sorted(
        path
        for path in Path(directory).iterdir()
        if path.is_file()
        and not path.name.startswith(".")
        and path.suffix.lower() in SUPPORTED_EXTENSIONS
    )


@dataclass(frozen=True)
class VideoInfo:
    duration_seconds: float
    fps: float
    width: int
    height: int
    display_width: int
    display_height: int
    rotation: int
    codec: str
    pix_fmt: str
    bit_depth: int
    creation_time: str | None


def _looks_like_a_container(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(16)
    return any(head[offset : offset + len(sig)] == sig for offset, sig in _CONTAINER_SIGNATURES)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise NotAVideoError(f"{path}: the file does not exist; check the path.")
    try:
        with path.open("rb"):
            pass
    except PermissionError:
        raise UnreadableVideoError(
            f"{path}: permission denied; let this user read it (e.g. chmod a+r).",
        ) from None
    if path.stat().st_size == 0:
        raise EmptyVideoError(
            f"{path}: the file is empty (0 bytes); copy the recording again from the camera."
        )


def _truncated(path: Path) -> TruncatedVideoError:
    return TruncatedVideoError(
        f"{path}: the recording looks cut off (missing index); "
        "re-export it or copy it again from the camera."
    )


def open_video(video_path: Path) -> av.container.InputContainer:
    """Open `video_path` after checking it is a readable video with a video stream; the caller
    closes it. Each bad input raises its own error with the file, the problem and the fix."""
    path = Path(video_path)
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise UnsupportedExtensionError(
            f"{path}: {path.suffix or 'no extension'} is not supported; use one of "
            f"{', '.join(SUPPORTED_EXTENSIONS)} (e.g. re-export as .mp4)."
        )
    _check_readable(path)
    try:
        container = av.open(str(path))
    except av.error.PermissionError:
        raise UnreadableVideoError(
            f"{path}: permission denied; let this user read it (e.g. chmod a+r)."
        ) from None
    except (av.error.FFmpegError, UnicodeDecodeError):
        if _looks_like_a_container(path):
            raise _truncated(path) from None
        raise NotAVideoError(
            f"{path}: not a video file FFmpeg can read; check it is the camera's recording."
        ) from None
    if container.format.name.endswith("_pipe"):  # FFmpeg's still-image readers: png_pipe, ...
        container.close()
        raise NotAVideoError(
            f"{path}: is a still image, not a video; use the camera's recording instead."
        )
    if not container.streams.video:
        container.close()
        raise NoVideoStreamError(
            f"{path}: has no video stream (audio only?); export the recording with its video."
        )
    return container


def probe_video(video_path: Path) -> VideoInfo:
    """Validate that `video_path` is a readable, decodable video and read its properties."""
    with open_video(video_path) as container:
        stream = container.streams.video[0]
        try:
            first = next(container.decode(stream))
        except (av.error.FFmpegError, StopIteration):
            raise _truncated(Path(video_path)) from None
        return _video_info(container, stream, first)


def duration_seconds(container: av.container.InputContainer) -> float:
    """The video's length as the container (else its video stream) states it; 0 if unknown."""
    stream = container.streams.video[0]
    if container.duration:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def _video_info(container: Any, stream: Any, first: av.VideoFrame) -> VideoInfo:
    duration = duration_seconds(container)
    rotation = round(first.rotation or 0) % 360
    width, height = stream.codec_context.width, stream.codec_context.height
    display = (height, width) if rotation in (90, 270) else (width, height)
    pix_fmt = stream.codec_context.pix_fmt or ""
    depth = 10 if "10" in pix_fmt else 12 if "12" in pix_fmt else 8
    rate = stream.average_rate or stream.guessed_rate
    recorded = _recording_time(container.metadata, stream.metadata)
    return VideoInfo(
        duration_seconds=round(duration, 3),
        fps=round(float(rate), 3) if rate else 0.0,
        width=width,
        height=height,
        display_width=display[0],
        display_height=display[1],
        rotation=rotation,
        codec=stream.codec_context.name,
        pix_fmt=pix_fmt,
        bit_depth=depth,
        creation_time=recorded.isoformat() if recorded else None,
    )


# Where containers keep the recording's time, most telling first: Apple's tag carries the
# phone's own time zone; MP4/MOV `creation_time` (the file's, else the video track's) and
# Matroska's DATE tag are UTC.
_RECORDING_TIME_TAGS = ("com.apple.quicktime.creationdate", "creation_time", "DATE")


def _recording_time(*tag_sets: dict[str, str]) -> datetime | None:
    """The recording's time from container and stream tags, or None when none holds a time."""
    for name in _RECORDING_TIME_TAGS:
        for tags in tag_sets:
            stamp = _tag_time(tags.get(name, ""))
            if stamp is not None:
                return stamp
    return None


def _tag_time(text: str) -> datetime | None:
    """A tag's date and time; without a zone it is UTC, and a bare date is the café's day."""
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        return stamp
    if len(text.strip()) == len("2024-12-25"):
        return stamp.replace(tzinfo=get_settings().cafe_timezone)
    return stamp.replace(tzinfo=UTC)


# -- file names ---------------------------------------------------------------------------------


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


# -- YouTube metadata ---------------------------------------------------------------------------


def _clean(text: str) -> str:
    """YouTube rejects `<` and `>` in titles and descriptions."""
    return text.replace("<", "‹").replace(">", "›")


def _shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, at a space or between partners
    (never inside a name, unless one name alone is longer than `limit`)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    breaks = [cut.rfind(" "), cut.rfind("/")]
    if max(breaks) > 0:
        cut = cut[: max(breaks)]
    return cut.rstrip(" |/,-") + "…"


def _in_cafe_time(stamp: datetime) -> datetime:
    """`stamp` in the café's time zone (CAFE_TIMEZONE); a time without a zone is the café's."""
    cafe = get_settings().cafe_timezone
    return stamp.astimezone(cafe) if stamp.tzinfo else stamp.replace(tzinfo=cafe)


def recording_date(recorded_at: str) -> str:
    """`25 Dec 2024`: the day on the café's calendar (cameras store UTC; a match at 6 am in
    Vietnam is not on the day before, whatever zone the machine running this is set to)."""
    return _in_cafe_time(datetime.fromisoformat(recorded_at)).strftime("%d %b %Y").lstrip("0")


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
        texts = [forms[step] for forms, step in zip(names, shown, strict=True)]
        return _clean("/".join(texts[: len(team1)])), _clean("/".join(texts[len(team1) :]))

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
    cut = _shorten_words(_clean(tournament), room)
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
        first = _shorten(first, room - len(second))
    elif len(first) <= half:
        second = _shorten(second, room - len(first))
    else:
        first, second = _shorten(first, half), _shorten(second, room - half)
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


def build_description(values: dict[str, str]) -> str:
    """DESCRIPTION_TEMPLATE filled with the match's `template_values`."""
    return fit_description(fill_template(get_settings().description_template, values))


def fit_description(text: str) -> str:
    text = _clean(text)
    encoded = text.encode("utf-8")
    if len(encoded) <= DESCRIPTION_MAX_BYTES:
        return text
    return encoded[: DESCRIPTION_MAX_BYTES - 3].decode("utf-8", "ignore").rstrip() + "…"


def tags_length(tags: list[str]) -> int:
    """YouTube counts a tag with a space as if quoted, and a comma between tags."""
    return sum(len(tag) + (2 if " " in tag else 0) for tag in tags) + max(0, len(tags) - 1)


def build_tags(match_type: str, team1: list[str], team2: list[str], tournament: str) -> list[str]:
    tags = ["badminton", MATCH_TYPES[match_type], tournament, *team1, *team2, "cafe badminton"]
    return fit_tags(tags)


def fit_tags(tags: list[str]) -> list[str]:
    unique: list[str] = []
    for tag in tags:
        tag = _clean(tag).replace(",", " ").strip()
        if tag and tag.lower() not in (t.lower() for t in unique):
            unique.append(tag[: TAGS_MAX_CHARS - 2])
    while tags_length(unique) > TAGS_MAX_CHARS:
        unique.pop()
    return unique


# -- metadata -----------------------------------------------------------------------------------


@dataclass
class MatchMetadata:
    video_file: str
    match_type: str
    match_type_name: str
    team1: list[str]
    team2: list[str]
    tournament: str
    recorded_at: str
    duration_seconds: float
    fps: float
    width: int
    height: int
    rotation: int
    codec: str
    title: str
    description: str
    tags: list[str]
    category_id: str
    privacy_status: str
    publish_at: str | None = None  # the sidecar's schedule; None: PUBLISH_AT decides

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchMetadata:
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


_FIELD_TYPES = {f.name: f.type for f in fields(MatchMetadata)}
_DERIVED_TEXT = ("title", "description", "tags")


def _read_sidecar(video_path: Path) -> dict[str, Any]:
    sidecar = video_path.with_name(video_path.name + ".json")
    try:
        if not sidecar.is_file():
            return {}
    except OSError:  # the video's name is so long that no sidecar name fits beside it
        return {}
    try:
        # utf-8-sig: Windows editors may save the file with a byte-order mark
        data = json.loads(sidecar.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SidecarError(f"{sidecar}: not valid JSON ({error}); fix or remove it.") from None
    except OSError as error:
        raise SidecarError(
            f"{sidecar}: cannot be read ({error.strerror}); fix or remove it."
        ) from None
    if not isinstance(data, dict):
        raise SidecarError(
            f'{sidecar}: must hold a JSON object of metadata fields, e.g. {{"title": "Final"}}; '
            "fix or remove it."
        )
    unknown = sorted(set(data) - set(_FIELD_TYPES))
    if unknown:
        raise SidecarError(
            f"{sidecar}: unknown field(s) {', '.join(unknown)}; fix or remove it (allowed: "
            f"{', '.join(_FIELD_TYPES)})."
        )
    problems = [
        f"{key} {problem}"
        for key, value in data.items()
        if (problem := _sidecar_value_problem(key, value))
    ]
    if problems:
        raise SidecarError(f"{sidecar}: {'; '.join(problems)}; fix or remove it.")
    return data


# annotation -> (accepted JSON types, how the message calls it)
_SCALAR_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "str": ((str,), "a text"),
    "int": ((int,), "a whole number"),
    "float": ((int, float), "a number"),
}


def _sidecar_value_problem(key: str, value: Any) -> str | None:
    """What is wrong with a sidecar's value for `key`, or None when it can be used."""
    if key in ("team1", "team2", "tags"):
        names = isinstance(value, list) and all(isinstance(v, str) and clean_text(v) for v in value)
        if not names or (key != "tags" and not value):
            return "must be a list of names"
        return None
    if key == "publish_at":
        return publish_at_problem(value)
    accepted, kind = _SCALAR_TYPES[_FIELD_TYPES[key]]
    if isinstance(value, bool) or not isinstance(value, accepted):
        return f"must be {kind}"
    if key == "match_type" and value not in MATCH_TYPES:
        return f"must be one of {', '.join(MATCH_TYPES)}"
    if key == "privacy_status" and value not in PRIVACY_STATUSES:
        return f"must be one of {', '.join(PRIVACY_STATUSES)}"
    if key == "category_id" and not (value.isascii() and value.isdigit()):
        return f'must be a YouTube category number as text, e.g. "{CATEGORY_SPORTS}" (Sports)'
    if key == "recorded_at" and not _is_iso_time(value):
        return "must be a time like 2024-12-25T18:30:00+07:00"
    if key in ("title", "tournament") and not clean_text(value):  # nothing left once cleaned
        return "must not be empty"
    return None


def _is_iso_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _recorded_at(video_path: Path, info: VideoInfo) -> datetime:
    """When the match was filmed, in the café's time: the container's recording time, else the
    file's modification time."""
    if info.creation_time:
        return _in_cafe_time(datetime.fromisoformat(info.creation_time))
    return _in_cafe_time(datetime.fromtimestamp(video_path.stat().st_mtime, UTC))


def describe_match(video_path: Path, info: VideoInfo) -> MatchMetadata:
    """The video's metadata from its name, probe and sidecar, with YouTube's limits applied."""
    parsed = parse_file_name(video_path.name)
    overrides = _read_sidecar(video_path)
    values: dict[str, Any] = {
        "video_file": video_path.name,
        "match_type": parsed.match_type,
        "match_type_name": MATCH_TYPES[parsed.match_type],
        "team1": parsed.team1,
        "team2": parsed.team2,
        "tournament": parsed.tournament,
        "recorded_at": _recorded_at(video_path, info).isoformat(),
        "duration_seconds": info.duration_seconds,
        "fps": info.fps,
        "width": info.display_width,
        "height": info.display_height,
        "rotation": info.rotation,
        "codec": info.codec,
        "category_id": CATEGORY_SPORTS,
        "privacy_status": get_settings().video_privacy_status,
    }
    values.update({k: v for k, v in overrides.items() if k not in _DERIVED_TEXT})
    if "privacy_status" in overrides and "publish_at" not in overrides:
        values["publish_at"] = ""  # the sidecar's privacy holds: PUBLISH_AT would make it public
    if "match_type" in overrides and "match_type_name" not in overrides:
        values["match_type_name"] = MATCH_TYPES[values["match_type"]]
    date = recording_date(values["recorded_at"])
    args = (values["team1"], values["team2"], values["tournament"])
    values["title"] = build_title(*args, date)
    values["description"] = build_description(
        template_values(values["match_type_name"], *args, date)
    )
    values["tags"] = build_tags(values["match_type"], *args)
    if "title" in overrides:
        values["title"] = _shorten(_clean(str(overrides["title"])), TITLE_MAX_CHARS)
    if "description" in overrides:
        values["description"] = fit_description(str(overrides["description"]))
    if "tags" in overrides:
        values["tags"] = fit_tags(overrides["tags"])
    return MatchMetadata(**clean_metadata_text(values))


def prepare_single_video(video_path: Path) -> MatchMetadata:
    """Validate, probe and describe one video; write its workspace's metadata.json."""
    video_path = Path(video_path)
    parse_file_name(video_path.name)  # a misnamed file fails before any decoding
    metadata = describe_match(video_path, probe_video(video_path))
    directory = ensure_workspace(video_path)
    atomic_write_json(directory / METADATA_FILE, metadata.to_dict())
    log.info("prepared %s: %s", video_path.name, metadata.title)
    return metadata


def load_metadata(video_path: Path) -> MatchMetadata:
    name = Path(video_path).name
    path = workspace_dir(Path(video_path)) / METADATA_FILE
    if not path.is_file():
        raise MetadataMissingError(f"{name}: not prepared yet", Step.PREPARE)
    try:
        return MatchMetadata.from_dict(read_json(path))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise MetadataUnreadableError(
            f"{name}: {path} is unreadable ({error})", Step.PREPARE
        ) from None

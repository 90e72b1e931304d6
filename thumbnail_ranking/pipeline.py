"""Rank a video's frames as thumbnails and store the best as JPEGs plus candidates.json.

Examined: keyframes spread over the middle 80%, and where keyframes are sparse, frames between
them within a fixed decoding budget (sampling.py, between.py).

Scoring: each frame gets six measures in 0..1 (see metrics.py and people.py): sharpness, exposure,
contrast and colourfulness of the picture, and from the people found against the court's
background: activity (the near pair on court) and play (their stance against the video's usual
one, and whether they are spread over their half). score = the weighted sum below: play weighs
most, since a thumbnail sells the match, then the players on court and sharpness (a smeared
frame is useless however busy).

A frame where someone stands in front of the camera is left out, whatever its scores, and
counted in the summary; a frame whose near court someone close to the lens partly blocks ranks
after every clean frame of its kind.

Adaptive thresholds drop the worst frames of each video: exposure under
min(EXPOSURE_FLOOR, half the video's 75th percentile) (black and blown-out frames, yet a dim
café keeps its frames) and sharpness under SHARPNESS_RATIO x the 90th percentile of the
well-exposed frames (a blurred pan, yet a soft camera keeps its frames, and a video of uniformly
good frames loses none). When fewer than top_n frames pass, the best ones rejected for their
exposure alone make up the number, ranked after every passing frame; never a blurred frame, nor
one with nothing visible (exposure 0: black or blown out). Fewer than top_n candidates come with
one warning that says why.

Selection walks frames from the best score down and keeps one unless its perceptual hash is
within DUPLICATE_MAX_DISTANCE of a kept frame (a near-duplicate: never kept) or it is within
MIN_GAP_FRACTION of the examined span from a kept frame (kept only if places remain after a
first pass), so the set is spread over the match.

Each candidate records the people found (boxes as fractions of the frame, and which are players)
and every template's crop chosen from where the players are (thumbnail_enhancement.framing), so
that the chooser shows and enhance renders the same framing.

Crash safety of the stored set: JPEG names are `<rank>_<id>.jpg`; a name always denotes the same
frame, so rewriting one in place never changes what an existing manifest means. New JPEGs are
written (each atomically) before candidates.json is replaced atomically, and files it does not
list are deleted only after that. A crash at any point leaves a manifest whose files all exist;
the next run removes whatever the crash left over.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from errors import PipelineError, Remedy
from thumbnail_ranking.between import Keyframe, Run, budget_frames, plan_runs
from thumbnail_ranking.metrics import FrameMeasures, hash_distance, measure_frame
from thumbnail_ranking.people import NOBODY, FramePeople, Person, analyse_people
from thumbnail_ranking.sampling import (
    DecodeBudget,
    DecodedFrame,
    KeyframeReader,
    middle_span,
    sample_keyframes,
    scaled_size,
    target_times,
    to_upright_bgr,
)
from workspace import (
    CANDIDATES_DIR,
    CANDIDATES_FILE,
    atomic_write_bytes,
    atomic_write_json,
    ensure_workspace,
    read_json,
    workspace_dir,
)

log = logging.getLogger(__name__)
S = TypeVar("S")
U = TypeVar("U")

WEIGHTS = {
    "play": 0.30,
    "activity": 0.20,
    "sharpness": 0.20,
    "exposure": 0.10,
    "colourfulness": 0.10,
    "contrast": 0.10,
}
IN_FRONT_OF_CAMERA = "someone in front of the camera"
EXPOSURE_FLOOR = 0.35
SHARPNESS_RATIO = 0.8
DUPLICATE_MAX_DISTANCE = 20  # of 1152 hash bits; the same scene again differs by 0-5
MIN_GAP_FRACTION = 0.05
ANALYSIS_LONG_SIDE = 640  # frames are scored at this size: enough detail, little work
CANDIDATE_LONG_SIDE = 1920
# Videos whose `count` decoded frames fit in this (thirty 1080p 8-bit frames do; 10-bit or 4K
# ones do not) are decoded by DECODERS readers side by side and their frames kept for the JPEGs.
# Larger ones get one reader, and the chosen frames are decoded again: each 4K HEVC decoder
# holds about 180 MB, and the ranking must stay under 400 MB.
SMALL_FRAMES_MAX_BYTES = 128 * 2**20
DECODERS = 2
JPEG_QUALITY = 92


BoxTuple = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the frame
# Every template's crop of a frame of (width, height) pixels with these players' boxes.
Framing = Callable[[Sequence[BoxTuple], tuple[int, int]], dict[str, BoxTuple]]


def _no_crops(players: Sequence[BoxTuple], frame_size: tuple[int, int]) -> dict[str, BoxTuple]:
    return {}


@dataclass(frozen=True)
class RankingOptions:
    """What the settings and the other stages decide about ranking; its caller builds them."""

    frames_to_examine: int  # CANDIDATE_THUMBNAIL_NUM
    # the templates' framing (thumbnail_enhancement's): ranking knows no templates
    crops_for: Framing = _no_crops


class UndecodableVideoError(PipelineError):
    """Not one keyframe of the video could be decoded."""


class NothingVisibleError(PipelineError):
    """Every examined frame is black or blown out."""


class NothingOfferableError(PipelineError):
    """Every usable frame examined is left out (someone in front of the camera)."""


class CandidatesMissingError(PipelineError):
    """The video has no candidates.json yet."""


class CandidatesUnreadableError(CandidatesMissingError):
    """candidates.json exists but cannot be read."""


@dataclass
class Candidate:
    id: str
    rank: int  # 1 = best
    score: float  # 0..1
    metrics: dict[str, float]  # each 0..1, keys as in WEIGHTS (older manifests: fewer)
    timestamp: float  # seconds into the video
    file: str  # absolute path of the JPEG
    # who is where (None: ranked before people were found), and each template's crop
    people: list[Person] | None = None
    crops: dict[str, BoxTuple] = field(default_factory=dict)

    @property
    def players(self) -> list[BoxTuple] | None:
        return None if self.people is None else [p.box for p in self.people if p.player]


@dataclass(frozen=True)
class Ranking:
    candidates: list[Candidate]  # best first
    left_out: dict[str, int]  # frames never offered, by reason (IN_FRONT_OF_CAMERA)

    @property
    def left_out_text(self) -> str:
        """`2 frames left out: someone in front of the camera`, or empty."""
        return "; ".join(
            f"{count} frame{'s' if count != 1 else ''} left out: {reason}"
            for reason, count in self.left_out.items()
        )


@dataclass(frozen=True, eq=False)
class ExaminedFrame:
    pts: int  # finds the keyframe again for the full-size JPEG
    timestamp: float
    measures: FrameMeasures
    decoded: av.VideoFrame | None  # the full-size frame, when memory allowed keeping it


@dataclass(frozen=True, eq=False)
class ScoredFrame:
    frame: ExaminedFrame
    metrics: dict[str, float]
    score: float
    passed: bool  # cleared the per-video thresholds
    blurred: bool  # under the sharpness threshold: never offered
    people: FramePeople = NOBODY

    @property
    def left_out(self) -> str | None:
        """Why the frame is never offered, whatever its scores; None: it may be."""
        return IN_FRONT_OF_CAMERA if self.people.in_front else None

    @property
    def timestamp(self) -> float:
        return self.frame.timestamp


def candidate_id(video_path: Path, timestamp: float) -> str:
    """Unique across videos: a prefix from the file name, then the time in milliseconds."""
    prefix = hashlib.sha1(Path(video_path).name.encode("utf-8")).hexdigest()[:6]
    return f"{prefix}-{round(timestamp * 1000):08d}"


class _ProgressCounter:
    """Counts examined frames across the decoding threads; reports each one."""

    def __init__(self, total: int, report: Callable[[int, int], None] | None):
        self._total = total
        self._report = report
        self._done = 0
        self._lock = threading.Lock()

    def step(self) -> None:
        with self._lock:
            self._done = min(self._total, self._done + 1)
            self._send()

    def again(self) -> None:
        """Report the same count again: long decoding between two frames still reports."""
        with self._lock:
            self._send()

    def _send(self) -> None:
        if self._report:
            self._report(self._done, self._total)

    def finish(self) -> None:
        """Targets that found no frame had nothing to examine: the work is done."""
        if self._report:
            self._report(self._total, self._total)


@dataclass(frozen=True)
class Examination:
    frames: list[ExaminedFrame]  # in time order
    keyframes: int  # how many of `frames` are keyframes
    keyframe_seconds: float  # the average time from one keyframe to the next
    decoded_between: int  # frames decoded to reach the frames between keyframes
    budget_short: bool  # the decoding budget left slots of the middle 80% empty
    in_middle: bool  # False when no frame of the middle 80% could be examined
    reached_seconds: float | None  # then: how far into the clip the frames examined reach


def _in_parallel(
    reader: KeyframeReader, shares: list[S], work: Callable[[KeyframeReader, S], list[U]]
) -> list[U]:
    """`work(reader, share)` for each share in its own thread, results in order: the first
    share with `reader`, the others with a reader each that they open themselves, so that
    opening (parsing the file's index) overlaps the first one's decoding. PyAV and OpenCV
    release the GIL."""

    def run(index: int) -> list[U]:
        if index == 0:
            return work(reader, shares[0])
        with KeyframeReader(reader.path) as own_reader:
            return work(own_reader, shares[index])

    with ThreadPoolExecutor(max_workers=len(shares)) as pool:
        return [item for part in pool.map(run, range(len(shares))) for item in part]


def _split_by_cost(runs: list[Run], parts: int) -> list[list[Run]]:
    """Consecutive groups of `runs` of about equal expected decoding work."""
    total = sum(run.frames for run in runs)
    shares: list[list[Run]] = [[] for _ in range(parts)]
    done = 0
    for run in runs:
        share = min(parts - 1, int(parts * (done + run.frames / 2) / max(1, total)))
        shares[share].append(run)
        done += run.frames
    return [share for share in shares if share] or [[]]


def examine(
    reader: KeyframeReader,
    count: int,
    decoders: int,
    keep_decoded: bool,
    progress: Callable[[int, int], None] | None,
) -> Examination:
    """Decode and measure up to `count` frames spread over the middle 80%, in time order.

    First the keyframe at or before each of `count` times spread over it; when fewer than
    `count` of those fall in the middle 80% (keyframes are sparse there), frames between
    keyframes fill the slots they left empty, as far as the decoding budget reaches (see
    between.py). Keyframes before or after the middle 80% only serve to decode from, unless
    nothing in it could be examined: then the budget is spent on the start of the clip instead,
    the frames it reaches after the last keyframe before the middle 80%. `decoders` threads
    share each step; `progress` is called from them, one call at a time. With `keep_decoded`
    the decoded frames are kept so that the chosen ones need no second decoding.
    """
    duration = reader.duration_seconds
    span = middle_span(duration)
    counter = _ProgressCounter(count, progress)

    def measured(reader: KeyframeReader, decoded: DecodedFrame) -> ExaminedFrame:
        measures = measure_frame(reader.upright(decoded.frame, ANALYSIS_LONG_SIDE))
        counter.step()
        kept = decoded.frame if keep_decoded else None
        return ExaminedFrame(decoded.pts, decoded.timestamp, measures, kept)

    keyframes = _examine_keyframes(reader, target_times(duration, count), span, decoders, measured)
    inside = [frame for frame in keyframes if span[0] <= frame.timestamp <= span[1]]
    budget = DecodeBudget(budget_frames(reader.pixels), counter.again)

    def examine_runs(runs: list[Run]) -> list[ExaminedFrame]:
        def work(reader: KeyframeReader, share: list[Run]) -> list[ExaminedFrame]:
            return [
                measured(reader, decoded)
                for run in share
                for decoded in reader.frames_from(run.anchor.pts, run.targets, budget)
            ]

        return _in_parallel(reader, _split_by_cost(runs, decoders), work)

    between: list[ExaminedFrame] = []
    short = False
    if len(inside) < count:
        plan = plan_runs(
            span,
            count,
            [Keyframe(frame.pts, frame.timestamp) for frame in keyframes],
            [frame.timestamp for frame in inside],
            count - len(inside),
            budget.frames,
            reader.frame_seconds,
        )
        between = examine_runs(plan.runs)
        short = plan.short or budget.ran_out
    start = [frame for frame in keyframes if frame.timestamp < span[0]]
    in_middle = bool(inside or between)
    if in_middle:
        examined_keyframes, chosen = inside, [*inside, *between]
    elif start:  # the middle is out of reach: the same budget on the start of the clip
        runs = _start_plan(start[-1], count - len(start), budget, reader)
        examined_keyframes, chosen = start, [*start, *examine_runs(runs)]
    else:
        examined_keyframes, chosen = keyframes, keyframes
    counter.finish()
    frames = sorted({frame.pts: frame for frame in chosen}.values(), key=_pts)
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(keyframes)]
    return Examination(
        frames=frames,
        keyframes=len(examined_keyframes),
        keyframe_seconds=sum(gaps) / len(gaps) if gaps else duration,
        decoded_between=budget.spent,
        budget_short=short,
        in_middle=in_middle,
        reached_seconds=None if in_middle or not start else frames[-1].timestamp,
    )


def _start_plan(
    anchor: ExaminedFrame, room: int, budget: DecodeBudget, reader: KeyframeReader
) -> list[Run]:
    """Runs that spread `room` frames evenly over the frames that what is left of `budget`
    reaches after the keyframe `anchor` (which stands for the first of the room + 1 slots)."""
    left = budget.frames - budget.spent
    reach = (anchor.timestamp, anchor.timestamp + (left - 1) * reader.frame_seconds)
    keyframe = Keyframe(anchor.pts, anchor.timestamp)
    plan = plan_runs(
        reach, room + 1, [keyframe], [anchor.timestamp], room, left, reader.frame_seconds
    )
    return plan.runs


def _examine_keyframes(
    reader: KeyframeReader,
    times: list[float],
    span: tuple[float, float],
    decoders: int,
    measured: Callable[[KeyframeReader, DecodedFrame], ExaminedFrame],
) -> list[ExaminedFrame]:
    """The keyframes for `times`, in time order; each decoder takes a consecutive share of the
    times (shares can meet on one keyframe, kept once)."""
    bounds = [index * len(times) // decoders for index in range(decoders + 1)]
    shares = [
        (times[low:high], times[high] if high < len(times) else span[1])
        for low, high in itertools.pairwise(bounds)
    ]

    def examine_share(
        reader: KeyframeReader, share: tuple[list[float], float]
    ) -> list[ExaminedFrame]:
        return [measured(reader, keyframe) for keyframe in sample_keyframes(reader, *share)]

    found = {frame.pts: frame for frame in _in_parallel(reader, shares, examine_share)}
    if not found:
        raise UndecodableVideoError(
            f"{reader.path.name}: no frame of the video could be decoded: re-export or "
            "re-copy the file from the camera"
        )
    return sorted(found.values(), key=_pts)


def _pts(frame: ExaminedFrame) -> int:
    return frame.pts


def score_frames(frames: list[ExaminedFrame]) -> list[ScoredFrame]:
    """Apply the per-video thresholds and compute every frame's metrics and score."""
    measures = [frame.measures for frame in frames]
    exposure = np.array([m.exposure for m in measures])
    sharpness = np.array([m.sharpness for m in measures])
    exposure_ok = exposure >= min(EXPOSURE_FLOOR, 0.5 * np.percentile(exposure, 75))
    considered = sharpness[exposure_ok] if exposure_ok.any() else sharpness
    sharp = sharpness >= SHARPNESS_RATIO * np.percentile(considered, 90)
    passed = exposure_ok & sharp & (exposure > 0)  # never a frame with nothing visible
    people = analyse_people([m.small for m in measures], list(passed))
    scored = []
    for index, (frame, measured, found) in enumerate(zip(frames, measures, people, strict=True)):
        metrics = {
            "sharpness": measured.sharpness,
            "exposure": measured.exposure,
            "contrast": measured.contrast,
            "colourfulness": measured.colourfulness,
            "activity": found.activity,
            "play": found.play,
        }
        metrics = {name: round(value, 4) for name, value in metrics.items()}
        score = round(sum(WEIGHTS[name] * value for name, value in metrics.items()), 4)
        scored.append(
            ScoredFrame(frame, metrics, score, bool(passed[index]), not bool(sharp[index]), found)
        )
    return scored


def select_top(frames: list[ScoredFrame], top_n: int) -> list[ScoredFrame]:
    """The best `top_n` frames, no two near-duplicates, spread in time; best first."""
    ordered = sorted((frame for frame in frames if frame.left_out is None), key=_rank_order)
    passing = [frame for frame in ordered if frame.passed]
    dim = [frame for frame in ordered if not frame.passed and _offerable(frame)]
    fallback = dim[: max(0, top_n - len(passing))]
    times = [frame.timestamp for frame in frames] or [0.0]
    min_gap = MIN_GAP_FRACTION * (max(times) - min(times))
    kept: list[ScoredFrame] = []
    for pool in (passing, fallback):
        for spread_in_time in (True, False):
            for frame in pool:
                if len(kept) == top_n:
                    return sorted(kept, key=_rank_order)
                if frame in kept or any(_duplicates(frame, other) for other in kept):
                    continue
                if spread_in_time and any(_too_close(frame, other, min_gap) for other in kept):
                    continue
                kept.append(frame)
    return sorted(kept, key=_rank_order)


def _offerable(frame: ScoredFrame) -> bool:
    """Something is visible and it is not blurred: it may make up the number of candidates."""
    return frame.metrics["exposure"] > 0 and not frame.blurred


def _rank_order(frame: ScoredFrame) -> tuple[bool, bool, float, float]:
    return (not frame.passed, frame.people.blocked, -frame.score, frame.timestamp)


def _duplicates(frame: ScoredFrame, other: ScoredFrame) -> bool:
    distance = hash_distance(frame.frame.measures.hash, other.frame.measures.hash)
    return distance <= DUPLICATE_MAX_DISTANCE


def _too_close(frame: ScoredFrame, other: ScoredFrame, min_gap: float) -> bool:
    return abs(frame.timestamp - other.timestamp) < min_gap


def encode_jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    return data.tobytes()


def write_jpeg(path: Path, image: np.ndarray) -> None:
    atomic_write_bytes(path, encode_jpeg(image))


def write_candidate_images(
    reader: KeyframeReader, chosen: list[ScoredFrame], folder: Path, crops_for: Framing
) -> list[Candidate]:
    """Decode the chosen keyframes at full size (at most CANDIDATE_LONG_SIDE) and write JPEGs.

    Two threads convert, encode and write them while the next frame is decoded.
    """
    video_path = reader.path
    candidates = []
    converters = threading.local()  # a reformatter keeps its scaler: one each thread

    def write_upright(path: Path, frame: av.VideoFrame) -> None:
        if not hasattr(converters, "reformatter"):
            converters.reformatter = VideoReformatter()
        write_jpeg(path, to_upright_bgr(frame, CANDIDATE_LONG_SIDE, converters.reformatter))

    def framed(scored: ScoredFrame, frame: av.VideoFrame) -> dict[str, BoxTuple]:
        width, height = scaled_size(frame.width, frame.height, CANDIDATE_LONG_SIDE)
        if round(frame.rotation / 90) % 2:
            width, height = height, width
        players = [person.box for person in scored.people.people if person.player]
        return crops_for(players, (width, height))

    with ThreadPoolExecutor(max_workers=2) as writers:
        jobs = []
        for rank, scored in enumerate(chosen, start=1):
            frame = scored.frame.decoded
            if frame is None:
                frame = reader.frame_at(scored.frame.pts)
            if frame is None:  # it decoded moments ago, so the file changed meanwhile
                raise RuntimeError(f"{video_path.name} changed while it was being ranked")
            identifier = candidate_id(video_path, scored.timestamp)
            path = folder / f"{rank:02d}_{identifier}.jpg"
            jobs.append(writers.submit(write_upright, path, frame))
            candidates.append(
                Candidate(
                    id=identifier,
                    rank=rank,
                    score=scored.score,
                    metrics=scored.metrics,
                    timestamp=round(scored.timestamp, 3),
                    file=str(path.resolve()),
                    people=list(scored.people.people),
                    crops=framed(scored, frame),
                )
            )
        for job in jobs:
            job.result()
    return candidates


def store_candidates(
    reader: KeyframeReader,
    chosen: list[ScoredFrame],
    left_out: Mapping[str, int],
    crops_for: Framing,
) -> list[Candidate]:
    """Write the JPEGs, then the manifest, then remove files no manifest lists any more."""
    workspace = ensure_workspace(reader.path)
    folder = workspace / CANDIDATES_DIR
    candidates = write_candidate_images(reader, chosen, folder, crops_for)
    manifest = {
        "video_file": reader.path.name,
        "candidates": [
            {**asdict(c), "file": f"{CANDIDATES_DIR}/{Path(c.file).name}"} for c in candidates
        ],
        "left_out": dict(left_out),
    }
    atomic_write_json(workspace / CANDIDATES_FILE, manifest)
    listed = {Path(c.file).name for c in candidates}
    for leftover in folder.iterdir():
        if leftover.name not in listed and leftover.is_file():
            leftover.unlink()
    return candidates


def rank_and_store_top_candidates(
    video_path: Path,
    top_n: int,
    options: RankingOptions,
    progress: Callable[[int, int], None] | None = None,
) -> Ranking:
    """Examine `options.frames_to_examine` frames, store the best `top_n` (best first), and
    count the frames left out whatever their scores.

    `progress(done, total)` is called after each examined frame, from the decoding threads (one
    call at a time), during long decoding with the count unchanged, and once more with
    done == total at the end. Fewer than `top_n` candidates, or candidates from outside the
    middle 80% (out of the decoding budget's reach), come with one warning saying why.
    """
    video_path = Path(video_path)
    count = options.frames_to_examine
    with KeyframeReader(video_path) as reader:
        frame_bytes = reader.frame_bytes
        small = frame_bytes is not None and frame_bytes * count <= SMALL_FRAMES_MAX_BYTES
        examination = examine(reader, count, DECODERS if small else 1, small, progress)
        scored = score_frames(examination.frames)
        chosen = select_top(scored, top_n)
        left_out = Counter(frame.left_out for frame in scored if frame.left_out)
        if not chosen and left_out:
            raise NothingOfferableError(
                f"{video_path.name}: in every usable frame examined {IN_FRONT_OF_CAMERA} hides "
                "the court: check the recording, or trim it to the match"
            )
        if not chosen:
            raise NothingVisibleError(
                f"{video_path.name}: every examined frame is black or blown out (lens covered, "
                "lights off?): check the recording, or trim it to the match"
            )
        candidates = store_candidates(reader, chosen, left_out, options.crops_for)
    ranking = Ranking(candidates, dict(left_out))
    log.info(
        "%s: %d keyframes and %d frames between them examined (%d frames decoded to reach "
        "those), %d candidates kept, best at %.1fs (score %.2f)%s",
        video_path.name,
        examination.keyframes,
        len(examination.frames) - examination.keyframes,
        examination.decoded_between,
        len(candidates),
        candidates[0].timestamp,
        candidates[0].score,
        f"; {ranking.left_out_text}" if left_out else "",
    )
    if len(candidates) < top_n or not examination.in_middle:
        shortfall = f"{len(candidates)} thumbnail candidate(s) instead of {top_n}: "
        log.warning(
            "%s: %s%s",
            video_path.name,
            shortfall if len(candidates) < top_n else "",
            warning_reason(examination, scored, count, top_n),
        )
    return ranking


def warning_reason(
    examination: Examination, scored: list[ScoredFrame], count: int, top_n: int
) -> str:
    """Why the candidates come from outside the middle 80%, or else why fewer than `top_n`
    came of `count` frames to examine, for a person."""
    examined = len(scored)
    every = f"a keyframe every {examination.keyframe_seconds:.0f} s"
    if not examination.in_middle:
        out_of_reach = f"no frame of its middle 80% is within the decoding budget's reach ({every})"
        if examination.reached_seconds is None:
            return f"{out_of_reach}; the candidates come from outside it"
        return (
            f"{out_of_reach}, so the candidates come from the start of the clip, its first "
            f"{examination.reached_seconds:.1f} s, as far as the budget reaches"
        )
    if examined < top_n:
        if count < top_n:
            return f"CANDIDATE_THUMBNAIL_NUM is {count}: only that many frames are examined"
        if examination.budget_short:
            return (
                f"{every}, and within the decoding budget only {examined} frame(s) of its "
                "middle 80% could be examined"
            )
        return f"its middle 80% holds only {examined} frame(s)"
    invisible = sum(1 for frame in scored if frame.metrics["exposure"] == 0)
    blurred = sum(1 for frame in scored if frame.metrics["exposure"] > 0 and frame.blurred)
    hidden = sum(1 for frame in scored if _offerable(frame) and frame.left_out)
    if examined - invisible - blurred - hidden < top_n:
        in_front = f", {hidden} have {IN_FRONT_OF_CAMERA}" if hidden else ""
        return (
            f"of the {examined} frames examined, {invisible} are black or blown out{in_front} "
            f"and {blurred} are blurred"
        )
    return f"the {examined} frames examined look alike (a still scene?)"


def load_candidates(video_path: Path, workspace: Path | None = None) -> list[Candidate]:
    """The stored candidates of a video, best first, with absolute file paths (in `workspace`
    when it is not the video's own, e.g. archived)."""
    workspace = workspace or workspace_dir(video_path)
    manifest = workspace / CANDIDATES_FILE
    name = Path(video_path).name
    if not manifest.is_file():
        raise CandidatesMissingError(f"{name}: no thumbnail candidates yet", Remedy.RANK)
    try:
        entries = read_json(manifest)["candidates"]
        candidates = [
            Candidate(
                id=str(entry["id"]),
                rank=int(entry["rank"]),
                score=float(entry["score"]),
                metrics={key: float(value) for key, value in entry["metrics"].items()},
                timestamp=float(entry["timestamp"]),
                file=str((workspace / entry["file"]).resolve()),
                people=_people(entry.get("people")),
                crops=box_map(entry.get("crops", {})),
            )
            for entry in entries
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CandidatesUnreadableError(
            f"{name}: {manifest} is unreadable ({error})", Remedy.RANK
        ) from None
    return sorted(candidates, key=lambda c: c.rank)


def box_of(values: object) -> BoxTuple:
    """Four fractions of a frame, as a manifest stores a box; ValueError when they are not."""
    x0, y0, x1, y1 = (float(value) for value in values)  # type: ignore[union-attr]
    if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
        raise ValueError(f"not a box inside the frame: {values}")
    return x0, y0, x1, y1


def box_map(entries: Mapping[str, object]) -> dict[str, BoxTuple]:
    return {str(name): box_of(values) for name, values in entries.items()}


def _people(entries: list[dict] | None) -> list[Person] | None:
    if entries is None:  # ranked before people were found
        return None
    return [Person(box_of(entry["box"]), str(entry["role"])) for entry in entries]

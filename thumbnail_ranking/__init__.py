"""Find a video's best thumbnail candidates: sample frames, score them, store the top ones.

The package is the stage's face: `rank_and_store_top_candidates` here reads
CANDIDATE_THUMBNAIL_NUM from the settings; the modules below it read no settings.
"""

from collections.abc import Callable
from pathlib import Path

from config import get_settings
from thumbnail_ranking import pipeline
from thumbnail_ranking.pipeline import (
    Candidate,
    CandidatesMissingError,
    CandidatesUnreadableError,
    RankingOptions,
    load_candidates,
)
from thumbnail_ranking.previews import preview_jpeg as preview_jpeg

__all__ = [
    "Candidate",
    "CandidatesMissingError",
    "CandidatesUnreadableError",
    "RankingOptions",
    "load_candidates",
    "rank_and_store_top_candidates",
]


def rank_and_store_top_candidates(
    video_path: Path, top_n: int, progress: Callable[[int, int], None] | None = None
) -> list[Candidate]:
    """Examine CANDIDATE_THUMBNAIL_NUM frames of the video, store the best `top_n`; best first
    (see `pipeline.rank_and_store_top_candidates`)."""
    options = RankingOptions(frames_to_examine=get_settings().candidate_thumbnail_num)
    return pipeline.rank_and_store_top_candidates(video_path, top_n, options, progress)

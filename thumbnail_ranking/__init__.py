"""Find a video's best thumbnail candidates: sample frames, score them, store the top ones.

The package is the stage's face: `rank_and_store_top_candidates` here reads
CANDIDATE_THUMBNAIL_NUM from the settings and gives the ranking every template's framing; the
modules below it read no settings and know no templates.
"""

from collections.abc import Callable
from pathlib import Path

from config import get_settings
from thumbnail_enhancement.templates import crops_for
from thumbnail_ranking import pipeline
from thumbnail_ranking.pipeline import (
    Candidate,
    CandidatesMissingError,
    CandidatesUnreadableError,
    Ranking,
    RankingOptions,
    load_candidates,
)
from thumbnail_ranking.previews import preview_jpeg as preview_jpeg

__all__ = [
    "Candidate",
    "CandidatesMissingError",
    "CandidatesUnreadableError",
    "Ranking",
    "RankingOptions",
    "load_candidates",
    "rank_and_store_top_candidates",
]


def rank_and_store_top_candidates(
    video_path: Path, top_n: int, progress: Callable[[int, int], None] | None = None
) -> Ranking:
    """Examine CANDIDATE_THUMBNAIL_NUM frames of the video, store the best `top_n` (best first)
    and say which frames were left out (see `pipeline.rank_and_store_top_candidates`)."""
    options = RankingOptions(get_settings().candidate_thumbnail_num, crops_for)
    return pipeline.rank_and_store_top_candidates(video_path, top_n, options, progress)

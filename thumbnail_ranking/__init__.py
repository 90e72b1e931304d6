"""Find a video's best thumbnail candidates: sample frames, score them, store the top ones."""

from thumbnail_ranking.pipeline import (
    Candidate,
    CandidatesMissingError,
    CandidatesUnreadableError,
    Ranking,
    load_candidates,
    rank_and_store_top_candidates,
)
from thumbnail_ranking.previews import preview_jpeg as preview_jpeg

__all__ = [
    "Candidate",
    "CandidatesMissingError",
    "CandidatesUnreadableError",
    "Ranking",
    "load_candidates",
    "rank_and_store_top_candidates",
]

"""A candidate as the chooser shows it: its rank, score, time in the video, and its picture."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np


class RankedCandidate(Protocol):
    """What thumbnail_ranking.Candidate carries (typed here so the chooser need not import it)."""

    id: str
    rank: int
    score: float
    timestamp: float
    file: str


@dataclass(frozen=True, eq=False)
class SelectableCandidate:
    """`image` is a JPEG's path (on this machine), the JPEG itself as bytes (a preview that came
    from another machine), or an already decoded BGR image."""

    id: str
    rank: int
    score: float
    timestamp: float
    image: Path | bytes | np.ndarray = field(repr=False)

    @classmethod
    def from_ranked(cls, candidate: RankedCandidate) -> SelectableCandidate:
        return cls(
            candidate.id, candidate.rank, candidate.score, candidate.timestamp, Path(candidate.file)
        )

"""A candidate as the chooser shows it: its rank, score, time in the video, its picture, and the
part of it the thumbnail will show."""

from __future__ import annotations

from collections.abc import Mapping
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
    crops: Mapping[str, Crop]  # by template name

    @property
    def players(self) -> list[Crop] | None: ...


Crop = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the picture


@dataclass(frozen=True, eq=False)
class SelectableCandidate:
    """`image` is a JPEG's path (on this machine), the JPEG itself as bytes (a preview that came
    from another machine), or an already decoded BGR image. `crop` is the part of it that the
    thumbnail shows, which the large view shows; None: the whole picture."""

    id: str
    rank: int
    score: float
    timestamp: float
    image: Path | bytes | np.ndarray = field(repr=False)
    crop: Crop | None = None

    @classmethod
    def from_ranked(cls, candidate: RankedCandidate, template: str) -> SelectableCandidate:
        """The candidate with the crop of `template`, the one its thumbnail is rendered with."""
        return cls(
            candidate.id,
            candidate.rank,
            candidate.score,
            candidate.timestamp,
            Path(candidate.file),
            candidate.crops.get(template),
        )

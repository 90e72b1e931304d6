"""The headless choice, `--pick N`: the candidate of a rank. It loads no OpenCV, so a CLI that
picks without a window starts without it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from errors import PipelineError, Remedy


class RankOutOfRangeError(PipelineError):
    """`--pick N` names a rank that no candidate has."""


class HasRank(Protocol):
    id: str
    rank: int


def _ranks_text(ranks: Sequence[int]) -> str:
    ranks = sorted(ranks)
    if ranks == list(range(ranks[0], ranks[-1] + 1)) and len(ranks) > 2:
        return f"{ranks[0]}-{ranks[-1]}"
    return ", ".join(str(rank) for rank in ranks)


def pick_by_rank(candidates: Sequence[HasRank], rank: int) -> str:
    """The id of the candidate ranked `rank` (1 = best): the headless `--pick N`."""
    for candidate in candidates:
        if candidate.rank == rank:
            return candidate.id
    if not candidates:
        raise RankOutOfRangeError(
            f"--pick {rank}: there are no candidates to pick from", Remedy.RANK
        )
    raise RankOutOfRangeError(
        f"--pick {rank}: no candidate has rank {rank}; pick one of "
        f"{_ranks_text([c.rank for c in candidates])} (1 = best)"
    )

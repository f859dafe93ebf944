"""ComoRAG's memory pool: every ranked list a loop retrieved, fused by weighted reciprocal rank.

The pool is deduplicated by passage id (a passage is one entry however many lists hold it),
unlike ComoRAG's, whose duplicated pool entries inflate the contexts it reads (reference trap 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hippo.model import ProbeCycle, Why
from hippo.retrieval.base import RetrievalContext

__all__ = ["POOL_K", "W_FOCUS", "W_LAYER", "W_PROBE", "W_QUERY", "Loop", "RankedList", "fill_texts",
           "remember_texts"]

POOL_K = 10
"""Passages kept per retrieved list (the base method's top, and each layer's)."""
W_QUERY = 1.0
"""Fusion weight of the question's base list."""
W_PROBE = 0.1
"""Fusion weight of a probe's base list."""
W_FOCUS = 0.5
"""Fusion weight of a focused restatement of the question (see :func:`_focus`)."""
W_LAYER = 0.05
"""Multiplier of the fusion weight for a semantic or episodic list."""


@dataclass(frozen=True)
class RankedList:
    """One ranked list in the pool: passages with their whys, the probe that found them and its layer."""

    passage_ids: tuple[str, ...]
    whys: tuple[Why, ...]
    weight: float
    probe: str | None
    layer: str  # "veridical", "semantic" or "episodic"
    clusters: tuple[str, ...] = ()  # the clusters a layer list read, best first
    texts: tuple[str, ...] = ()  # passage texts (veridical lists), for cues and coverage


@dataclass(eq=False)
class Loop:
    """The state of one question's loop."""

    query: str
    k: int
    lists: list[RankedList] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)  # the question, then every probe
    cycles: list[ProbeCycle] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    stopped: str | None = None
    stale: bool = False  # the last probing cycle put no new passage into the top k
    focused: set[str] = field(default_factory=set)  # probes that restate the question (weighted W_FOCUS)
    answer: str | None = None
    missing: str = ""
    note: str | None = None

    def ranking(self) -> list[tuple[str, float, int]]:
        """(passage id, fused score, index of the list giving its largest share), best first."""
        scores: dict[str, float] = {}
        best: dict[str, tuple[float, int]] = {}
        for index, ranked in enumerate(self.lists):
            for rank, pid in enumerate(ranked.passage_ids):
                share = ranked.weight / (1.0 + rank)
                scores[pid] = scores.get(pid, 0.0) + share
                if pid not in best or share > best[pid][0]:
                    best[pid] = (share, index)
        order = sorted(scores, key=lambda p: -scores[p])  # stable: first retrieved wins ties
        return [(pid, scores[pid], best[pid][1]) for pid in order]

    def top(self, n: int) -> list[str]:
        return [pid for pid, _, _ in self.ranking()[:n]]


def remember_texts(loop: Loop, lists: Sequence[RankedList]) -> None:
    for li in lists:
        loop.texts.update(zip(li.passage_ids, li.texts))


def fill_texts(context: RetrievalContext, loop: Loop, passage_ids: Sequence[str]) -> None:
    missing = [p for p in passage_ids if p not in loop.texts]
    if missing:
        loop.texts.update({p: c.text for p, c in context.store.passage_context(missing).items()})

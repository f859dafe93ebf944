"""The recognition-memory fact filter of HippoRAG 2: an LLM keeps the facts that matter for a query.

``hipporag`` retrieval picks the top 5 facts by embedding similarity; this filter shows them
to the LLM with the question and keeps at most 4, in the model's order. The reply's facts
are mapped back to the candidates, first by exact match (ignoring case and spacing), then by
:func:`difflib.get_close_matches` with cutoff :data:`FUZZY_CUTOFF`.

Why not HippoRAG's cutoff 0: with cutoff 0 every string matches *some* candidate, so a fact the
model made up, or one it copied from the one-shot example, is silently swapped for the nearest
candidate and seeds the graph. At 0.75 a reply that differs from a candidate by case, a word of
the predicate or a dropped article still maps (ratios of about 0.85 and up), while a different
fact that merely shares an entity with a candidate (about 0.4 to 0.7) is dropped.

On by ``Settings.fact_filter = True`` when an LLM is configured; one request per query, all
queries of a batch concurrently, cached like every request.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence

from hippo.errors import LLMError
from hippo.llm.client import ChatRequest, LLMClient
from hippo.llm.prompts import FILTER_SCHEMA, filter_messages
from hippo.llm.replies import parse_json
from hippo.retrieval.base import FactFilterResult

__all__ = ["FUZZY_CUTOFF", "KEEP_MAX", "FactFilterLLM", "map_to_candidates"]

logger = logging.getLogger(__name__)

KEEP_MAX = 4
"""Facts kept at most (the prompt asks for up to 4, as HippoRAG 2's does)."""
FUZZY_CUTOFF = 0.75
"""Least :class:`difflib.SequenceMatcher` ratio for a reply fact to map to a candidate (see the module notes)."""
FILTER_MAX_TOKENS = 512

Triple = tuple[str, str, str]


def map_to_candidates(replied: object, candidates: Sequence[Triple], *, cutoff: float = FUZZY_CUTOFF,
                      limit: int = KEEP_MAX) -> tuple[int, ...]:
    """Indices of the candidates the reply's facts stand for, in reply order, without repeats.

    Items that are not three strings are ignored, as are facts that match no candidate.

    >>> cands = [("Ada Lindqvist", "founded", "Marren Observatory"), ("Ada Lindqvist", "born in", "Kettleby")]
    >>> map_to_candidates([["ada lindqvist", "born in", "Kettleby"], ["Ada Lindqvist", "founded", "Marren"]], cands)
    (1, 0)
    >>> map_to_candidates([["Tomas Vey", "discovered", "Comet Vey"]], cands)
    ()
    """
    if not isinstance(replied, list):
        return ()
    keys = [_key(c) for c in candidates]
    kept: list[int] = []
    for fact in replied:
        if not (isinstance(fact, list | tuple) and len(fact) == 3 and all(isinstance(x, str) for x in fact)):
            continue
        key = _key(fact)
        if key in keys:
            index = keys.index(key)
        else:
            close = difflib.get_close_matches(key, keys, n=1, cutoff=cutoff)
            if not close:
                logger.debug("fact filter: reply fact %r matches no candidate; dropped", fact)
                continue
            index = keys.index(close[0])
        if index not in kept:
            kept.append(index)
        if len(kept) >= limit:
            break
    return tuple(kept)


def _key(fact: Sequence[str]) -> str:
    return " | ".join(" ".join(part.casefold().split()) for part in fact)


class FactFilterLLM:
    """A :data:`~hippo.retrieval.base.FactFilter` backed by an LLM client."""

    def __init__(self, client: LLMClient) -> None:
        self.client = client

    def __call__(self, queries: Sequence[str], candidates: Sequence[Sequence[Triple]]) -> list[FactFilterResult]:
        asked = [i for i, c in enumerate(candidates) if c]
        requests = [ChatRequest(filter_messages(queries[i], candidates[i]), schema=FILTER_SCHEMA, schema_name="fact",
                                max_tokens=FILTER_MAX_TOKENS) for i in asked]
        results = [FactFilterResult() for _ in candidates]
        try:
            replies = self.client.chat_many(requests)
        except LLMError as exc:
            logger.warning("fact filter skipped for %d quer(ies): %s", len(asked), exc)
            for i in asked:
                results[i] = FactFilterResult(error=f"the fact filter failed: {exc}")
            return results
        for i, reply in zip(asked, replies):
            results[i] = self._judge(reply, candidates[i])
        return results

    @staticmethod
    def _judge(reply: object, candidates: Sequence[Triple]) -> FactFilterResult:
        if isinstance(reply, LLMError):
            return FactFilterResult(error=f"the fact filter failed: {reply}")
        try:
            data = parse_json(reply.text, truncated=reply.truncated)
        except LLMError as exc:
            logger.warning("fact filter reply unusable: %s", exc)
            return FactFilterResult(error=f"the fact filter reply was unusable: {exc}")
        if not isinstance(data, dict) or not isinstance(data.get("fact"), list):
            return FactFilterResult(error=f"the fact filter reply has no \"fact\" list: {str(data)[:80]!r}")
        return FactFilterResult(kept=map_to_candidates(data["fact"], candidates))

"""``dense``: cosine similarity between the query and the passage vectors (exact in the embedded store)."""

from __future__ import annotations

from collections.abc import Sequence

from hippo.model import Hit
from hippo.retrieval.base import RetrievalContext, make_hits
from hippo.stores.vectors import VectorTable

__all__ = ["passage_table", "retrieve_dense"]


def passage_table(context: RetrievalContext) -> VectorTable:
    """The passage vectors, read once per store version."""
    return context.cache.get("vectors.passage", lambda: context.store.vector_table("passage"))


def retrieve_dense(context: RetrievalContext, queries: Sequence[str], k: int) -> list[list[Hit]]:
    """Top ``k`` passages per query by cosine similarity (the vectors are unit length, so a dot product).

    All queries are embedded in one batch. The embedded store scores them with one matrix product
    over the cached passage matrix; a server store answers from its vector index
    (:meth:`~hippo.stores.base.GraphStore.nearest`).
    """
    found = context.store.nearest("passage", context.embedder().query(list(queries)), k,
                                  table=lambda: passage_table(context))
    return [make_hits(context, ids, scores, "dense") for ids, scores in found]

"""``dense``: exact cosine similarity between the query and every passage vector."""

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

    All queries are embedded in one batch and scored with one matrix product.
    """
    table = passage_table(context)
    if table.size == 0:
        return [[] for _ in queries]
    rows, scores = table.top(context.embedder().encode(list(queries)), k)
    return [make_hits(context, list(table.ids[r]), s, "dense") for r, s in zip(rows, scores)]

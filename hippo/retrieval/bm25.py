"""``bm25``: lexical retrieval with the bm25s library (Okapi BM25, English stop words, Snowball stemming)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hippo.model import Hit
from hippo.retrieval.base import RetrievalContext, make_hits

__all__ = ["Bm25Index", "retrieve_bm25"]


@dataclass(frozen=True)
class Bm25Index:
    """A bm25s index over every passage, with the passage id of each indexed row."""

    retriever: object
    passage_ids: np.ndarray


def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


def _tokenize(texts: Sequence[str], stemmer: object, *, ids: bool) -> object:
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=stemmer, show_progress=False, return_ids=ids)


def build_bm25(context: RetrievalContext) -> Bm25Index | None:
    """Index every passage's text; None for an empty store."""
    import bm25s

    ids, texts = [], []
    for passage in context.store.iter_passages():
        ids.append(passage.passage_id)
        texts.append(passage.text)
    if not ids:
        return None
    retriever = bm25s.BM25()
    retriever.index(_tokenize(texts, _stemmer(), ids=True), show_progress=False)
    return Bm25Index(retriever, np.array(ids, dtype=object))


def retrieve_bm25(context: RetrievalContext, queries: Sequence[str], k: int) -> list[list[Hit]]:
    """Top ``k`` passages per query by BM25 score; passages sharing no query term are not returned."""
    index = context.cache.get("bm25", lambda: build_bm25(context))
    if index is None:
        return [[] for _ in queries]
    tokens = _tokenize(queries, _stemmer(), ids=False)
    k = min(k, len(index.passage_ids))
    rows, scores = index.retriever.retrieve(tokens, k=k, show_progress=False)  # type: ignore[attr-defined]
    out = []
    for row, score in zip(rows, scores):
        keep = score > 0
        out.append(make_hits(context, list(index.passage_ids[row[keep]]), score[keep], "bm25"))
    return out

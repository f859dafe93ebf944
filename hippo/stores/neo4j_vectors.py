"""The Neo4j store's in-process copy of its vector matrices, read incrementally.

Ingest reads the whole entity and unit matrices once per batch (synonymy and association score
new records against all stored ones), and retrieval reads them once per store version. Over the
network that would grow quadratically with the corpus, so the rows already read are kept: vector
rows are append-only and a row's vector never changes (the embedded store's ``vec_row`` rule, see
``hippo.stores.vectors``), so only rows past the cached count are fetched, streamed record by
record into a float32 matrix. Which rows are live comes from the caller's fresh read of the owners.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hippo.model import Matrix

__all__ = ["FETCH_WINDOW", "OVERSAMPLE", "VectorRows", "best_candidates", "vector_rows"]

FETCH_WINDOW = 5_000
"""Rows fetched per query when catching up, so the rows in flight stay a few megabytes."""

OVERSAMPLE = 10
"""Candidates asked of the vector index per wanted neighbour. With 10x, re-ranked exactly, the dense top 10
on Neo4j 5.26 matched the embedded store's exact search on every demo question; with 1x it did not."""

Fetch = Callable[[int, int], Matrix]


class VectorRows:
    """Matrices of committed vector rows by kind, for one store."""

    def __init__(self) -> None:
        self._matrices: dict[str, Matrix] = {}
        self._created: dict[str, str] = {}
        self._lock = threading.Lock()

    def matrix(self, kind: str, dim: int, rows: int, fetch: Fetch, created_at: str) -> Matrix:
        """The first ``rows`` rows of ``kind``, fetching only those not read before.

        ``fetch(start, stop)`` returns rows ``start``..``stop - 1`` (zeros where no record owns a row).
        ``created_at`` is the store's creation stamp: a store dropped and created again under the same
        URI starts over, so nothing cached from the old one is reused.
        """
        with self._lock:
            cached = self._matrices.get(kind)
            if cached is None or cached.shape[1] != dim or len(cached) > rows or self._created.get(kind) != created_at:
                cached = np.zeros((0, dim), dtype=np.float32)
            parts = [cached]
            for start in range(len(cached), rows, FETCH_WINDOW):
                parts.append(fetch(start, min(start + FETCH_WINDOW, rows)))
            if len(parts) > 1:
                cached = np.concatenate(parts)
            self._matrices[kind] = cached
            self._created[kind] = created_at
            return cached[:rows]


def vector_rows(run: Callable[..., Any], query: str, start: int, stop: int, dim: int) -> Matrix:
    """Rows ``start``..``stop - 1`` of one kind from ``query`` (which yields ``vec_row, embedding``)."""
    out = np.zeros((stop - start, dim), dtype=np.float32)
    for row, vector in run(query, start=start, stop=stop):
        if vector is not None and start <= row < stop:
            out[row - start] = vector
    return out


def best_candidates(rows: Sequence[Sequence[Any]], queries: int, k: int) -> list[tuple[list[str], np.ndarray]]:
    """The ``k`` best of each query's candidates, best first: (ids, cosines) per query.

    ``rows`` are ``(query index, id, vec_row, score)`` with Neo4j's cosine score, ``(1 + cos) / 2``, which is
    turned back into the cosine so scores compare with the embedded store's. Equal scores keep row order
    (the embedded store's order for duplicates); a record the index returned twice counts once.

    >>> best_candidates([[0, "b", 1, 0.75], [0, "a", 0, 1.0], [0, "c", 2, 0.75], [1, "c", 2, 0.5]], 2, 2)
    [(['a', 'b'], array([1. , 0.5], dtype=float32)), (['c'], array([0.], dtype=float32))]
    """
    found: list[dict[str, tuple[float, int]]] = [{} for _ in range(queries)]
    for i, record_id, row, score in rows:
        found[int(i)][record_id] = (2.0 * float(score) - 1.0, -1 if row is None else int(row))
    out = []
    for candidates in found:
        best = sorted(candidates.items(), key=lambda item: (-item[1][0], item[1][1]))[:k]
        out.append(([record_id for record_id, _ in best], np.asarray([c for _, (c, _) in best], dtype=np.float32)))
    return out

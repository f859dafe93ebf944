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
from collections.abc import Callable
from typing import Any

import numpy as np

from hippo.model import Matrix

__all__ = ["FETCH_WINDOW", "VectorRows", "vector_rows"]

FETCH_WINDOW = 5_000
"""Rows fetched per query when catching up, so the rows in flight stay a few megabytes."""

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

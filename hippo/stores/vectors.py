"""Append-only float32 matrices on disk, one file per embedded kind.

Why this shape: the matrix must be readable without copying (``numpy.memmap``) and
writable without rewriting what is there, and it must never disagree with the SQLite
rows that point into it after a crash. So rows are only ever appended past the last
*committed* row count, which the store keeps in its SQLite ``meta`` table and updates
in the same transaction as the rows that reference the vectors, after the appended rows
are synced to disk. A crash after an append but before the commit leaves bytes past the
committed count; the next append simply overwrites them. Rows of deleted records stay in
the file until compaction; readers mask them out with the live-row map taken from the same
SQLite snapshot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hippo.model import Matrix

__all__ = ["VectorFile", "VectorTable"]


class VectorFile:
    """One append-only ``(rows, dim)`` float32 matrix stored raw in ``path``."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path = path
        self.dim = dim

    def write_rows(self, start_row: int, vectors: Matrix, *, sync: bool = True) -> None:
        """Write ``vectors`` at ``start_row`` (the committed row count), flushing them to disk.

        With ``sync=False`` the bytes reach the OS but not necessarily the disk: a caller writing
        many appends in one transaction calls :meth:`sync` once before its commit instead (one
        ``fsync`` per batch, not per document: at 3 ms each they were a tenth of a short batch).
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors have shape {vectors.shape}; this store holds {self.dim}-dimensional vectors.")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        mode = "r+b" if self.path.exists() else "w+b"
        with open(self.path, mode) as handle:
            handle.seek(start_row * self.dim * 4)
            handle.write(vectors.tobytes())
            handle.flush()
            if sync:
                os.fsync(handle.fileno())

    def sync(self) -> None:
        """Force every written row to disk (what :meth:`write_rows` with ``sync=False`` left to the caller)."""
        if self.path.exists():
            with open(self.path, "rb") as handle:
                os.fsync(handle.fileno())

    def read(self, rows: int) -> Matrix:
        """The first ``rows`` rows, memory-mapped read-only (an empty array when there are none)."""
        if rows == 0 or not self.path.exists():
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.memmap(self.path, dtype=np.float32, mode="r", shape=(rows, self.dim))


@dataclass(frozen=True)
class VectorTable:
    """The vectors of one kind with the id that owns each row.

    ``ids[row]`` is the owner's id, or ``""`` for a row freed by a deletion; ``live`` is
    the boolean mask of owned rows. Search code scores the whole matrix at once and
    masks dead rows, which is cheaper than compacting on every change.
    """

    ids: np.ndarray
    live: np.ndarray
    matrix: Matrix

    @property
    def size(self) -> int:
        return int(self.live.sum())

    def scores(self, queries: Matrix) -> np.ndarray:
        """Cosine scores, shape (n_queries, rows); dead rows get ``-inf``."""
        out = np.asarray(queries, dtype=np.float32) @ np.asarray(self.matrix).T
        out[:, ~self.live] = -np.inf
        return out

    def top(self, queries: Matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the ``k`` best live rows per query, best first; shapes (n_queries, <=k)."""
        scores = self.scores(queries)
        k = min(k, self.size)
        if k <= 0:
            empty = np.zeros((scores.shape[0], 0))
            return empty.astype(np.int64), empty
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        part_scores = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        rows = np.take_along_axis(part, order, axis=1)
        return rows, np.take_along_axis(part_scores, order, axis=1)

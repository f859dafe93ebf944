"""The embedded store's derived layers: MemGAS memory units and associations, ComoRAG clusters and layer info.

Separate from :mod:`hippo.stores.sqlite` because these tables are built after ingest from what it
stored, by the memory and layer builders alone; :class:`SQLiteLayers` is a mixin that writes and
reads them through the store's connection, transaction and vector files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hippo.model import Cluster, Matrix, Unit
from hippo.stores.base import ClusterEdges, MemoryEdges
from hippo.stores.rows import chunks, columns
from hippo.stores.sqlite_meta import write_meta

__all__ = ["SQLiteLayers"]


class SQLiteLayers:
    """Units and clusters of :class:`~hippo.stores.sqlite.SQLiteStore`, which supplies the connection and helpers."""

    # --- memory units (MemGAS) ---------------------------------------------------------
    def put_units(self, units: Sequence[Unit], vectors: Matrix) -> None:
        self._require_tx()
        if len(units) != len(vectors):
            raise ValueError(f"{len(units)} units but {len(vectors)} vectors.")
        rows = self.append_vectors("unit", vectors)
        self._conn.executemany(
            "INSERT INTO units(id, granularity, text, doc_id, time, vec_row, passage_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(u.id, u.granularity, u.text, u.doc_id, u.time, row, u.passage_id) for u, row in zip(units, rows)],
        )

    def put_associations(self, rows: Sequence[tuple[str, str, float]]) -> None:
        self._require_tx()
        self._conn.executemany("INSERT OR REPLACE INTO associations(a, b, weight) VALUES (?, ?, ?)", rows)

    def memory_edges(self) -> MemoryEdges:
        with self._lock, self.snapshot():
            units = self._conn.execute(
                "SELECT id, doc_id, granularity, COALESCE(passage_id, '') FROM units ORDER BY rowid").fetchall()
            associations = self._conn.execute("SELECT a, b, weight FROM associations").fetchall()
            passages = self._conn.execute("SELECT id, doc_id FROM passages").fetchall()
        return MemoryEdges(units=columns(units, 4), associations=columns(associations, 3),
                           passages=columns(passages, 2))

    def units(self, ids: Sequence[str]) -> dict[str, Unit]:
        out: dict[str, Unit] = {}
        with self._lock:
            for chunk in chunks(list(set(ids)), 500):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(
                    f"SELECT id, granularity, text, doc_id, time, passage_id FROM units WHERE id IN ({marks})", chunk
                ):
                    out[row[0]] = Unit(*row)
        return out

    def document_units(self, doc_id: str) -> list[Unit]:
        rows = self._all("SELECT id, granularity, text, doc_id, time, passage_id FROM units WHERE doc_id = ? "
                         "ORDER BY rowid", (doc_id,))
        return [Unit(*r) for r in rows]

    # --- layers (ComoRAG) ---------------------------------------------------------------
    def put_clusters(self, clusters: Sequence[Cluster], vectors: Matrix,
                     members: Sequence[tuple[str, str, float]]) -> None:
        self._require_tx()
        if len(clusters) != len(vectors):
            raise ValueError(f"{len(clusters)} clusters but {len(vectors)} vectors.")
        rows = self.append_vectors("cluster", vectors)
        self._conn.executemany(
            "INSERT INTO clusters(id, level, summary, vec_row) VALUES (?, ?, ?, ?)",
            [(c.id, c.level, c.summary, row) for c, row in zip(clusters, rows)],
        )
        self._conn.executemany(
            "INSERT OR REPLACE INTO cluster_members(cluster_id, passage_id, weight) VALUES (?, ?, ?)", members)

    def delete_clusters(self, ids: Sequence[str]) -> None:
        self._require_tx()
        for chunk in chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            self._conn.execute(f"DELETE FROM cluster_members WHERE cluster_id IN ({marks})", chunk)
            self._conn.execute(f"DELETE FROM clusters WHERE id IN ({marks})", chunk)

    def clusters(self, ids: Sequence[str]) -> dict[str, Cluster]:
        out: dict[str, Cluster] = {}
        with self._lock:
            for chunk in chunks(list(set(ids)), 500):
                marks = ",".join("?" * len(chunk))
                for row in self._conn.execute(f"SELECT id, level, summary FROM clusters WHERE id IN ({marks})", chunk):
                    out[row[0]] = Cluster(*row)
        return out

    def cluster_edges(self) -> ClusterEdges:
        with self._lock, self.snapshot():
            clusters = self._conn.execute("SELECT id, level FROM clusters ORDER BY rowid").fetchall()
            members = self._conn.execute("SELECT cluster_id, passage_id, weight FROM cluster_members").fetchall()
        return ClusterEdges(clusters=columns(clusters, 2), members=columns(members, 3))

    def layer_info(self) -> dict[str, Any]:
        stored = self._meta("layers")
        return json.loads(stored) if stored else {}

    def set_layer_info(self, info: dict[str, Any]) -> None:
        self._require_tx()
        write_meta(self._conn, {"layers": json.dumps(info)})

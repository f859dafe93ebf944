"""hippo records as Neo4j statement parameters and back, and the counters a write batch allocates from.

Pure functions with no driver: what goes into ``$rows`` is built here, from plain Python values only
(lists, never tuples, which the driver does not send), so it can be checked without a server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hippo.errors import StoreError
from hippo.model import Cluster, Document, Entity, Fact, Matrix, Passage, Unit
from hippo.stores.neo4j_cypher import ROW_KEYS

__all__ = [
    "BatchCounters",
    "Slot",
    "document_of",
    "document_row",
    "embedded_rows",
    "fact_of",
    "link_rows",
]

Slot = tuple[int, int, list[float]]
"""(vector row, insertion seq, vector) given to one new embedded record."""


@dataclass
class BatchCounters:
    """The counters one write batch allocates from, read from the meta node when it starts.

    Vector rows follow the embedded store's rule (per kind, appended after the committed rows), so both
    stores number the rows of the same ingest alike; ``seq`` is one store-wide insertion counter.
    """

    rows: dict[str, int]
    seq: int
    version: int
    embed_dim: int | None
    location: str = ""

    @classmethod
    def from_meta(cls, meta: dict[str, Any], location: str) -> BatchCounters:
        """The counters a meta node holds (``location`` names the store in messages)."""
        dim = meta.get("embed_dim")
        return cls(
            rows={kind: int(meta.get(key) or 0) for kind, key in ROW_KEYS.items()},
            seq=int(meta.get("seq") or 0),
            version=int(meta.get("version") or 0),
            embed_dim=None if dim is None else int(dim),
            location=location,
        )

    def seqs(self, count: int) -> list[int]:
        """The next ``count`` insertion numbers."""
        start = self.seq + 1
        self.seq += count
        return list(range(start, start + count))

    def slots(self, kind: str, vectors: Matrix, count: int) -> list[Slot]:
        """Rows, seqs and vectors for ``count`` new records of ``kind``, checking the vectors' shape."""
        if count != len(vectors):
            raise ValueError(f"{count} {kind} record(s) but {len(vectors)} vectors.")
        if count == 0:
            return []
        if self.embed_dim is None:
            raise StoreError(f"store {self.location} has no embedding dimension yet; nothing has been embedded.")
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.embed_dim:
            raise ValueError(
                f"vectors have shape {vectors.shape}; this store holds {self.embed_dim}-dimensional vectors."
            )
        start = self.rows[kind]
        self.rows[kind] = start + count
        return list(zip(range(start, start + count), self.seqs(count), vectors.tolist()))

    def meta(self, settings_json: str) -> dict[str, Any]:
        """What the meta node records when the batch commits (``writer`` cleared)."""
        return {
            **{ROW_KEYS[kind]: n for kind, n in self.rows.items()},
            "seq": self.seq,
            "version": self.version + 1,
            "writer": None,
            "settings": settings_json,
        }


def document_row(document: Document, seq: int) -> dict[str, Any]:
    return {
        "id": document.id,
        "source": document.source,
        "file": document.metadata.get("file"),
        "title": document.title,
        "content_hash": document.content_hash,
        "added_at": float(document.added_at),
        "metadata": json.dumps(document.metadata, ensure_ascii=False),
        "timestamp": document.timestamp,
        "seq": seq,
    }


def document_of(props: dict[str, Any]) -> Document:
    """A document from its node's property map (``properties(d)``); absent optional properties are None."""
    return Document(
        id=props["id"],
        source=props["source"],
        title=props.get("title"),
        content_hash=props["content_hash"],
        added_at=props["added_at"],
        metadata=json.loads(props.get("metadata") or "{}"),
        timestamp=props.get("timestamp"),
    )


def fact_of(row: Sequence[Any]) -> Fact:
    """A fact from ``id, subject_id, predicate, object_id, subject display, object display, [passage ids]``."""
    return Fact(row[0], row[1], row[2], row[3], row[4], row[5], tuple(row[6]))


def _fields(record: Passage | Entity | Fact | Unit | Cluster) -> dict[str, Any]:
    if isinstance(record, Passage):
        return {
            "id": record.id,
            "doc_id": record.doc_id,
            "position": int(record.position),
            "text": record.text,
            "content_hash": record.content_hash,
            "key": record.key,
            "time": record.time,
        }
    if isinstance(record, Entity):
        return {"id": record.id, "name": record.name, "display": record.display, "label": record.label}
    if isinstance(record, Fact):
        return {
            "id": record.id,
            "subject_id": record.subject_id,
            "predicate": record.predicate,
            "object_id": record.object_id,
        }
    if isinstance(record, Unit):
        return {
            "id": record.id,
            "granularity": record.granularity,
            "text": record.text,
            "doc_id": record.doc_id,
            "time": record.time,
            "passage_id": record.passage_id,
        }
    return {"id": record.id, "level": int(record.level), "summary": record.summary}


def embedded_rows(
    records: Sequence[Passage | Entity | Fact | Unit | Cluster], slots: Sequence[Slot]
) -> list[dict[str, Any]]:
    """One ``$rows`` entry per record: its fields plus ``vec_row``, ``seq`` and ``embedding`` from its slot."""
    return [
        {**_fields(r), "vec_row": row, "seq": seq, "embedding": vector}
        for r, (row, seq, vector) in zip(records, slots, strict=True)
    ]


def link_rows(names: tuple[str, ...], rows: Sequence[Sequence[Any]], seqs: Sequence[int]) -> list[dict[str, Any]]:
    """Edge rows (mentions, provenance) as maps with their insertion seq.

    >>> link_rows(("passage_id", "entity_id"), [("p-1", "e-1")], [7])
    [{'passage_id': 'p-1', 'entity_id': 'e-1', 'seq': 7}]
    """
    return [{**dict(zip(names, row, strict=True)), "seq": seq} for row, seq in zip(rows, seqs, strict=True)]

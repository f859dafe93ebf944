"""The data model shared by every store, retrieval method and surface.

Records are frozen dataclasses so they can cross module boundaries without being
changed on the way. Ids are short content hashes with a kind prefix (``d-``, ``p-``,
``e-``, ``f-``) so they are stable across runs and readable in logs; matrix rows are
plain ints and never mixed up with ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Answer",
    "Cluster",
    "Document",
    "Entity",
    "Fact",
    "Hit",
    "IndexReport",
    "Matrix",
    "Passage",
    "Skip",
    "Source",
    "Unit",
    "Vector",
    "Why",
    "content_hash",
    "make_id",
]

Vector = npt.NDArray[np.float32]
"""One L2-normalised embedding, shape (dim,)."""
Matrix = npt.NDArray[np.float32]
"""Row-stacked embeddings, shape (n, dim)."""


def content_hash(text: str) -> str:
    """Hex sha1 of ``text``; what decides whether a document or passage changed."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def make_id(prefix: str, *parts: str) -> str:
    """A stable id ``<prefix>-<16 hex>`` from ``parts`` (joined with a separator that cannot occur in text)."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return f"{prefix}-{digest[:16]}"


@dataclass(frozen=True)
class Document:
    """One indexed document: a file, a corpus record, a text added from Python, or a session."""

    id: str
    source: str
    title: str
    content_hash: str
    added_at: float
    metadata: dict[str, Any] = field(default_factory=dict)
    timestamp: str | None = None


@dataclass(frozen=True)
class Passage:
    """A chunk of a document: the unit retrieval returns."""

    id: str
    doc_id: str
    position: int
    text: str
    content_hash: str


@dataclass(frozen=True)
class Entity:
    """A graph node for a thing named in the text; ``id`` hashes the normalised ``name``."""

    id: str
    name: str
    display: str
    label: str | None = None


@dataclass(frozen=True)
class Fact:
    """A subject-predicate-object triple over two entities, with the passages that state it."""

    id: str
    subject_id: str
    predicate: str
    object_id: str
    subject: str
    object: str
    passage_ids: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The readable form that is embedded and shown: ``subject predicate object``."""
        return f"{self.subject} {self.predicate} {self.object}"


@dataclass(frozen=True)
class Unit:
    """A MemGAS memory unit at one granularity (document/session, passage/turn, summary, keywords)."""

    id: str
    granularity: str
    text: str
    doc_id: str
    time: str | None = None


@dataclass(frozen=True)
class Cluster:
    """A node of the semantic layer: a soft cluster of passages with a summary."""

    id: str
    level: int
    summary: str


@dataclass(frozen=True)
class Why:
    """Why a hit was returned: what seeded it and what the method did."""

    seed_entities: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    probe: str | None = None
    fallback: str | None = None


@dataclass(frozen=True)
class Hit:
    """One retrieved passage, the same shape for every retrieval method."""

    passage_id: str
    doc_id: str
    text: str
    score: float
    method: str
    title: str = ""
    source: str = ""
    why: Why = field(default_factory=Why)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class Source:
    """A sentence used in an answer and where it came from."""

    sentence: str
    passage_id: str
    doc_id: str
    title: str
    source: str
    score: float


@dataclass(frozen=True)
class Answer:
    """An answer to a question: its text, how it was made, and its evidence."""

    question: str
    text: str
    mode: str
    sources: tuple[Source, ...]
    hits: tuple[Hit, ...]

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class Skip:
    """A file or record that was not indexed, and why."""

    path: str
    reason: str


@dataclass
class IndexReport:
    """What one indexing run did; printed as the CLI summary and returned by ``kg.index``."""

    files_read: int = 0
    files_unchanged: int = 0
    documents_added: int = 0
    documents_replaced: int = 0
    documents_removed: int = 0
    documents_unchanged: int = 0
    passages: int = 0
    entities: int = 0
    facts: int = 0
    seconds: float = 0.0
    skipped: list[Skip] = field(default_factory=list)
    extraction_failures: list[Skip] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    llm_usage: dict[str, int] = field(default_factory=dict)

    def skip_counts(self) -> dict[str, int]:
        """Skips counted by reason (the text before the first colon)."""
        counts: dict[str, int] = {}
        for skip in self.skipped:
            key = skip.reason.split(":", 1)[0]
            counts[key] = counts.get(key, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["skip_counts"] = self.skip_counts()
        return data

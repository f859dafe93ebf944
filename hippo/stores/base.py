"""``GraphStore``: the one storage seam. The embedded SQLite store and Neo4j sit behind it.

Retrieval and ingest code only ever talk to this interface, so they never branch on the
store kind. Writes happen inside :meth:`GraphStore.transaction`: one ingest batch, one
transaction, landing whole or not at all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from hippo.config import Settings
from hippo.model import Document, Matrix, Passage
from hippo.stores.vectors import VectorTable

__all__ = ["DocumentSummary", "GraphStore", "PassageContext"]


@dataclass(frozen=True)
class DocumentSummary:
    """A document with the counts shown by ``hippo docs``."""

    document: Document
    passages: int


@dataclass(frozen=True)
class PassageContext:
    """What a hit shows of a passage: its text and its document's title and source."""

    passage_id: str
    doc_id: str
    text: str
    title: str
    source: str
    position: int


class GraphStore(ABC):
    """Storage for documents, passages, the graph and the vectors of one embedding model."""

    location: str
    settings: Settings

    # --- lifecycle -------------------------------------------------------------------
    @abstractmethod
    def close(self) -> None:
        """Release connections and locks."""

    @abstractmethod
    def version(self) -> int:
        """A counter that changes with every committed write; keys the derived-state caches."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One write batch: everything written inside lands together or not at all."""

    @abstractmethod
    def set_embedding_dim(self, dim: int) -> None:
        """Record the embedding dimension on first use; refuse a different one later."""

    # --- files and documents ---------------------------------------------------------
    @abstractmethod
    def file_hash(self, path: str) -> str | None:
        """Content hash of ``path`` when it was last indexed, or None."""

    @abstractmethod
    def set_file(self, path: str, content_hash: str, size: int) -> None:
        """Remember that ``path`` was indexed with this content."""

    @abstractmethod
    def forget_file(self, path: str) -> None:
        """Drop the record of an indexed file (its documents are deleted separately)."""

    @abstractmethod
    def documents_of_file(self, path: str) -> dict[str, Document]:
        """Documents that came from ``path``, by source."""

    @abstractmethod
    def document(self, doc_id: str) -> Document | None:
        """One document by id."""

    @abstractmethod
    def find_documents(self, ref: str) -> list[Document]:
        """Documents matching ``ref``: an id, an exact source, or a file path (all its records)."""

    @abstractmethod
    def list_documents(self) -> list[DocumentSummary]:
        """Every document with its passage count, in the order they were added."""

    @abstractmethod
    def put_document(self, document: Document, passages: Sequence[Passage], vectors: Matrix) -> None:
        """Insert a document with its passages and their vectors (row i of ``vectors`` is passage i)."""

    @abstractmethod
    def delete_document(self, doc_id: str) -> int:
        """Delete a document, its passages and every record that only they supported; return passages removed."""

    # --- passages and vectors ----------------------------------------------------------
    @abstractmethod
    def passage_context(self, passage_ids: Sequence[str]) -> dict[str, PassageContext]:
        """Text, title and source of each passage id that exists."""

    @abstractmethod
    def iter_passages(self) -> Iterator[PassageContext]:
        """Every passage, in insertion order; streams, so memory stays bounded."""

    @abstractmethod
    def vectors_by_hash(self, hashes: Sequence[str]) -> dict[str, Matrix]:
        """Stored passage vectors for these content hashes (to reuse instead of re-embedding)."""

    @abstractmethod
    def vector_table(self, kind: str) -> VectorTable:
        """The matrix of one embedded kind (``passage``, ``entity``, ``fact``, ...) with its row owners."""

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Number of records of each kind."""

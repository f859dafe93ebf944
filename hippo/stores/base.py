"""``GraphStore``: the one storage seam. The embedded SQLite store and Neo4j sit behind it.

Retrieval and ingest code only ever talk to this interface, so they never branch on the
store kind. Writes happen inside :meth:`GraphStore.transaction`: one ingest batch, one
transaction, landing whole or not at all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from hippo.config import Settings
from hippo.errors import EmbeddingModelMismatch
from hippo.model import Cluster, Document, Entity, Fact, Matrix, Passage, Unit
from hippo.stores.vectors import VectorTable

__all__ = ["ClusterEdges", "DocumentSummary", "GraphStore", "MemoryEdges", "PassageContext", "stored_settings_with"]


@dataclass(frozen=True)
class DocumentSummary:
    """A document with the counts shown by ``hippo docs``."""

    document: Document
    passages: int


@dataclass(frozen=True)
class PassageContext:
    """What a hit shows of a passage: its text and its document's title and source (and its own key and time)."""

    passage_id: str
    doc_id: str
    text: str
    title: str
    source: str
    position: int
    key: str = ""
    time: str | None = None


@dataclass(frozen=True)
class GraphEdges:
    """Every graph edge as parallel id arrays; the graph builder maps ids to matrix rows.

    ``relations``: (subject id, object id, number of supporting (fact, passage) pairs);
    ``mentions``: (passage id, entity id); ``synonyms``: (entity id, entity id, cosine);
    ``facts``: (fact id, subject id, object id) of every fact.
    """

    relations: tuple[list[str], list[str], list[float]]
    mentions: tuple[list[str], list[str]]
    synonyms: tuple[list[str], list[str], list[float]]
    facts: tuple[list[str], list[str], list[str]]


@dataclass(frozen=True)
class MemoryEdges:
    """The MemGAS memory as parallel id arrays, read in one snapshot.

    ``units``: (unit id, document id, granularity, passage id or ``""``) of every unit, in insertion order;
    ``associations``: (unit id, unit id, cosine) ASSOCIATED edges, the newer unit first;
    ``passages``: (passage id, document id) of every passage.
    """

    units: tuple[list[str], list[str], list[str], list[str]]
    associations: tuple[list[str], list[str], list[float]]
    passages: tuple[list[str], list[str]]


@dataclass(frozen=True)
class ClusterEdges:
    """ComoRAG's layers as parallel id arrays, read in one snapshot.

    ``clusters``: (cluster id, level) of every cluster, in insertion order;
    ``members``: (cluster id, passage id, weight) IN_CLUSTER edges.
    """

    clusters: tuple[list[str], list[int]]
    members: tuple[list[str], list[str], list[float]]


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

    def write_session(self) -> AbstractContextManager[None]:
        """Keep other writers out across several transactions (one ingest run plans against what it wrote).

        A store whose server already serialises conflicting writers needs nothing here.
        """
        return nullcontext()

    def snapshot(self) -> AbstractContextManager[None]:
        """Reads inside see one committed state, so derived state is never built from half a batch.

        A store whose every read returns the latest committed state at once needs nothing here.
        """
        return nullcontext()

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
    def list_files(self) -> list[tuple[str, str, int]]:
        """Every indexed file as (path, content hash, size), by path (what a copy of the store carries over)."""

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
    def delete_document(self, doc_id: str, keep: Collection[str] = ()) -> int:
        """Delete a document, its passages and every record that only they supported; return passages removed.

        ``keep`` names entities and facts to keep even when left unsupported, because the same
        write batch is about to use them again (a changed file replaced within one batch).
        """

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

    def nearest(self, kind: str, queries: Matrix, k: int, table: Callable[[], VectorTable] | None = None
                ) -> list[tuple[list[str], np.ndarray]]:
        """The ``k`` records of ``kind`` nearest each query by cosine, best first: (ids, scores) per query.

        Here every live row is scored exactly, from ``table()`` when given (a caller's cached
        :meth:`vector_table`) or a fresh read; a server store overrides this to ask its vector index,
        so the matrix never has to leave the server for a plain nearest-neighbour search.
        """
        vectors = table() if table is not None else self.vector_table(kind)
        if vectors.size == 0 or k < 1:
            return [([], np.zeros(0, dtype=np.float32)) for _ in range(len(queries))]
        rows, scores = vectors.top(queries, k)
        return [(vectors.ids[r].tolist(), s) for r, s in zip(rows, scores)]

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Number of records of each kind."""

    # --- the graph -----------------------------------------------------------------------
    @abstractmethod
    def known_ids(self, kind: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` already exist among the records of ``kind`` (``entity`` or ``fact``)."""

    @abstractmethod
    def put_graph(self, entities: Sequence[Entity], entity_vectors: Matrix, facts: Sequence[Fact],
                  fact_vectors: Matrix, mentions: Sequence[tuple[str, str]],
                  fact_sources: Sequence[tuple[str, str, str]]) -> None:
        """Insert new entities and facts with their vectors, plus mention and provenance rows.

        ``mentions`` are (passage id, entity id); ``fact_sources`` are (fact id, passage id, extractor).
        Entities and facts must be new (see :meth:`known_ids`); edge rows may repeat existing ones.
        """

    @abstractmethod
    def put_synonyms(self, rows: Sequence[tuple[str, str, float]]) -> None:
        """Insert synonymy edges (entity id, entity id, cosine)."""

    @abstractmethod
    def graph_edges(self) -> GraphEdges:
        """All relation, mention and synonym edges, read in one consistent snapshot."""

    @abstractmethod
    def entities(self, ids: Sequence[str]) -> dict[str, Entity]:
        """Entities by id (those that exist)."""

    @abstractmethod
    def facts(self, ids: Sequence[str]) -> dict[str, Fact]:
        """Facts by id with their subject and object display names and source passages."""

    @abstractmethod
    def find_entities(self, text: str, limit: int = 20) -> list[Entity]:
        """Entities whose normalised name equals, then starts with, then contains ``normalize_name(text)``."""

    @abstractmethod
    def facts_of_entity(self, entity_id: str, limit: int = 200) -> list[Fact]:
        """Facts whose subject or object is the entity."""

    @abstractmethod
    def passages_of_entity(self, entity_id: str, limit: int = 50) -> list[PassageContext]:
        """Passages that mention the entity."""

    @abstractmethod
    def synonyms_of(self, entity_id: str) -> list[tuple[Entity, float]]:
        """Entities linked to this one by a synonymy edge (either direction), best first."""

    @abstractmethod
    def facts_between(self, a: str, b: str) -> list[Fact]:
        """Facts whose subject and object are the two entities, in either order."""

    @abstractmethod
    def entity_names(self) -> tuple[list[str], list[str], list[str]]:
        """(id, normalised name, display form) of every entity, for linking query text to entities."""

    @abstractmethod
    def top_entities(self, limit: int = 50) -> list[Entity]:
        """The entities mentioned by the most passages."""

    @abstractmethod
    def list_facts(self, limit: int = 200) -> list[Fact]:
        """The first ``limit`` facts, in insertion order."""

    @abstractmethod
    def mentions_of_passages(self, passage_ids: Sequence[str]) -> dict[str, list[Entity]]:
        """The entities each passage mentions, in the order they were recorded (passages with none are left out)."""

    @abstractmethod
    def fact_sources(self, passage_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """(fact id, passage id, extractor) provenance rows of these passages, in the order they were recorded."""

    @abstractmethod
    def facts_of_passages(self, passage_ids: Sequence[str]) -> dict[str, list[Fact]]:
        """The facts each passage states, in the order they were recorded (passages with none are left out)."""

    # --- memory units (MemGAS) -------------------------------------------------------------
    @abstractmethod
    def put_units(self, units: Sequence[Unit], vectors: Matrix) -> None:
        """Insert memory units with their vectors (row i of ``vectors`` is unit i); their documents must exist."""

    @abstractmethod
    def put_associations(self, rows: Sequence[tuple[str, str, float]]) -> None:
        """Insert ASSOCIATED edges (newer unit id, older unit id, cosine)."""

    @abstractmethod
    def memory_edges(self) -> MemoryEdges:
        """Every unit's owner and granularity, and every association, in one consistent snapshot."""

    @abstractmethod
    def units(self, ids: Sequence[str]) -> dict[str, Unit]:
        """Units by id (those that exist)."""

    @abstractmethod
    def document_units(self, doc_id: str) -> list[Unit]:
        """The units of one document, in the order they were written."""

    # --- layers (ComoRAG) -------------------------------------------------------------------
    @abstractmethod
    def put_clusters(self, clusters: Sequence[Cluster], vectors: Matrix,
                     members: Sequence[tuple[str, str, float]]) -> None:
        """Insert clusters with their vectors (row i is cluster i) and IN_CLUSTER edges (cluster, passage, weight)."""

    @abstractmethod
    def delete_clusters(self, ids: Sequence[str]) -> None:
        """Delete clusters and their IN_CLUSTER edges."""

    @abstractmethod
    def clusters(self, ids: Sequence[str]) -> dict[str, Cluster]:
        """Clusters by id (those that exist)."""

    @abstractmethod
    def cluster_edges(self) -> ClusterEdges:
        """Every cluster's level and every IN_CLUSTER edge, in one consistent snapshot."""

    @abstractmethod
    def layer_info(self) -> dict[str, Any]:
        """What the last layer build recorded (fingerprint, settings, cost); empty when never built."""

    @abstractmethod
    def set_layer_info(self, info: dict[str, Any]) -> None:
        """Record ``info`` as the layer build's state (inside the build's transaction)."""


def stored_settings_with(stored: Settings, overrides: dict[str, Any], location: str, elsewhere: str) -> Settings:
    """A store's own settings with this run's ``overrides``; another ``embed_model`` is refused.

    Vectors of two models cannot share one index, so asking for another model is an error
    that names both and says what to do (``elsewhere``: "a new folder", "another database").
    """
    asked = overrides.get("embed_model")
    if asked is not None and asked != stored.embed_model:
        raise EmbeddingModelMismatch(
            f"store {location} was built with {stored.embed_model}; this run asked for {asked}. "
            f"Index into {elsewhere}, or pass --embed-model {stored.embed_model}."
        )
    return stored.replace(**overrides)

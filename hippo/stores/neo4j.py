"""The Neo4j store: the same data model as the embedded store, in a Neo4j 5.26+ database.

Open it with ``--store neo4j://host:7687`` (or ``bolt://``); the user, password and database come
from ``HIPPO_NEO4J_USER``, ``HIPPO_NEO4J_PASSWORD`` and ``HIPPO_NEO4J_DATABASE``. One database holds
one store. The graph layout and every statement are in :mod:`hippo.stores.neo4j_cypher`.

How it keeps the embedded store's guarantees:
- one ingest batch is one explicit transaction, opened by locking the meta node (so writers queue)
  and closed by bumping the store version; a failed or cut batch rolls back whole;
- writes are batched ``UNWIND $rows ... MERGE``, so re-running a batch changes nothing;
- vectors keep the embedded store's row numbering (``vec_row``), so the in-process graph engine
  numbers nodes alike and both stores rank alike; ``dense`` asks the vector index instead of
  scoring every row, and the other methods read the matrices once per store version.

The driver is imported on first use: the extra ``hippo[neo4j]`` provides it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from hippo.config import Settings
from hippo.errors import EmbeddingModelMismatch, StoreError
from hippo.model import Cluster, Document, Entity, Fact, Matrix, Passage, Unit
from hippo.stores import neo4j_cypher as cypher
from hippo.stores.base import ClusterEdges, DocumentSummary, GraphEdges, GraphStore, MemoryEdges, PassageContext
from hippo.stores.neo4j_connection import WRITE_CHUNK, Neo4jConnection, Run
from hippo.stores.neo4j_meta import drop_store, ensure_vector_indexes, meta_of, open_meta
from hippo.stores.neo4j_rows import (
    BatchCounters,
    document_of,
    document_row,
    embedded_rows,
    fact_of,
    link_rows,
)
from hippo.stores.neo4j_target import Neo4jTarget, neo4j_target
from hippo.stores.neo4j_vectors import OVERSAMPLE, VectorRows, best_candidates, vector_rows
from hippo.stores.rows import chunks, columns
from hippo.stores.vectors import VectorTable
from hippo.text import normalize_name

__all__ = ["Neo4jStore", "drop_store"]

logger = logging.getLogger(__name__)

READ_CHUNK = 5000
"""Ids per lookup statement."""


def _indexes_on_open(conn: Neo4jConnection, dim: int) -> None:
    """Bring the vector indexes to the wanted settings when a store is opened (see ``ensure_vector_indexes``).

    A user who may read but not change the schema can still use the store: the failure is logged (dense
    search then runs on the old index) instead of refusing the store.
    """
    try:
        ensure_vector_indexes(conn, dim)
    except StoreError as exc:
        logger.warning("could not check or rebuild the vector indexes of %s: %s", conn.target.describe(), exc)


class Neo4jStore(GraphStore):
    """A store in a Neo4j database. Open it with :meth:`open`; use as a context manager to close it.

    Reads are read-committed (Neo4j has no snapshot reads), so :meth:`snapshot` is the interface's
    no-op: a value the derived-state cache builds while another process commits a batch is keyed by
    the version read first, so it is rebuilt at the next query.
    """

    def __init__(self, conn: Neo4jConnection, settings: Settings) -> None:
        self.target: Neo4jTarget = conn.target
        self.location = conn.target.uri
        self.settings = settings
        self._conn = conn
        self._batch: BatchCounters | None = None
        self._new_dim: int | None = None
        self._vectors = VectorRows()

    # --- opening -----------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        location: str,
        overrides: dict[str, Any] | None = None,
        *,
        create: bool = True,
        env: dict[str, str] | None = None,
    ) -> Neo4jStore:
        """Connect to the database at ``location`` and open (or create) the store in it.

        Naming a different ``embed_model`` than the store was built with raises
        :class:`EmbeddingModelMismatch`; a database holding other data is refused rather than mixed into.
        """
        conn = Neo4jConnection.connect(neo4j_target(location, env))
        try:
            meta, settings = open_meta(conn, dict(overrides or {}), create)
            if meta.get("embed_dim") is not None:
                _indexes_on_open(conn, int(meta["embed_dim"]))
        except BaseException:
            conn.close()
            raise
        return cls(conn, settings)

    @property
    def connection(self) -> Neo4jConnection:
        """The connection the store talks through (``hippo check`` reads with it)."""
        return self._conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions ------------------------------------------------------------------
    def version(self) -> int:
        rows = self._conn.rows(cypher.VERSION, key=cypher.META_KEY)
        return int(rows[0][0]) if rows else 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write batch, one Neo4j transaction; the meta node's write lock makes other writers wait."""
        with self._conn.transaction(self._begin, self._finish):
            yield
        if self._new_dim is not None:
            ensure_vector_indexes(self._conn, self._new_dim)

    def _begin(self, run: Run) -> None:
        """Lock the meta node and take the counters the batch allocates from."""
        writer = f"{socket.gethostname()}:{os.getpid()}"
        meta = meta_of(run(cypher.LOCK_META, key=cypher.META_KEY, writer=writer))
        if not meta:
            raise StoreError(
                f"the hippo store in {self.target.describe()} is gone (its meta node was deleted); "
                "open it again to create a new one."
            )
        self._batch, self._new_dim = BatchCounters.from_meta(meta, self.location), None

    def _finish(self, run: Run) -> None:
        """Record the counters, the settings and the next version (the last statement before the commit)."""
        run(cypher.SET_META, key=cypher.META_KEY, props=self._counters().meta(json.dumps(self.settings.to_dict())))

    def _counters(self) -> BatchCounters:
        self._conn.require_transaction()
        if self._batch is None:  # _begin sets it before anything else runs in a transaction
            raise StoreError("the write batch has no counters; it was not opened by Neo4jStore.transaction().")
        return self._batch

    def set_embedding_dim(self, dim: int) -> None:
        stored = self._counters().embed_dim if self._conn.in_transaction() else self._meta().get("embed_dim")
        if stored is None:
            self._conn.write(cypher.SET_META, key=cypher.META_KEY, props={"embed_dim": int(dim)})
            self._counters().embed_dim = self._new_dim = int(dim)
        elif int(stored) != dim:
            raise EmbeddingModelMismatch(
                f"store {self.target.describe()} holds {stored}-dimensional vectors but the embedder gives {dim}; "
                "index into another database or use the model the store was built with."
            )

    def _meta(self) -> dict[str, Any]:
        return meta_of(self._conn.rows(cypher.READ_META, key=cypher.META_KEY))

    def _put(self, query: str, kind: str, records: Sequence[Any], vectors: Matrix, what: str = "") -> None:
        """Write new embedded records of ``kind`` with their vectors (rows and seqs allocated here)."""
        rows = embedded_rows(records, self._counters().slots(kind, vectors, len(records)))
        self._conn.write_chunks(query, rows, what)

    # --- vectors -----------------------------------------------------------------------
    def vector_table(self, kind: str) -> VectorTable:
        if kind not in cypher.LABELS:
            raise ValueError(f"unknown vector kind {kind!r}; known: {', '.join(cypher.LABELS)}.")
        with self._conn.snapshot() as run:
            meta = meta_of(run(cypher.READ_META, key=cypher.META_KEY))
            rows = int(meta.get(cypher.ROW_KEYS[kind]) or 0)
            owners = run(cypher.VECTOR_OWNERS[kind])
            dim = meta.get("embed_dim")
            if dim is None:
                matrix = np.zeros((0, 0), dtype=np.float32)
            else:

                def fetch(start: int, stop: int) -> Matrix:
                    return vector_rows(run, cypher.VECTOR_ROWS[kind], start, stop, int(dim))

                matrix = self._vectors.matrix(kind, int(dim), rows, fetch, str(meta.get("created_at")))
        ids = np.full(rows, "", dtype=object)
        for owner, row in owners:
            if row is not None and row < rows:
                ids[row] = owner
        return VectorTable(ids=ids, live=ids != "", matrix=matrix)

    def nearest(
        self, kind: str, queries: Matrix, k: int, table: Callable[[], VectorTable] | None = None
    ) -> list[tuple[list[str], np.ndarray]]:
        """The ``k`` nearest records per query, best first, scored by exact cosine.

        Passages (the indexed kind) come from the vector index: it is asked for ``OVERSAMPLE * k``
        candidates, since an approximate index misses some of the true top ``k`` (the 5th hit was wrong on
        3 of 15 demo questions when asked for exactly ``k``), and each candidate is scored exactly on the
        server, which sends back the best ``k``. Other kinds have no index and are scored in-process from ``table``
        (the matrix the graph methods cache), as the embedded store does.
        """
        if kind not in cypher.LABELS:
            raise ValueError(f"unknown vector kind {kind!r}; known: {', '.join(cypher.LABELS)}.")
        if kind not in cypher.INDEXED_KINDS:
            return super().nearest(kind, queries, k, table)
        if not len(queries) or k < 1 or self._meta().get("embed_dim") is None:
            return [([], np.zeros(0, dtype=np.float32)) for _ in range(len(queries))]
        rows = self._conn.rows(
            cypher.NEAREST,
            index=cypher.VECTOR_INDEX[kind],
            candidates=int(k) * OVERSAMPLE,
            k=int(k),
            vectors=np.asarray(queries, dtype=np.float32).tolist(),
        )
        return best_candidates(rows, len(queries), int(k))

    def vectors_by_hash(self, hashes: Sequence[str]) -> dict[str, Matrix]:
        out: dict[str, Matrix] = {}
        for chunk in chunks(sorted(set(hashes)), READ_CHUNK):
            for content_hash, vector in self._conn.rows(cypher.VECTORS_BY_HASH, hashes=chunk):
                if vector is not None:
                    out[content_hash] = np.asarray(vector, dtype=np.float32)
        return out

    # --- files and documents -----------------------------------------------------------
    def file_hash(self, path: str) -> str | None:
        rows = self._conn.rows(cypher.FILE_HASH, path=path)
        return rows[0][0] if rows else None

    def set_file(self, path: str, content_hash: str, size: int) -> None:
        self._conn.write(cypher.SET_FILE, path=path, hash=content_hash, size=int(size), at=time.time())

    def forget_file(self, path: str) -> None:
        self._conn.write(cypher.FORGET_FILE, path=path)

    def list_files(self) -> list[tuple[str, str, int]]:
        return [(p, h, int(s)) for p, h, s in self._conn.rows(cypher.LIST_FILES)]

    def documents_of_file(self, path: str) -> dict[str, Document]:
        return {d.source: d for d in self._documents(cypher.DOCS_BY_FILE, path)}

    def document(self, doc_id: str) -> Document | None:
        found = self._documents(cypher.DOCS_BY_ID, doc_id)
        return found[0] if found else None

    def find_documents(self, ref: str) -> list[Document]:
        for query in (cypher.DOCS_BY_ID, cypher.DOCS_BY_SOURCE, cypher.DOCS_BY_FILE):
            found = self._documents(query, ref)
            if found:
                return found
        return self._documents(cypher.DOCS_BY_FILE_OR_SOURCE, str(Path(ref).resolve()))

    def list_documents(self) -> list[DocumentSummary]:
        return [DocumentSummary(document_of(row[0]), int(row[1])) for row in self._conn.rows(cypher.LIST_DOCS)]

    def _documents(self, query: str, value: str) -> list[Document]:
        return [document_of(row[0]) for row in self._conn.rows(query, value=value)]

    def put_document(self, document: Document, passages: Sequence[Passage], vectors: Matrix) -> None:
        counters = self._counters()
        if len(passages) != len(vectors):
            raise ValueError(f"{len(passages)} passages but {len(vectors)} vectors for document {document.id}.")
        doc = document_row(document, counters.seqs(1)[0])
        rows = embedded_rows(passages, counters.slots("passage", vectors, len(passages)))
        self._conn.defer(cypher.PUT_DOCUMENTS, {"doc": doc, "passages": rows}, weight=1 + len(rows))

    def delete_document(self, doc_id: str, keep: Collection[str] = ()) -> int:
        self._conn.require_transaction()
        removed = int(self._conn.write(cypher.DOC_PASSAGES, doc_id=doc_id)[0][0])
        facts = self._conn.write(cypher.DOC_FACTS, doc_id=doc_id)
        entities = {row[0] for row in self._conn.write(cypher.DOC_ENTITIES, doc_id=doc_id)}
        for query in (cypher.DELETE_DOC_UNITS, cypher.DELETE_DOC_PASSAGES, cypher.DELETE_DOC):
            self._conn.write(query, doc_id=doc_id)
        kept = set(keep)
        self._drop_orphans([f for f, _, _ in facts if f not in kept], {e for e in entities if e not in kept}, kept)
        self._refresh_relates({(subject, obj) for _, subject, obj in facts})
        return removed

    def _drop_orphans(self, fact_ids: list[str], entity_ids: set[str], kept: set[str]) -> None:
        """Remove the given facts left with no source passage, then the given entities (and the
        endpoints of removed facts, unless ``kept``) that no passage mentions and no fact uses."""
        for chunk in chunks(fact_ids, WRITE_CHUNK):
            for subject, obj in self._conn.write(cypher.DEAD_FACTS, ids=chunk):
                entity_ids.update(e for e in (subject, obj) if e not in kept)
        for chunk in chunks(sorted(entity_ids), WRITE_CHUNK):
            self._conn.write(cypher.DEAD_ENTITIES, ids=chunk)

    def _refresh_relates(self, pairs: Collection[tuple[str, str]]) -> None:
        """Recount RELATES for these (subject, object) pairs from the facts' STATED_IN edges."""
        self._conn.write_chunks(cypher.REFRESH_RELATES, [list(pair) for pair in sorted(pairs)])

    # --- passages ----------------------------------------------------------------------
    def passage_context(self, passage_ids: Sequence[str]) -> dict[str, PassageContext]:
        return {
            row[0]: PassageContext(*row)
            for chunk in chunks(list(passage_ids), READ_CHUNK)
            for row in self._conn.rows(cypher.PASSAGE_CONTEXT, ids=chunk)
        }

    def iter_passages(self) -> Iterator[PassageContext]:
        last = 0
        while batch := self._conn.rows(cypher.PASSAGES_AFTER, after=last, limit=2000):
            for row in batch:
                yield PassageContext(*row[1:])
            last = batch[-1][0]

    def counts(self) -> dict[str, int]:
        row = self._conn.rows(cypher.COUNTS)[0]
        return {name: int(value) for name, value in zip(cypher.COUNT_NAMES, row)}

    # --- the graph ---------------------------------------------------------------------
    def known_ids(self, kind: str, ids: Sequence[str]) -> set[str]:
        query = cypher.KNOWN_IDS[kind]
        return {row[0] for chunk in chunks(sorted(set(ids)), READ_CHUNK) for row in self._conn.rows(query, ids=chunk)}

    def put_graph(
        self,
        entities: Sequence[Entity],
        entity_vectors: Matrix,
        facts: Sequence[Fact],
        fact_vectors: Matrix,
        mentions: Sequence[tuple[str, str]],
        fact_sources: Sequence[tuple[str, str, str]],
    ) -> None:
        counters = self._counters()
        self._put(cypher.PUT_ENTITIES, "entity", entities, entity_vectors)
        self._put(cypher.PUT_FACTS, "fact", facts, fact_vectors, "facts")
        self._conn.write_chunks(
            cypher.PUT_MENTIONS,
            link_rows(("passage_id", "entity_id"), mentions, counters.seqs(len(mentions))),
            "mentions",
        )
        self._conn.write_chunks(
            cypher.PUT_FACT_SOURCES,
            link_rows(("fact_id", "passage_id", "extractor"), fact_sources, counters.seqs(len(fact_sources))),
            "fact sources",
        )
        fact_ids = sorted({f for f, _, _ in fact_sources})
        self._refresh_relates(
            {
                (s, o)
                for chunk in chunks(fact_ids, READ_CHUNK)
                for s, o in self._conn.write(cypher.PAIRS_OF_FACTS, ids=chunk)
            }
        )

    def put_synonyms(self, rows: Sequence[tuple[str, str, float]]) -> None:
        self._conn.write_chunks(cypher.PUT_SYNONYMS, [[a, b, float(score)] for a, b, score in rows])

    def graph_edges(self) -> GraphEdges:
        with self._conn.snapshot() as run:
            relations, mentions = run(cypher.EDGES_RELATES), run(cypher.EDGES_MENTIONS)
            synonyms, facts = run(cypher.EDGES_SYNONYMS), run(cypher.EDGES_FACTS)
        return GraphEdges(
            relations=columns(relations, 3),
            mentions=columns(mentions, 2),
            synonyms=columns(synonyms, 3),
            facts=columns(facts, 3),
        )

    def entities(self, ids: Sequence[str]) -> dict[str, Entity]:
        return {
            row[0]: Entity(*row)
            for chunk in chunks(sorted(set(ids)), READ_CHUNK)
            for row in self._conn.rows(cypher.ENTITIES_BY_ID, ids=chunk)
        }

    def facts(self, ids: Sequence[str]) -> dict[str, Fact]:
        return {
            row[0]: fact_of(row)
            for chunk in chunks(sorted(set(ids)), READ_CHUNK)
            for row in self._conn.rows(cypher.FACTS_BY_ID, ids=chunk)
        }

    def find_entities(self, text: str, limit: int = 20) -> list[Entity]:
        name = normalize_name(text)
        return [Entity(*row) for row in self._conn.rows(cypher.FIND_ENTITIES, name=name, limit=limit)] if name else []

    def facts_of_entity(self, entity_id: str, limit: int = 200) -> list[Fact]:
        return self._facts_in_order(self._conn.rows(cypher.FACTS_OF_ENTITY, id=entity_id, limit=limit))

    def passages_of_entity(self, entity_id: str, limit: int = 50) -> list[PassageContext]:
        return [PassageContext(*row) for row in self._conn.rows(cypher.PASSAGES_OF_ENTITY, id=entity_id, limit=limit)]

    def synonyms_of(self, entity_id: str) -> list[tuple[Entity, float]]:
        return [(Entity(*row[:4]), float(row[4])) for row in self._conn.rows(cypher.SYNONYMS_OF, id=entity_id)]

    def facts_between(self, a: str, b: str) -> list[Fact]:
        return self._facts_in_order(self._conn.rows(cypher.FACTS_BETWEEN, a=a, b=b))

    def _facts_in_order(self, rows: list[list[Any]]) -> list[Fact]:
        """The facts whose ids lead ``rows``, in that order."""
        ids = [row[0] for row in rows]
        found = self.facts(ids)
        return [found[i] for i in ids if i in found]

    def entity_names(self) -> tuple[list[str], list[str], list[str]]:
        return columns(self._conn.rows(cypher.ENTITY_NAMES), 3)

    def top_entities(self, limit: int = 50) -> list[Entity]:
        return [Entity(*row) for row in self._conn.rows(cypher.TOP_ENTITIES, limit=limit)]

    def list_facts(self, limit: int = 200) -> list[Fact]:
        return self._facts_in_order(self._conn.rows(cypher.LIST_FACTS, limit=limit))

    def mentions_of_passages(self, passage_ids: Sequence[str]) -> dict[str, list[Entity]]:
        out: dict[str, list[Entity]] = {}
        for chunk in chunks(list(passage_ids), READ_CHUNK):
            for row in self._conn.rows(cypher.MENTIONS_OF_PASSAGES, ids=chunk):
                out.setdefault(row[0], []).append(Entity(*row[1:]))
        return out

    def facts_of_passages(self, passage_ids: Sequence[str]) -> dict[str, list[Fact]]:
        sources = self.fact_sources(passage_ids)
        found = self.facts([f for f, _, _ in sources])
        out: dict[str, list[Fact]] = {}
        for fact_id, passage_id, _ in sources:
            if fact_id in found:
                out.setdefault(passage_id, []).append(found[fact_id])
        return out

    def fact_sources(self, passage_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        return [
            (f, p, x)
            for chunk in chunks(list(passage_ids), READ_CHUNK)
            for f, p, x in self._conn.rows(cypher.FACT_SOURCES, ids=chunk)
        ]

    # --- memory units (MemGAS) ---------------------------------------------------------
    def put_units(self, units: Sequence[Unit], vectors: Matrix) -> None:
        self._put(cypher.PUT_UNITS, "unit", units, vectors, "units")

    def put_associations(self, rows: Sequence[tuple[str, str, float]]) -> None:
        self._conn.write_chunks(cypher.PUT_ASSOCIATIONS, [[a, b, float(w)] for a, b, w in rows])

    def memory_edges(self) -> MemoryEdges:
        with self._conn.snapshot() as run:
            units, associations = run(cypher.MEMORY_UNITS), run(cypher.MEMORY_ASSOCIATIONS)
            passages = run(cypher.MEMORY_PASSAGES)
        units = [[u, doc, granularity, passage or ""] for u, doc, granularity, passage in units]
        return MemoryEdges(
            units=columns(units, 4), associations=columns(associations, 3), passages=columns(passages, 2)
        )

    def units(self, ids: Sequence[str]) -> dict[str, Unit]:
        return {
            row[0]: Unit(*row)
            for chunk in chunks(sorted(set(ids)), READ_CHUNK)
            for row in self._conn.rows(cypher.UNITS_BY_ID, ids=chunk)
        }

    def document_units(self, doc_id: str) -> list[Unit]:
        return [Unit(*row) for row in self._conn.rows(cypher.DOCUMENT_UNITS, doc_id=doc_id)]

    # --- layers (ComoRAG) --------------------------------------------------------------
    def put_clusters(
        self, clusters: Sequence[Cluster], vectors: Matrix, members: Sequence[tuple[str, str, float]]
    ) -> None:
        self._put(cypher.PUT_CLUSTERS, "cluster", clusters, vectors)
        self._conn.write_chunks(cypher.PUT_MEMBERS, [[c, p, float(w)] for c, p, w in members])

    def delete_clusters(self, ids: Sequence[str]) -> None:
        self._conn.require_transaction()
        for chunk in chunks(list(ids), WRITE_CHUNK):
            self._conn.write(cypher.DELETE_CLUSTERS, ids=chunk)

    def clusters(self, ids: Sequence[str]) -> dict[str, Cluster]:
        return {
            row[0]: Cluster(*row)
            for chunk in chunks(sorted(set(ids)), READ_CHUNK)
            for row in self._conn.rows(cypher.CLUSTERS_BY_ID, ids=chunk)
        }

    def cluster_edges(self) -> ClusterEdges:
        with self._conn.snapshot() as run:
            clusters, members = run(cypher.CLUSTER_LIST), run(cypher.CLUSTER_MEMBERS)
        return ClusterEdges(clusters=columns(clusters, 2), members=columns(members, 3))

    def layer_info(self) -> dict[str, Any]:
        stored = self._meta().get("layers")
        return json.loads(stored) if stored else {}

    def set_layer_info(self, info: dict[str, Any]) -> None:
        self._conn.write(cypher.SET_META, key=cypher.META_KEY, props={"layers": json.dumps(info)})

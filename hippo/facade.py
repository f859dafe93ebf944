"""``KnowledgeGraph``: the one object the CLI, the UI and Python users talk to.

It only composes: a store, an embedder (loaded on first need), the ingest pipeline, the
registered retrieval methods and, when one is configured, the LLM client (opened on first
need, its response cache in the store folder). It holds no retrieval or storage logic of its own.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hippo.answer import extractive_answer
from hippo.cache import DerivedCache
from hippo.config import store_path_from_env
from hippo.embed import Embedder, load_embedder
from hippo.errors import ConfigError, StoreError
from hippo.graph import explore
from hippo.model import Answer, ChainStep, Document, Entity, Fact, Hit, IndexReport, LayerReport, ProbeResult, Unit
from hippo.retrieval.base import FactFilter, FactFilterResult, RetrievalContext, get_method
from hippo.stores import open_store, resolve_location
from hippo.stores.base import DocumentSummary, GraphStore

if TYPE_CHECKING:
    from hippo.llm.client import LLMClient
    from hippo.stores.check import StoreCheck
    from hippo.stores.copy import CopyReport

__all__ = ["KnowledgeGraph", "open"]

logger = logging.getLogger(__name__)


class KnowledgeGraph:
    """A knowledge graph over your documents. Create one with :func:`hippo.open`."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self.settings = store.settings
        self._embedder: Embedder | None = None
        self._llm: LLMClient | None = None
        self._llm_opened = False
        self._llm_lock = threading.Lock()
        self._context = RetrievalContext(store, self.embedder, self.settings, DerivedCache(store),
                                         fact_filter=self._fact_filter(), llm=self.llm)

    # --- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Close the store (and the LLM client, when one was opened)."""
        if self._llm is not None:
            self._llm.close()
        self.store.close()

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def embedder(self) -> Embedder:
        """The store's embedding model, loaded on first use."""
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.embed_model, self.settings.embed_batch_size,
                                           self.settings.embed_threads, self.settings.embed_processes,
                                           self.settings.embed_precision)
        return self._embedder

    def llm(self) -> LLMClient | None:
        """The LLM client the settings and environment configure, opened on first use; None: offline.

        See :mod:`hippo.llm.config` for ``HIPPO_LLM_BASE_URL``, ``HIPPO_LLM_MODEL``, ``HIPPO_LLM_API_KEY``
        and ``Settings.extra["llm"]``. Its ``usage`` counts requests, cache hits and tokens.
        """
        with self._llm_lock:
            if not self._llm_opened:
                from hippo.llm.client import open_client

                self._llm = open_client(self.settings, self.store.location)
                self._llm_opened = True
        return self._llm

    def _fact_filter(self) -> FactFilter | None:
        """The LLM fact filter for ``hipporag`` when ``Settings.fact_filter`` is on (or ``None``, the default)
        and an LLM is configured."""
        if self.settings.fact_filter is False:
            return None
        from hippo.llm.config import llm_config
        from hippo.llm.local import local_config

        if llm_config(self.settings) is None and local_config(self.settings) is None:
            if self.settings.fact_filter is None:
                return None
            logger.warning("fact_filter is on but no LLM is configured (HIPPO_LLM_MODEL or Settings.extra['llm']) "
                           "and no local model is installed; hipporag keeps its top facts unfiltered.")
            return None

        def run(queries: Sequence[str], candidates: Sequence[Sequence[tuple[str, str, str]]]
                ) -> list[FactFilterResult]:
            from hippo.llm.filter import FactFilterLLM

            client = self.llm()
            if client is None:  # the environment changed since open; nothing to filter with
                return [FactFilterResult(error="no LLM is configured") for _ in candidates]
            return FactFilterLLM(client)(queries, candidates)

        return run

    def _with_llm_usage(self, report: IndexReport, before: dict[str, int]) -> IndexReport:
        if self._llm is not None:
            report.llm_usage = self._llm.usage.since(before)
        return report

    # --- writing -----------------------------------------------------------------------
    def index(self, paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *,
              include: Sequence[str] = (), exclude: Sequence[str] = (), on_progress: Any = None) -> IndexReport:
        """Index files and folders; unchanged files are skipped, changed ones replaced.

        Returns an :class:`IndexReport` with counts, timings and every skipped file with its reason.
        """
        from hippo.ingest.pipeline import index_paths

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        before = self._llm.usage.to_dict() if self._llm is not None else {}
        report = index_paths(self.store, self.embedder, list(paths), include=include, exclude=exclude,
                             on_progress=on_progress, llm=self.llm)
        return self._with_llm_usage(report, before)

    def index_uploads(self, files: Sequence[tuple[str, bytes]], *, limit_bytes: int,
                      on_progress: Any = None) -> IndexReport:
        """Index uploaded ``(file name, content)`` pairs, each recorded under its file name and content hash.

        The same file indexed here and by :meth:`index` is one document; files over ``limit_bytes``
        are skipped as ``too large`` (see :mod:`hippo.ingest.uploads`).
        """
        from hippo.ingest.uploads import index_uploads

        before = self._llm.usage.to_dict() if self._llm is not None else {}
        report = index_uploads(self.store, self.embedder, files, limit_bytes=limit_bytes, on_progress=on_progress,
                               llm=self.llm)
        return self._with_llm_usage(report, before)

    def add_texts(self, texts: Sequence[str], metadata: Sequence[dict[str, Any]] | None = None) -> IndexReport:
        """Index texts from memory; ``metadata[i]`` may hold ``source``, ``title`` and ``timestamp``."""
        from hippo.ingest.pipeline import index_texts

        if isinstance(texts, str):
            raise TypeError("add_texts takes a list of texts; wrap a single text in a list.")
        before = self._llm.usage.to_dict() if self._llm is not None else {}
        return self._with_llm_usage(index_texts(self.store, self.embedder, texts, metadata, llm=self.llm), before)

    def import_openie(self, path: str | os.PathLike[str]) -> IndexReport:
        """Index the passages of a HippoRAG OpenIE file with its entities and triples (no extractor runs).

        Facts get provenance ``openie-import``; importing the same file again changes nothing.
        """
        from hippo.ingest.openie import import_openie

        return import_openie(self.store, self.embedder, path)

    def export_openie(self, path: str | os.PathLike[str]) -> int:
        """Write every passage with its entities and triples as a HippoRAG OpenIE file; return the passage count."""
        from hippo.openie import export_openie

        return export_openie(self.store, path)

    def delete(self, ref: str) -> list[Document]:
        """Delete the documents matching ``ref`` (a document id, a source, or a file path); return them."""
        documents = self.store.find_documents(ref)
        if not documents:
            raise StoreError(f"no document matches {ref!r}; `hippo docs` lists ids and sources.")
        with self.store.transaction():
            for document in documents:
                self.store.delete_document(document.id)
            files = {d.metadata.get("file") for d in documents} - {None}
            for file in files:
                self.store.forget_file(file)
        return documents

    # --- reading -----------------------------------------------------------------------
    def retrieve(self, query: str, k: int | None = None, method: str | None = None) -> list[Hit]:
        """The ``k`` passages that best answer ``query`` by ``method`` (default from settings)."""
        return self.retrieve_many([query], k=k, method=method)[0]

    def retrieve_many(self, queries: Sequence[str], k: int | None = None, method: str | None = None
                      ) -> list[list[Hit]]:
        """:meth:`retrieve` for many queries at once (batched embedding and scoring)."""
        if isinstance(queries, str):
            raise TypeError("retrieve_many takes a list of queries; use retrieve() for one.")
        for query in queries:
            if not isinstance(query, str) or not query.strip():
                raise ConfigError("a query must be a non-empty string.")
        k = self.settings.top_k if k is None else k
        if k < 1:
            raise ConfigError(f"k={k} must be at least 1.")
        name = method or self.settings.default_method
        run = get_method(name)
        if name == "memgas" or (name == "comorag" and self.settings.comorag_base == "memgas"):
            self._memory()
        return run(self._context, list(queries), k)

    def ask(self, question: str, k: int | None = None, method: str | None = None) -> Answer:
        """Answer ``question`` from the retrieved passages; ``Answer.mode`` says how.

        With a model (an endpoint from the environment or settings, else the local model when
        installed) the answer is its short reply, citing the passages that hold it as ``[1]``,
        ``[2]``... (``mode`` ``"llm"`` or ``"local"``, the cited passages in ``Answer.sources``), with
        the graph's chain of facts from the question's entities to the answer in ``Answer.chain``.
        When the passages do not hold the answer, ``found`` is false. An endpoint failure raises
        :class:`~hippo.errors.LLMError`; an unreadable reply falls back to quoting, with a note.
        Without a model, the best-matching sentences of the hits are quoted (``mode="extractive"``).
        """
        hits = self.retrieve(question, k=k, method=method)
        client = self.llm()
        if client is None:
            return extractive_answer(question, hits, self.embedder(), sentences=self.settings.answer_sentences)
        from hippo.llm.qa import UnusableReplyError, llm_answer

        try:
            answer = llm_answer(question, hits, client, passages=len(hits), thought=self.settings.reader_thought,
                                compare=self.settings.reader_compare, hops=self.settings.reader_hops,
                                retrieve=lambda asked: self.retrieve(asked, k=k, method=method))
        except UnusableReplyError as exc:
            logger.warning("%s; answering with quoted sentences", exc)
            quoted = extractive_answer(question, hits, self.embedder(), sentences=self.settings.answer_sentences)
            return dataclasses.replace(quoted, notes=(f"{exc}; quoted sentences instead",))
        if not answer.found:
            return answer
        return dataclasses.replace(answer, chain=self._chain(question, answer))

    def _chain(self, question: str, answer: Answer) -> tuple[ChainStep, ...]:
        from hippo.llm.qa import strip_citations

        return self.chain(question, strip_citations(answer.text), [h.passage_id for h in answer.hits])

    def chain(self, question: str, answer: str, passages: Sequence[str] | None = None) -> tuple[ChainStep, ...]:
        """The facts, stated in ``passages``, that join the entities ``question`` names to the one ``answer`` names.

        ``passages`` are passage ids (default: the top hits of ``retrieve(question)``). The chain is the
        shortest such path of at most four facts; empty when either side names no entity or no path
        exists. ``ask`` fills ``Answer.chain`` with it, from the passages the reader was shown.
        """
        from hippo.graph.chain import answer_chain

        if passages is None:
            passages = [h.passage_id for h in self.retrieve(question)]
        state, _ = self._graph()
        if state.graph.n_entities == 0:
            return ()
        return answer_chain(self.store, state.names, state.entities.ids, question, answer, passages)

    def _memory(self) -> None:
        """Build the memory units ingest left for later (``memory_units="conversations"``: only sessions get
        theirs at ingest), before ``memgas`` first reads them; a dictionary lookup once they exist."""
        if self.settings.memory_units != "conversations":
            return
        from hippo.ingest.units_backfill import backfill_units, documents_without_units

        if self._context.cache.get("documents-without-units", lambda: documents_without_units(self.store)):
            backfill_units(self.store, self.embedder(), self.settings, llm=self.llm)

    def sessions(self, query: str, k: int | None = None) -> list[tuple[Document, float]]:
        """The ``k`` documents (conversation sessions) that best answer ``query``, by MemGAS's walk over memory.

        Returns (document, score) pairs, best first; ``retrieve(query, method="memgas")`` gives the turns.
        """
        from hippo.retrieval.memgas import rank_documents

        self._memory()
        ranked = rank_documents(self._context, [self._query(query)], self._k(k))[0]
        found = {d: self.store.document(d) for d, _ in ranked}
        return [(found[d], score) for d, score in ranked if found[d] is not None]

    def units(self, query: str, k: int | None = None, granularity: str | None = None) -> list[tuple[Unit, float]]:
        """The ``k`` memory units nearest ``query`` by cosine, optionally of one granularity only.

        ``granularity`` is ``document`` (a session), ``passage`` (a turn), ``summary`` or ``keywords``.
        """
        from hippo.retrieval.memgas import search_units

        self._memory()
        ranked = search_units(self._context, [self._query(query)], self._k(k), granularity)[0]
        found = self.store.units([u for u, _ in ranked])
        return [(found[u], score) for u, score in ranked if u in found]

    def probe(self, query: str, k: int | None = None) -> ProbeResult:
        """``comorag``'s answer to ``query`` with its trace: the fused hits, each cycle's probes and new
        passages, why the loop stopped, and whether it ran offline or with the LLM.

        ``retrieve(query, method="comorag")`` gives the same hits without the trace.
        """
        from hippo.retrieval.comorag import probe_many

        if self.settings.comorag_base == "memgas":
            self._memory()
        return probe_many(self._context, [self._query(query)], self._k(k))[0]

    def cluster(self, rebuild: bool = False) -> LayerReport:
        """Build or update ComoRAG's semantic clusters and episodic windows (see :mod:`hippo.graph.layers`).

        Episodic windows are updated per document; the semantic layer is rebuilt when the passages or
        the ``cluster_*`` settings changed since the last build, or when ``rebuild`` is true. Summaries
        are written by the LLM when ``comorag_llm`` lets it (by default an endpoint's, not the local
        model's), else extractively.
        """
        from hippo.graph.layers import build_layers
        from hippo.llm.client import step_client

        client = step_client(self.settings.comorag_llm, self.llm)
        return build_layers(self.store, self.embedder, self.settings, llm=client, rebuild=rebuild)

    def _query(self, query: str) -> str:
        if not isinstance(query, str) or not query.strip():
            raise ConfigError("a query must be a non-empty string.")
        return query

    def _k(self, k: int | None) -> int:
        k = self.settings.top_k if k is None else k
        if k < 1:
            raise ConfigError(f"k={k} must be at least 1.")
        return k

    def documents(self) -> list[DocumentSummary]:
        """Every document with its passage count."""
        return self.store.list_documents()

    # --- the graph ---------------------------------------------------------------------
    def _graph(self) -> tuple[Any, Any]:
        from hippo.retrieval.hipporag import graph_state

        state = graph_state(self._context)
        return state, self._context.cache.get("igraph", lambda: explore.search_graph(state))

    def graph_state(self) -> Any:
        """The graph matrix and vector tables of the current store version (for diagnostics and benchmarks)."""
        return self._graph()[0]

    def entities(self, like: str = "", limit: int = 50) -> list[Entity]:
        """Entities whose name contains ``like`` (exact and prefix matches first), or the most mentioned."""
        return self.store.find_entities(like, limit=limit) if like.strip() else self.store.top_entities(limit)

    def facts(self, entity: str | None = None, limit: int = 200) -> list[Fact]:
        """Facts about ``entity`` (a name or id), or the first ``limit`` facts of the store."""
        if entity is None:
            return self.store.list_facts(limit)
        return self.store.facts_of_entity(explore.resolve_entity(self.store, entity).id, limit=limit)

    def entity(self, name: str) -> explore.EntityView:
        """An entity's facts, passages and synonyms (``name`` may be a display name, normalised name or id)."""
        return explore.entity_view(self.store, name)

    def neighbors(self, name: str, depth: int = 1, limit: int = 100) -> list[tuple[Entity, int]]:
        """Entities within ``depth`` hops of facts or synonymy, with their distance."""
        state, graph = self._graph()
        return explore.neighbors(self.store, state, graph, name, depth=depth, limit=limit)

    def path(self, a: str, b: str) -> explore.EvidencePath | None:
        """The shortest evidence path between two entities (facts, synonyms or shared passages), or None."""
        state, graph = self._graph()
        return explore.evidence_path(self.store, state, graph, a, b)

    def subgraph(self, refs: Sequence[str], depth: int = 1, max_nodes: int = 200, passages: bool = True) -> Any:
        """A bounded ``networkx.Graph`` around entity names/ids or passage ids."""
        state, graph = self._graph()
        return explore.subgraph(self.store, state, graph, list(refs), depth=depth, max_nodes=max_nodes,
                                passages=passages)

    def to_networkx(self, refs: Sequence[str] | None = None, depth: int = 1, max_nodes: int = 5000) -> Any:
        """The graph as ``networkx.Graph``: around ``refs`` when given, else the whole graph up to ``max_nodes``."""
        state, graph = self._graph()
        if refs:
            return explore.subgraph(self.store, state, graph, list(refs), depth=depth, max_nodes=max_nodes)
        return explore.whole_graph(self.store, state, max_nodes=max_nodes)

    def export_graphml(self, path: str | os.PathLike[str], max_nodes: int = 1_000_000) -> int:
        """Write the graph (entities, passages and their edges) as GraphML; return the node count."""
        import networkx as nx

        graph = self.to_networkx(max_nodes=max_nodes)
        nx.write_graphml(graph, os.fspath(path))
        return graph.number_of_nodes()

    def check(self) -> StoreCheck:
        """The store's integrity: SQLite (or the Neo4j schema), vectors against committed rows, graph edges
        against facts, orphans.

        Returns a :class:`~hippo.stores.check.StoreCheck` (``ok`` when no problem was found), with
        each kind of problem counted and a few example ids. Safe while another process writes.
        """
        from hippo.stores.check import check_store

        return check_store(self.store)

    def copy_to(self, location: str | os.PathLike[str], *, merge: bool = False) -> CopyReport:
        """Copy this store into the store at ``location`` (a folder or a ``neo4j://`` URI); return what was written.

        A new target is created with this store's settings; an existing one must use the same embedding
        model and, unless ``merge``, hold no document this store lacks (an interrupted copy resumes).
        Vectors are copied, not recomputed. ``hippo export --to`` and ``--from`` run this.
        """
        from hippo.stores.copy import copy_store

        if resolve_location(location) == resolve_location(self.store.location):
            raise ConfigError(f"cannot copy {self.store.location} into itself; name another store.")
        target = open_store(os.fspath(location), self.settings.to_dict(), create=True)
        try:
            return copy_store(self.store, target, batch=self.settings.ingest_batch_docs, merge=merge)
        finally:
            target.close()

    def stats(self) -> dict[str, Any]:
        """Counts by kind, the store's location and the settings it was built with."""
        return {"store": self.store.location, "counts": self.store.counts(), "version": self.store.version(),
                "settings": self.settings.to_dict()}


def open(path: str | os.PathLike[str] | None = None, *, create: bool = True, **settings: Any) -> KnowledgeGraph:
    """Open (or create) the knowledge graph at ``path`` (default ``$HIPPO_STORE`` or ``./.hippo``).

    ``settings`` override the stored :class:`~hippo.config.Settings` for this session;
    a different ``embed_model`` than the store's raises :class:`~hippo.errors.EmbeddingModelMismatch`.

    >>> import tempfile, hippo
    >>> with hippo.open(tempfile.mkdtemp() + "/kg") as kg:
    ...     kg.stats()["counts"]["passages"]
    0
    """
    location = os.fspath(path) if path is not None else store_path_from_env()
    return KnowledgeGraph(open_store(location, settings, create=create))

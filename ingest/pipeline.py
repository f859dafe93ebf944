"""The ingest pipeline: files -> documents -> passages -> vectors -> store, in batches.

Planning and writing are separate steps. Planning reads one file at a time and emits
operations (delete a stale document, put a new one, remember the file's hash); writing
takes a batch of operations, embeds the new passages (reusing stored vectors of identical
passages), and commits the batch in one store transaction. A crash therefore loses at most
the batch in flight, and re-running the same command resumes: documents already stored
with the same content hash are recognised and skipped, and a file's own hash is only
recorded once all of its documents have landed. A run holds the store's write lock from
start to end (``GraphStore.write_session``), so what it planned is what it writes to.

A batch ends after ``Settings.ingest_batch_docs`` documents or :data:`BATCH_PASSAGES`
passages, whichever comes first, so a huge file (streamed in parts by the loaders) never
piles up in memory.

Testing hook: with ``HIPPO_CRASH_AT=<stage>:<n>`` in the environment the process kills
itself with SIGKILL the n-th time it reaches ``<stage>`` (see :data:`CRASH_STAGES`); the
crash tests use it to stop an ingest at exact points. It is off when the variable is unset.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hippo.config import Settings
from hippo.cpu import process_tree_cpu
from hippo.embed import Embedder
from hippo.errors import IngestError
from hippo.ingest.chunking import chunk_text
from hippo.ingest.extract.base import Extraction, Extractor, LLMSource, get_extractor
from hippo.ingest.graph_batch import GraphBatch, graph_batch
from hippo.ingest.loaders import LoadedDoc, clean_text, discover, open_file
from hippo.ingest.units import NewDocument, UnitBatch, unit_batch
from hippo.model import Document, IndexReport, Passage, Skip, content_hash, make_id
from hippo.stores.base import GraphStore

__all__ = ["BATCH_PASSAGES", "CRASH_ENV", "CRASH_STAGES", "Progress", "ProgressFn", "index_paths", "index_texts"]

BATCH_PASSAGES = 2048
"""A batch is written once it holds this many passages, even before ``ingest_batch_docs`` documents."""
CRASH_ENV = "HIPPO_CRASH_AT"
CRASH_STAGES = ("extract", "write", "graph", "commit")
"""Where the crash hook can fire, per batch: before extraction; inside the transaction after the
documents, passages and their vectors are written; after the graph records; after the commit."""


@dataclass(frozen=True)
class Progress:
    """Where an indexing run is: files done of files found, passages written so far, and the stage running.

    ``stage`` is the stage a batch of ``batch_passages`` passages has just entered (``extract``, ``embed``,
    ``graph``, ``units``, ``write``; ``""`` between batches); ``documents_done`` of ``documents_total`` are
    the documents written of those planned so far, the total known once a file's documents are read (a
    big streamed file adds its parts as it goes). A caller can tell the time left from these.
    """

    files_done: int
    files_total: int
    passages: int
    current: str
    stage: str = ""
    batch_passages: int = 0
    documents_done: int = 0
    documents_total: int = 0


ProgressFn = Callable[[Progress], None]


@dataclass
class _CrashHook:
    """Testing hook (off by default): SIGKILL this process the ``n``-th time ``stage`` is reached."""

    stage: str = ""
    n: int = 0
    seen: int = 0

    @classmethod
    def from_env(cls) -> _CrashHook:
        stage, _, n = os.environ.get(CRASH_ENV, "").partition(":")
        if stage and stage not in CRASH_STAGES:
            raise IngestError(f"{CRASH_ENV}={stage}:{n}: unknown stage; known: {', '.join(CRASH_STAGES)}.")
        return cls(stage, int(n or 1)) if stage else cls()

    def reach(self, stage: str) -> None:
        if stage == self.stage:
            self.seen += 1
            if self.seen == self.n:
                os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class _Put:
    document: Document
    passages: list[Passage]
    text: str = ""
    turns: bool = False  # the passages arrived pre-split (conversation turns)


@dataclass
class _Delete:
    doc_id: str


@dataclass
class _FileDone:
    path: str
    content_hash: str
    size: int


@dataclass
class _FileGone:
    path: str


@dataclass
class _Planned:
    """Not an operation: how many documents a file holds, once it is read (for progress)."""

    documents: int


_Op = _Put | _Delete | _FileDone | _FileGone


@dataclass
class _Writer:
    """Collects operations and commits them a batch at a time."""

    store: GraphStore
    embed: Callable[[], Embedder]
    settings: Settings
    report: IndexReport
    ops: list[_Op] = field(default_factory=list)
    puts: int = 0
    pending: int = 0  # passages in ``ops``
    extractor: Extractor | None = None
    llm: LLMSource | None = None
    on_stage: Callable[[str, int], None] | None = None  # (stage entered, passages in the batch)
    documents_written: int = 0
    crash: _CrashHook = field(default_factory=_CrashHook.from_env)

    def __post_init__(self) -> None:
        if self.extractor is None:
            self.extractor = get_extractor(self.settings, self.llm)

    def add(self, op: _Op) -> None:
        self.ops.append(op)
        if isinstance(op, _Put):
            self.puts += 1
            self.pending += len(op.passages)
            if self.puts >= self.settings.ingest_batch_docs or self.pending >= BATCH_PASSAGES:
                self.flush()

    def flush(self) -> None:
        if not self.ops:
            return
        ops, self.ops, self.puts, self.pending = self.ops, [], 0, 0
        puts = [op for op in ops if isinstance(op, _Put)]
        passages = [p for op in puts for p in op.passages]
        extractions = self._extract(passages)
        vectors = self._embed(passages, extractions)
        titles = {op.document.id: op.document.title for op in puts if not op.turns}
        graph = self._graph(passages, extractions, titles if getattr(self.extractor, "title_entities", True) else {})
        units = self._units(ops, vectors)
        with self._stage("write", len(passages)):
            self._write(ops, vectors, graph, units)
        self.report.passages += len(passages)
        self.documents_written += len(puts)
        if units is not None:
            self.report.units += len(units.units)
            self.report.associations += len(units.associations)
            self.report.unit_failures.extend(units.failures)
        if graph is not None:
            self.report.entities += len(graph.entities)
            self.report.facts += len(graph.facts)
            self.report.extraction_failures.extend(graph.failures)

    def _write(self, ops: list[_Op], vectors: np.ndarray | None, graph: GraphBatch | None,
               units: UnitBatch | None) -> None:
        """The batch in one transaction: it lands whole or not at all."""
        with self.store.transaction():
            if vectors is not None:
                self.store.set_embedding_dim(vectors.shape[1])
            offset = 0
            reused = graph.referenced() if graph is not None else set()
            for op in ops:
                if isinstance(op, _Delete):
                    self.store.delete_document(op.doc_id, keep=reused)
                elif isinstance(op, _Put):
                    count = len(op.passages)
                    self.store.put_document(op.document, op.passages, vectors[offset:offset + count])
                    offset += count
                elif isinstance(op, _FileGone):
                    self.store.forget_file(op.path)
                else:
                    self.store.set_file(op.path, op.content_hash, op.size)
            self.crash.reach("write")
            if graph is not None:
                self.store.put_graph(graph.entities, graph.entity_vectors, graph.facts, graph.fact_vectors,
                                     graph.mentions, graph.fact_sources)
                self.store.put_synonyms(graph.synonyms)
            self.crash.reach("graph")
            if units is not None:
                self.store.put_units(units.units, units.vectors)
                self.store.put_associations(units.associations)
        self.crash.reach("commit")

    def _stage(self, stage: str, passages: int) -> AbstractContextManager[None]:
        if self.on_stage is not None:
            self.on_stage(stage, passages)
        return _stage(self.report, stage)

    def _extract(self, passages: list[Passage]) -> list[Extraction] | None:
        """Entities and facts of each passage, with its vector when the extractor's pass gives it."""
        if self.extractor is None or not passages:
            return None
        self.crash.reach("extract")
        texts = [p.text for p in passages]
        with self._stage("extract", len(passages)):
            encoder = self._extractor_encoder()
            if encoder is None:
                return self.extractor.extract(texts)
            extractions = self.extractor.extract(texts, embed=self.embed().precision())  # type: ignore[call-arg]
            if self._embeds_like(encoder):
                return extractions
            return [replace(e, vector=None) for e in extractions]

    def _extractor_encoder(self) -> str | None:
        """The sentence encoder the extractor reads (the spaCy NER reads MiniLM), else None.

        Its pass runs over whole passages (``shared_pass``) whatever the store's passage model, so a
        passage gets the same entities and facts under every embedder; its passage vectors are kept
        only when they are the store's (:meth:`_embeds_like`), saving the store's model a second pass."""
        encoder = getattr(self.extractor, "passage_encoder", None)
        return encoder() if encoder is not None else None

    def _embeds_like(self, encoder: str) -> bool:
        """Whether the store embeds passages exactly as ``encoder``'s mean-pooled pass does."""
        embedder = self.embed()
        return (embedder.mean_pooled_window() is not None
                and embedder.identity()["passage"] == {"model": encoder, "prefix": ""})

    def _graph(self, passages: list[Passage], extractions: list[Extraction] | None,
               titles: dict[str, str]) -> GraphBatch | None:
        """The batch's graph records, embedded (before its transaction opens); ``titles`` by document id,
        conversation sessions left out (a session's title is a date, not its subject)."""
        if extractions is None:
            return None
        with self._stage("graph", len(passages)):
            return graph_batch(self.store, self.embed(), passages, extractions, self.extractor.name, self.settings,
                               titles)

    def _units(self, ops: list[_Op], vectors: np.ndarray | None) -> UnitBatch | None:
        """Memory units of the batch's new documents and their associations (before the transaction opens)."""
        mode = self.settings.memory_units
        if mode == "off" or vectors is None:
            return None
        documents, offset = [], 0
        for op in ops:
            if isinstance(op, _Put):
                count = len(op.passages)
                if op.turns or mode == "all":  # other documents get theirs when memgas is first asked
                    documents.append(NewDocument(op.document, op.passages, vectors[offset:offset + count], op.text,
                                                 op.turns))
                offset += count
        if not documents:
            return None
        removed = {op.doc_id for op in ops if isinstance(op, _Delete)}
        with self._stage("units", sum(len(d.passages) for d in documents)):
            return unit_batch(self.store, self.embed(), documents, self.settings, removed=removed, llm=self.llm)

    def _embed(self, passages: list[Passage], extractions: list[Extraction] | None) -> np.ndarray | None:
        """Passage vectors: stored ones of identical passages, those the extraction gave, the rest embedded."""
        if not passages:
            return None
        with self._stage("embed", len(passages)):
            stored = self.store.vectors_by_hash([p.content_hash for p in passages])
            given = [e.vector for e in extractions] if extractions is not None else [None] * len(passages)
            todo = [p.text for p, v in zip(passages, given) if p.content_hash not in stored and v is None]
            fresh = iter(self.embed().encode(todo)) if todo else iter(())
            rows = [stored[p.content_hash] if p.content_hash in stored else v if v is not None else next(fresh)
                    for p, v in zip(passages, given)]
            return np.stack(rows).astype(np.float32, copy=False)


def index_paths(store: GraphStore, embed: Callable[[], Embedder], paths: Sequence[str | os.PathLike[str]], *,
                include: Sequence[str] = (), exclude: Sequence[str] = (),
                on_progress: ProgressFn | None = None, llm: LLMSource | None = None,
                names: Mapping[str, str] | None = None) -> IndexReport:
    """Index files and folders into ``store``; return what was read, written and skipped.

    Parameters
    ----------
    store : the store to write to.
    embed : returns the embedder; called only when there is something to embed, so an
        unchanged re-index never loads the model.
    paths : files and folders; folders are walked recursively (see ``loaders.discover``).
    include, exclude : glob patterns applied inside folders.
    on_progress : called after each file and as each batch enters a stage (see :class:`Progress`).
    llm : the store's LLM client, for extractors that use one (see ``extract.base.get_extractor``).
    names : for uploads (see ``hippo.ingest.uploads``): the name a file, by its resolved path, is
        recorded under instead of that path. A named file whose content the store already holds
        under another name or path is skipped as ``already indexed``, so it is not stored twice.
    """
    started, cpu = time.perf_counter(), process_tree_cpu()
    report = IndexReport()
    held = {digest: path for path, digest, _ in store.list_files()} if names else {}
    files: list[Path] = []
    for item in discover(paths, include, exclude):
        if isinstance(item, Skip):
            report.skipped.append(item)
        else:
            files.append(item)
    where = {"files": 0, "planned": 0, "current": ""}

    def tell(stage: str = "", batch: int = 0) -> None:
        if on_progress:
            done = writer.documents_written + report.documents_unchanged
            planned = report.documents_added + report.documents_replaced + report.documents_unchanged
            on_progress(Progress(where["files"], len(files), report.passages, where["current"], stage, batch,
                                 done, max(where["planned"], planned)))

    writer = _Writer(store, embed, store.settings, report, llm=llm, on_stage=tell)
    with store.write_session():
        for number, path in enumerate(files, start=1):
            where["current"] = str(path)
            try:
                for op in _plan_file(store, path, report, names, held):
                    if isinstance(op, _Planned):
                        where["planned"] += op.documents
                    else:
                        writer.add(op)
            except IngestError as exc:
                report.skipped.append(Skip(str(path), str(exc)))
            where["files"] = number
            tell()
        writer.flush()
        tell()
    report.seconds = time.perf_counter() - started
    report.cpu_seconds = process_tree_cpu() - cpu
    return report


def index_texts(store: GraphStore, embed: Callable[[], Embedder], texts: Iterable[str],
                metadata: Sequence[dict[str, Any]] | None = None, *, llm: LLMSource | None = None,
                extractor: Extractor | None = None) -> IndexReport:
    """Index in-memory texts; each is a document whose source is ``metadata["source"]`` or its hash.

    ``metadata[i]`` may also carry ``title`` and ``timestamp``; the rest is kept as document metadata.
    ``extractor`` replaces the one the settings name (the OpenIE import passes its precomputed
    extractions this way); ``llm`` is the store's LLM client for an extractor that uses one.
    """
    started, cpu = time.perf_counter(), process_tree_cpu()
    report = IndexReport()
    writer = _Writer(store, embed, store.settings, report, extractor=extractor, llm=llm)
    texts = list(texts)
    metas = list(metadata) if metadata is not None else [{} for _ in texts]
    if len(metas) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(metas)} metadata entries; give one per text or none.")
    with store.write_session():
        for number, (text, meta) in enumerate(zip(texts, metas), start=1):
            if not isinstance(text, str) or not text.strip():
                report.skipped.append(Skip(f"text {number}", "empty: the text has no content"))
                continue
            meta = dict(meta)
            source = str(meta.pop("source", "") or f"text:{content_hash(text)[:16]}")
            title = str(meta.pop("title", "") or text.strip().splitlines()[0][:80])
            timestamp = meta.pop("timestamp", None)
            loaded = LoadedDoc("", title, text.strip(), meta, timestamp)
            existing = store.find_documents(source)
            for op in _plan_document(store.settings, source, None, loaded, existing[0] if existing else None,
                                     report):
                writer.add(op)
        writer.flush()
    report.seconds = time.perf_counter() - started
    report.cpu_seconds = process_tree_cpu() - cpu
    return report


def _plan_file(store: GraphStore, path: Path, report: IndexReport, names: Mapping[str, str] | None = None,
               held: dict[str, str] | None = None) -> Iterator[_Op | _Planned]:
    """The operations that bring ``path``'s documents up to date; recorded under ``names[path]`` if given.

    An upload (a named file) whose content is already held under another record (``held``: content
    hash to record, updated here, so two copies in one run are stored once) is skipped; a file
    indexed by path whose name and content match an earlier upload takes that upload's place.
    """
    started, cpu = time.perf_counter(), time.process_time()
    name = (names or {}).get(str(path.resolve()))
    resolved = name or str(path.resolve())
    content = open_file(path, store.settings.max_file_bytes)
    if store.file_hash(resolved) == content.content_hash:
        report.files_unchanged += 1
        return
    if name is not None and held is not None:
        if content.content_hash in held:
            report.skipped.append(Skip(name, f"already indexed: the same content is in the store as "
                                             f"{held[content.content_hash]}"))
            return
        held[content.content_hash] = name
    if name is None and store.file_hash(path.name) == content.content_hash:  # uploaded before: one document
        for old in store.documents_of_file(path.name).values():
            report.documents_removed += 1
            yield _Delete(old.id)
        yield _FileGone(path.name)
    loaded = content.documents()
    if not content.streamed:
        loaded = list(loaded)  # parse now, so a file that cannot be read is skipped before any of it is planned
        yield _Planned(sum(not isinstance(item, Skip) for item in loaded))
    report.files_read += 1
    existing = store.documents_of_file(resolved)
    _add_time(report, "read", started, cpu)
    seen: set[str] = set()
    for item in loaded:
        if isinstance(item, Skip):
            report.skipped.append(Skip(f"{path}#{item.path}", item.reason))
            continue
        source = f"{resolved}#{item.key}" if item.key else resolved
        seen.add(source)
        yield from _plan_document(store.settings, source, resolved, item, existing.get(source), report)
    for source, old in existing.items():
        if source not in seen:
            report.documents_removed += 1
            yield _Delete(old.id)
    yield _FileDone(resolved, content.content_hash, content.size)


def _plan_document(settings: Settings, source: str, file: str | None, loaded: LoadedDoc, old: Document | None,
                   report: IndexReport) -> Iterator[_Op]:
    loaded = _cleaned(loaded)
    doc_hash = content_hash(f"{loaded.title}\x1f{loaded.text}" + (
        "".join(f"\x1f{p.key}\x1e{p.time}" for p in loaded.passages) if loaded.passages is not None else ""))
    if old is not None and old.content_hash == doc_hash:
        report.documents_unchanged += 1
        return
    if old is not None:
        report.documents_replaced += 1
        yield _Delete(old.id)
    else:
        report.documents_added += 1
    metadata = {**loaded.metadata, **({"file": file} if file else {})}
    document = Document(id=make_id("d", source), source=source, title=loaded.title, content_hash=doc_hash,
                        added_at=time.time(), metadata=metadata, timestamp=loaded.timestamp)
    if loaded.passages is not None:  # pre-split (conversation turns): no chunking, keys and times kept
        pieces = [(p.text, p.key, p.time) for p in loaded.passages if p.text.strip()]
    else:
        pieces = [(text, "", None) for text in chunk_text(loaded.text, loaded.title, max_tokens=settings.chunk_tokens,
                                                          overlap=settings.chunk_overlap)]
    passages = [Passage(id=make_id("p", document.id, str(i), content_hash(text)), doc_id=document.id, position=i,
                        text=text, content_hash=content_hash(text), key=key, time=when)
                for i, (text, key, when) in enumerate(pieces)]
    yield _Put(document, passages, loaded.text, loaded.passages is not None)


def _cleaned(loaded: LoadedDoc) -> LoadedDoc:
    """``loaded`` without control characters in its title, text and passages (see ``loaders.clean_text``)."""
    passages = loaded.passages
    if passages is not None:
        passages = tuple(replace(p, text=clean_text(p.text)) for p in passages)
    return replace(loaded, title=clean_text(loaded.title), text=clean_text(loaded.text), passages=passages)


def _add_time(report: IndexReport, stage: str, started: float, cpu: float) -> None:
    """Add wall seconds since ``started`` and this process's CPU seconds since ``cpu`` to ``stage``."""
    report.stage_seconds[stage] = report.stage_seconds.get(stage, 0.0) + time.perf_counter() - started
    report.stage_cpu_seconds[stage] = report.stage_cpu_seconds.get(stage, 0.0) + time.process_time() - cpu


@contextmanager
def _stage(report: IndexReport, stage: str) -> Iterator[None]:
    """Add the wall and CPU seconds (this process and its helpers, ``hippo.cpu``) of the block to ``stage``."""
    started, cpu = time.perf_counter(), process_tree_cpu()
    try:
        yield
    finally:
        report.stage_seconds[stage] = report.stage_seconds.get(stage, 0.0) + time.perf_counter() - started
        report.stage_cpu_seconds[stage] = report.stage_cpu_seconds.get(stage, 0.0) + process_tree_cpu() - cpu

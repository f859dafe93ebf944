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
    "ANSWER_MODES",
    "Answer",
    "ChainStep",
    "Cluster",
    "Document",
    "EPISODIC_LEVEL",
    "Entity",
    "GRANULARITIES",
    "Fact",
    "Hit",
    "IndexReport",
    "LayerReport",
    "Matrix",
    "Passage",
    "ProbeCycle",
    "ProbeResult",
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
    """A chunk of a document: the unit retrieval returns.

    ``key`` is the passage's own id in its source when it has one (a conversation turn keeps its
    ``dia_id`` such as ``D3:5``), ``""`` for chunks; ``time`` is its ISO 8601 time when it has its own.
    """

    id: str
    doc_id: str
    position: int
    text: str
    content_hash: str
    key: str = ""
    time: str | None = None


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
    """A MemGAS memory unit at one granularity (document/session, passage/turn, summary, keywords).

    ``granularity`` is one of :data:`GRANULARITIES`; a ``passage`` unit names its passage in
    ``passage_id`` (the others cover their whole document).
    """

    id: str
    granularity: str
    text: str
    doc_id: str
    time: str | None = None
    passage_id: str | None = None


GRANULARITIES = ("document", "passage", "summary", "keywords")
"""Memory-unit granularities. For a conversation a document is a session and a passage is a turn."""


EPISODIC_LEVEL = 0
"""The level of a timeline window (ComoRAG's episodic layer); semantic clusters have levels 1, 2, ..."""


@dataclass(frozen=True)
class Cluster:
    """A node of ComoRAG's layers: a soft cluster of passages (semantic layer, ``level >= 1``) or a
    window of consecutive passages of one document (episodic layer, ``level == EPISODIC_LEVEL``), with a summary.

    A level-1 cluster groups passages, a level-``l + 1`` cluster groups level-``l`` clusters; every
    cluster is linked to the passages under it (see :mod:`hippo.graph.layers`).
    """

    id: str
    level: int
    summary: str

    @property
    def kind(self) -> str:
        """``"episodic"`` for a timeline window, ``"semantic"`` for a cluster."""
        return "episodic" if self.level == EPISODIC_LEVEL else "semantic"


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
    """One retrieved passage, the same shape for every retrieval method.

    ``key`` and ``time`` are the passage's own id and time when it has them (a conversation turn:
    its ``dia_id`` and time; its session is the document ``doc_id``/``title``).
    """

    passage_id: str
    doc_id: str
    text: str
    score: float
    method: str
    title: str = ""
    source: str = ""
    why: Why = field(default_factory=Why)
    key: str = ""
    time: str | None = None

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
class ChainStep:
    """One fact of the chain that joins the question's entities to the answer, with where it is stated."""

    subject: str
    predicate: str
    object: str
    passage_ids: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return f"{self.subject} {self.predicate} {self.object}"


ANSWER_MODES = ("local", "llm", "extractive")
"""How an answer was made: the in-process local model, an OpenAI-compatible endpoint, or quoted sentences."""


@dataclass(frozen=True)
class Answer:
    """An answer to a question: its text, how it was made, and its evidence.

    ``mode`` is one of :data:`ANSWER_MODES`; ``model`` names the model that wrote it (empty for
    ``extractive``). ``found`` is false when the reader found no answer in the passages (``text``
    then says so). ``chain`` holds the graph's facts from the question's entities to the answer,
    when such a path exists; ``notes`` says what was changed on the way (passages trimmed to fit
    the context, a reply that could not be read and the fallback used).
    """

    question: str
    text: str
    mode: str
    sources: tuple[Source, ...]
    hits: tuple[Hit, ...]
    found: bool = True
    chain: tuple[ChainStep, ...] = ()
    notes: tuple[str, ...] = ()
    model: str = ""

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
    units: int = 0
    associations: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process and its helpers (``hippo.cpu``), beside the wall ``seconds``
    skipped: list[Skip] = field(default_factory=list)
    extraction_failures: list[Skip] = field(default_factory=list)
    unit_failures: list[Skip] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    stage_cpu_seconds: dict[str, float] = field(default_factory=dict)
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


@dataclass
class LayerReport:
    """What one build of ComoRAG's layers did (``kg.cluster()``, ``hippo cluster``).

    ``semantic`` is ``"rebuilt"``, ``"up to date"`` (the passages have not changed since the last
    build) or ``"empty"`` (no passages); ``clusters_per_level`` counts the layers after the build,
    level 0 being the episodic windows; ``fitted`` is how many passages the level-1 mixture was
    fitted on (the others were assigned by it); ``summaries`` says who wrote them (``"extractive"``
    or ``"llm"``); ``failures`` lists the summaries the LLM could not write (made extractively instead).
    """

    passages: int = 0
    semantic: str = "empty"
    clusters_per_level: dict[int, int] = field(default_factory=dict)
    windows_added: int = 0
    windows_removed: int = 0
    fitted: int = 0
    summaries: str = "extractive"
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class ProbeCycle:
    """One round of ``comorag``'s loop: what it searched for and what that added.

    ``cycle`` 0 is the question itself (``probes == (question,)``); ``new_passages`` are the
    passages first retrieved in this round (any rank); ``new_in_top`` those that entered the top
    ``k`` of the fused ranking; ``coverage`` is the share of the question's content words found in
    the top evidence after the round (the offline confidence); ``findings`` are the LLM's notes on
    this round's evidence (empty offline); ``note`` says what failed and fell back, if anything.
    """

    cycle: int
    probes: tuple[str, ...]
    new_passages: tuple[str, ...] = ()
    new_in_top: tuple[str, ...] = ()
    coverage: float = 0.0
    findings: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class ProbeResult:
    """What ``comorag`` found for one question: the fused hits and the trace of its loop.

    ``stopped`` says why the loop ended (``sufficient``, ``no new evidence``, ``no probes left``,
    ``cycle limit``); ``mode`` is ``"offline"`` or ``"llm"``; ``answer`` is the LLM's short answer
    when it judged the evidence sufficient (None otherwise).
    """

    query: str
    hits: tuple[Hit, ...]
    cycles: tuple[ProbeCycle, ...]
    stopped: str
    mode: str
    base: str
    answer: str | None = None

    @property
    def probes(self) -> tuple[str, ...]:
        """Every probing query, in the order asked (the question itself not included)."""
        return tuple(p for c in self.cycles[1:] for p in c.probes)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

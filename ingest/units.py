"""Memory units for new documents, and their association with the units already stored (MemGAS).

Every new document (a session of a conversation, or any other document) gets four kinds of unit:

- ``document``: its text (a session: its turns, one per line), cut at 4,000 characters; its vector is
  the normalised mean of its passage vectors;
- ``passage``: one unit per passage, with the passage's vector; a turn unit's text is the turn read
  after the utterance before it, and is embedded;
- ``summary``: extractive, or written by the LLM (``memory_summaries="llm"``); embedded;
- ``keywords``: ``"; "``-joined key phrases, extractive or by the LLM; embedded.

Two choices differ from the MemGAS code on purpose. The turn granularity is one unit per turn,
not one mean-of-turns vector per session, so memory can point at the turn that answers; the
mean-of-turns vector is kept, as the ``document`` unit's vector: an embedding of a whole session
would see only its first 256 tokens (all-MiniLM-L6-v2's window), while the mean sees every turn.
A turn unit's text is the utterance before it, a newline, then the turn, as MemGAS pairs
consecutive utterances: a reply ("Yes, last Friday!") says little without what it answers. On the
LoCoMo dev conversations (26, 30) this raised dense session recall_all@5 over turns by 5-10 points.
The passage itself stays the single utterance, so turn ids stay exact.

Association runs once per batch, before its transaction: each new unit is scored against the
stored units of other documents and the new units of documents earlier in the batch, and the
Gaussian mixture of :mod:`hippo.memory.association` picks its ASSOCIATED edges. Older units are
never re-associated, and no unit is linked to a unit of its own document. "Earlier" means stored
before: a changed document that is re-indexed is associated with every other document stored then.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from hippo.config import Settings
from hippo.embed import Embedder
from hippo.errors import LLMError
from hippo.ingest.extract.base import LLMSource
from hippo.memory.association import associate
from hippo.memory.extractive import extract_keywords, extractive_summary, strip_label
from hippo.model import Document, Matrix, Passage, Skip, Unit, make_id
from hippo.stores.base import GraphStore
from hippo.text import split_sentences

__all__ = ["DOCUMENT_UNIT_CHARS", "KEYWORDS", "SUMMARY_PIECES", "NewDocument", "UnitBatch", "unit_batch"]

logger = logging.getLogger(__name__)

DOCUMENT_UNIT_CHARS = 4000
"""The stored text of a ``document`` unit is cut here (its vector covers every passage anyway)."""
SUMMARY_PIECES = 3
"""Turns or sentences in an extractive summary (MemGAS's offline substitute: top 3)."""
KEYWORDS = 10
"""Key phrases in a keyword unit."""
LLM_INPUT_CHARS = 12000
"""Text shown to the LLM for a summary or keywords is cut here."""


@dataclass(frozen=True)
class NewDocument:
    """A document being written, with what its units are made from.

    ``turns`` is true when the passages arrived pre-split (conversation turns): they are then the
    pieces of the summary and keywords, otherwise the sentences of ``text`` are.
    """

    document: Document
    passages: Sequence[Passage]
    vectors: Matrix
    text: str
    turns: bool = False


@dataclass
class UnitBatch:
    """What one ingest batch adds to the memory."""

    units: list[Unit] = field(default_factory=list)
    vectors: Matrix = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    associations: list[tuple[str, str, float]] = field(default_factory=list)
    failures: list[Skip] = field(default_factory=list)


def unit_batch(store: GraphStore, embedder: Embedder, documents: Sequence[NewDocument], settings: Settings, *,
               removed: Collection[str] = (), llm: LLMSource | None = None) -> UnitBatch:
    """Units, their vectors and their ASSOCIATED edges for ``documents`` (in insertion order).

    ``removed`` are ids of documents this batch deletes: their stored units are not candidates.
    """
    batch = UnitBatch()
    documents = [d for d in documents if len(d.passages)]
    if not documents:
        return batch
    written = _written_units(documents, settings, llm, batch.failures)
    vectors: list[np.ndarray | None] = []
    to_embed: list[str] = []
    groups: list[int] = []
    for group, (doc, units) in enumerate(zip(documents, written)):
        by_text = {p.text: v for p, v in zip(doc.passages, doc.vectors)}
        for unit in units:
            batch.units.append(unit)
            groups.append(group)
            if unit.granularity == "document":
                vectors.append(_mean(doc.vectors))
            elif unit.text in by_text:
                vectors.append(by_text[unit.text])
            else:
                vectors.append(None)
                to_embed.append(unit.text)
    fresh = iter(embedder.encode(to_embed)) if to_embed else iter(())
    batch.vectors = np.stack([v if v is not None else next(fresh) for v in vectors]).astype(np.float32)
    excluded = set(removed) | {d.document.id for d in documents}
    batch.associations = _associations(store, batch, np.asarray(groups), excluded, settings.association_top_n)
    return batch


def _mean(vectors: Matrix) -> np.ndarray:
    mean = np.asarray(vectors, dtype=np.float64).mean(axis=0)
    norm = np.linalg.norm(mean)
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def _written_units(documents: Sequence[NewDocument], settings: Settings, llm: LLMSource | None,
                   failures: list[Skip]) -> list[list[Unit]]:
    """The units of each document, with summaries and keywords from the LLM when asked and possible."""
    written: dict[int, tuple[str, list[str]]] = {}
    if settings.memory_summaries == "llm":
        client = llm() if llm is not None else None
        if client is None:
            logger.warning("memory_summaries='llm' but no LLM is configured; summaries and keywords are extractive.")
        else:
            written = _llm_texts(client, documents, failures)
    return [_units(doc, *written.get(i, _extractive_texts(doc))) for i, doc in enumerate(documents)]


def _speakers(doc: NewDocument) -> list[str]:
    speakers = doc.document.metadata.get("speakers")
    return [str(s) for s in speakers] if isinstance(speakers, list) else []


def _extractive_texts(doc: NewDocument) -> tuple[str, list[str]]:
    """(summary, keywords) made offline from the document's turns or sentences."""
    speakers = _speakers(doc)
    if doc.turns:
        pieces = [p.text for p in doc.passages]
        summary = extractive_summary(pieces, size=SUMMARY_PIECES, exclude=speakers)
        keywords = extract_keywords([strip_label(p) for p in pieces], top=KEYWORDS, exclude=speakers)
    else:
        sentences = split_sentences(doc.text)
        summary = extractive_summary(sentences, size=SUMMARY_PIECES)
        keywords = extract_keywords(sentences, top=KEYWORDS)
    return summary, keywords


def _llm_texts(client: object, documents: Sequence[NewDocument], failures: list[Skip]
               ) -> dict[int, tuple[str, list[str]]]:
    from hippo.llm.client import ChatRequest
    from hippo.llm.prompts import keyword_messages, summary_messages
    from hippo.llm.replies import strip_reasoning

    requests = []
    for doc in documents:
        text = doc.text[:LLM_INPUT_CHARS]
        requests.append(ChatRequest(summary_messages(text, dialogue=doc.turns), max_tokens=500))
        requests.append(ChatRequest(keyword_messages(text, dialogue=doc.turns), max_tokens=200))
    replies = client.chat_many(requests)  # type: ignore[attr-defined]
    out: dict[int, tuple[str, list[str]]] = {}
    for i, doc in enumerate(documents):
        summary, keywords = replies[2 * i], replies[2 * i + 1]
        if isinstance(summary, LLMError) or isinstance(keywords, LLMError):
            error = summary if isinstance(summary, LLMError) else keywords
            failures.append(Skip(doc.document.id, f"LLM summary failed: {error}; the extractive one is used"))
            continue
        summary_text = " ".join(strip_reasoning(summary.text).split())
        phrases = [" ".join(k.strip(" -*•\"'").split()) for k in
                   strip_reasoning(keywords.text).replace("\n", ";").replace(",", ";").split(";")]
        phrases = list(dict.fromkeys(k for k in phrases if k))[:KEYWORDS * 2]
        if not summary_text or not phrases:
            failures.append(Skip(doc.document.id, "LLM summary failed: an empty reply; the extractive one is used"))
            continue
        out[i] = (summary_text, phrases)
    return out


def _units(doc: NewDocument, summary: str, keywords: list[str]) -> list[Unit]:
    document = doc.document
    time = document.timestamp
    text = "\n".join(p.text for p in doc.passages) if doc.turns else doc.text
    if len(text) > DOCUMENT_UNIT_CHARS:
        text = text[:DOCUMENT_UNIT_CHARS - 1] + "…"
    units = [Unit(make_id("u", document.id, "document"), "document", text, document.id, time)]
    texts = [p.text for p in doc.passages]
    if doc.turns:  # a turn is read after the utterance it answers
        texts = [texts[0]] + [f"{before}\n{turn}" for before, turn in itertools.pairwise(texts)]
    units += [Unit(make_id("u", document.id, "passage", str(p.position)), "passage", text, document.id,
                   p.time or time, p.id) for p, text in zip(doc.passages, texts)]
    if summary.strip():
        units.append(Unit(make_id("u", document.id, "summary"), "summary", summary, document.id, time))
    if keywords:
        units.append(Unit(make_id("u", document.id, "keywords"), "keywords", "; ".join(keywords), document.id, time))
    return units


def _associations(store: GraphStore, batch: UnitBatch, groups: np.ndarray, excluded: set[str],
                  top_n: int) -> list[tuple[str, str, float]]:
    """ASSOCIATED edges (new unit id, older unit id, cosine) for the batch's units."""
    stored = store.vector_table("unit")
    rows = np.flatnonzero(stored.live)
    if rows.size:  # only the excluded documents' own units are looked up: reading every unit per batch was quadratic
        dropped = {u.id for doc_id in excluded for u in store.document_units(doc_id)}
        if dropped:
            keep = np.fromiter((i not in dropped for i in stored.ids[rows].tolist()), dtype=bool, count=rows.size)
            rows = rows[keep]
    old_ids = stored.ids[rows].tolist()
    old_vectors = np.asarray(stored.matrix)[rows] if rows.size else np.zeros((0, batch.vectors.shape[1]), np.float32)
    new_rows, columns, scores = associate(batch.vectors, groups, old_vectors, top_n=top_n)
    pool = old_ids + [u.id for u in batch.units]
    return [(batch.units[r].id, pool[c], round(float(s), 6)) for r, c, s in zip(new_rows.tolist(), columns.tolist(),
                                                                                   scores.tolist())]

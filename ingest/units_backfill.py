"""Memory units for the documents that have none, built when ``memgas`` first needs them.

Why: with ``memory_units="conversations"`` (the default) only conversation sessions get their units at
ingest. Other documents rarely meet ``memgas`` (on 2WikiMultihopQA their units were a fifth of the index
time and no benchmarked method read them), so theirs are built here, the first time ``memgas``,
``kg.units`` or ``kg.sessions`` is asked on the store, oldest document first, one transaction per
``ingest_batch_docs`` documents, as an ingest would have built them.

The store keeps passages, not a document's full text, so the text that summaries and keywords are
drawn from is put back together from the passages: each passage without its title line, sentences
that the chunk overlap repeats kept once. A conversation's text is its turns, one per line, as the
loader gives it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hippo.config import Settings
from hippo.embed import Embedder
from hippo.ingest.extract.base import LLMSource
from hippo.ingest.units import NewDocument, unit_batch
from hippo.model import Document, Passage
from hippo.stores.base import GraphStore, PassageContext
from hippo.text import split_sentences

__all__ = ["backfill_units", "documents_without_units"]


def documents_without_units(store: GraphStore) -> list[str]:
    """Ids of the documents that have passages but no memory unit, oldest first."""
    with_units = set(store.memory_edges().units[1])
    missing = [s.document for s in store.list_documents() if s.passages and s.document.id not in with_units]
    return [d.id for d in sorted(missing, key=lambda d: d.added_at)]


def backfill_units(store: GraphStore, embedder: Embedder, settings: Settings, llm: LLMSource | None = None) -> int:
    """Build and associate the units of every document that has none; return how many documents got units."""
    done = 0
    with store.write_session():
        missing = documents_without_units(store)  # again under the lock: another process may have built them
        if not missing:
            return 0
        wanted = set(missing)
        passages: dict[str, list[PassageContext]] = {doc_id: [] for doc_id in missing}
        for passage in store.iter_passages():
            if passage.doc_id in wanted:
                passages[passage.doc_id].append(passage)
        table = store.vector_table("passage")
        row_of = {passage_id: row for row, passage_id in enumerate(table.ids.tolist()) if passage_id}
        for start in range(0, len(missing), settings.ingest_batch_docs):
            documents = [_new_document(store.document(doc_id), passages[doc_id], table.matrix, row_of)
                         for doc_id in missing[start:start + settings.ingest_batch_docs]]
            documents = [d for d in documents if d is not None]
            batch = unit_batch(store, embedder, documents, settings, llm=llm)
            with store.transaction():
                store.put_units(batch.units, batch.vectors)
                store.put_associations(batch.associations)
            done += len(documents)
    return done


def _new_document(document: Document | None, stored: Sequence[PassageContext], matrix: np.ndarray,
                  row_of: dict[str, int]) -> NewDocument | None:
    """A stored document as the unit builder takes it: passages, their vectors and the document's text."""
    if document is None or not stored:
        return None
    stored = sorted(stored, key=lambda p: p.position)
    passages = [Passage(id=p.passage_id, doc_id=p.doc_id, position=p.position, text=p.text, content_hash="",
                        key=p.key, time=p.time) for p in stored]
    vectors = np.asarray(matrix)[[row_of[p.passage_id] for p in stored]]
    turns = "speakers" in document.metadata  # a conversation session (see hippo.ingest.conversations)
    if turns:
        text = "\n".join(p.text for p in passages)
    else:
        sentences = [s for p in passages for s in split_sentences(_without_title(p.text, document.title))]
        text = " ".join(dict.fromkeys(sentences))
    return NewDocument(document, passages, vectors, text, turns)


def _without_title(text: str, title: str) -> str:
    """A passage's text without the title line the chunker put first."""
    first, _, rest = text.partition("\n")
    return rest if rest and first.strip() == title.strip() else text

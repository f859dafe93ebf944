"""Indexing a HippoRAG OpenIE file: its passages, with its entities and triples instead of an extractor.

Each doc of the file becomes a document whose text is the doc's passage (its first line is
the title, as in HippoRAG's ``"title\\ntext"``). Passages are chunked like any text; a passage
within the token budget (HippoRAG's usually are) stays one passage and keeps the doc's whole
extraction. A longer one is split, and each chunk gets the entities it contains and the
triples whose subject or object it contains; what no chunk contains goes to the first chunk.
Facts are recorded with provenance ``openie-import``. Importing the same file again changes
nothing (documents are keyed by file and ``idx``, and content hashes match).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from hippo.embed import Embedder
from hippo.ingest.chunking import chunk_text
from hippo.ingest.extract.base import Extraction, Mention, Triple
from hippo.ingest.pipeline import index_texts
from hippo.model import IndexReport, Skip
from hippo.openie import OpenIEDoc, read_openie
from hippo.stores.base import GraphStore

__all__ = ["PROVENANCE", "PrecomputedExtractor", "import_openie"]

PROVENANCE = "openie-import"


class PrecomputedExtractor:
    """An extractor that looks passages up in extractions made elsewhere."""

    name = PROVENANCE
    title_entities = False  # an import keeps the file's entities as they are (export gives them back unchanged)

    def __init__(self, by_text: dict[str, Extraction]) -> None:
        self.by_text = by_text

    def extract(self, texts: Sequence[str]) -> list[Extraction]:
        missing = Extraction(failed="the OpenIE file has no extraction for this passage")
        return [self.by_text.get(text, missing) for text in texts]


def import_openie(store: GraphStore, embed: Callable[[], Embedder], path: str | os.PathLike[str]) -> IndexReport:
    """Index the passages of an OpenIE file with its extractions; see the module docstring."""
    path = Path(path)
    settings = store.settings
    texts: list[str] = []
    metadata: list[dict[str, str]] = []
    by_text: dict[str, Extraction] = {}
    skipped: list[Skip] = []
    for doc in read_openie(path):
        text = doc.passage.strip()
        if not text:
            skipped.append(Skip(f"{path}#{doc.idx}", "empty: the passage has no text"))
            continue
        title = text.splitlines()[0][:80]  # what index_texts would choose, given here so chunks match
        chunks = chunk_text(text, title, max_tokens=settings.chunk_tokens, overlap=settings.chunk_overlap)
        by_text.update(zip(chunks, _share(doc, chunks)))
        texts.append(text)
        metadata.append({"source": f"{path.resolve()}#{doc.idx}", "title": title})
    report = index_texts(store, embed, texts, metadata, extractor=PrecomputedExtractor(by_text))
    report.skipped[:0] = skipped
    return report


def _share(doc: OpenIEDoc, chunks: Sequence[str]) -> list[Extraction]:
    """The doc's extraction split over its chunks (all of it when there is one chunk)."""
    if len(chunks) == 1:
        return [Extraction(tuple(Mention(e) for e in doc.entities), tuple(Triple(*t) for t in doc.triples))]
    lowered = [c.casefold() for c in chunks]
    entities: list[list[Mention]] = [[] for _ in chunks]
    triples: list[list[Triple]] = [[] for _ in chunks]
    for entity in doc.entities:
        homes = [i for i, c in enumerate(lowered) if entity.casefold() in c] or [0]
        for i in homes:
            entities[i].append(Mention(entity))
    for s, p, o in doc.triples:
        homes = [i for i, c in enumerate(lowered) if s.casefold() in c or o.casefold() in c] or [0]
        for i in homes:
            triples[i].append(Triple(s, p, o))
    return [Extraction(tuple(e), tuple(t)) for e, t in zip(entities, triples)]

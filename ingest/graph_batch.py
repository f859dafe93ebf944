"""From extractions to graph records: entities, facts, mentions, provenance and synonymy edges.

Runs once per ingest batch, before the batch's transaction: it decides which entities and
facts are new (only those are embedded), and computes synonymy edges for the new entities
only, against every stored entity plus the batch's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from hippo.config import Settings
from hippo.embed import Embedder
from hippo.graph.synonyms import synonym_pairs
from hippo.ingest.extract.base import Extraction
from hippo.ingest.extract.labels import label_rank, title_label
from hippo.model import Entity, Fact, Matrix, Passage, Skip, make_id
from hippo.stores.base import GraphStore
from hippo.text import normalize_name

__all__ = ["GraphBatch", "graph_batch"]


@dataclass
class GraphBatch:
    """What one ingest batch adds to the graph."""

    entities: list[Entity] = field(default_factory=list)
    entity_vectors: Matrix = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    facts: list[Fact] = field(default_factory=list)
    fact_vectors: Matrix = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    mentions: list[tuple[str, str]] = field(default_factory=list)
    fact_sources: list[tuple[str, str, str]] = field(default_factory=list)
    synonyms: list[tuple[str, str, float]] = field(default_factory=list)
    failures: list[Skip] = field(default_factory=list)


    def referenced(self) -> set[str]:
        """Ids of every entity and fact the batch refers to, new or already stored.

        The batch's transaction deletes replaced documents before writing this batch; these ids
        must survive that deletion, since the batch only inserts the records that did not exist.
        """
        ids = {entity for _, entity in self.mentions} | {fact for fact, _, _ in self.fact_sources}
        return ids


def graph_batch(store: GraphStore, embedder: Embedder, passages: Sequence[Passage],
                extractions: Sequence[Extraction], extractor: str, settings: Settings,
                titles: Mapping[str, str] | None = None) -> GraphBatch:
    """Graph records for ``passages`` given one extraction each (same order).

    ``titles`` maps a document id to its title when its passages should each mention the title's
    entity (see :func:`title_entity`); conversation sessions are left out by the caller.
    """
    batch = GraphBatch()
    entities: dict[str, Entity] = {}
    facts: dict[str, Fact] = {}
    titles = titles if settings.title_entities and titles else {}
    for passage, extraction in zip(passages, extractions):
        if extraction.failed:
            batch.failures.append(Skip(passage.id, f"extraction failed: {extraction.failed}"))
        for mention in extraction.entities:
            entity = _entity(entities, mention.display, mention.label)
            if entity:
                batch.mentions.append((passage.id, entity.id))
        title = title_entity(entities, titles.get(passage.doc_id, ""))
        if title:
            batch.mentions.append((passage.id, title.id))
        for triple in extraction.triples:
            subject = _entity(entities, triple.subject_entity or triple.subject, None)
            obj = _entity(entities, triple.object_entity or triple.object, None)
            predicate = " ".join(triple.predicate.split())
            if not (subject and obj and predicate) or subject.id == obj.id:
                continue
            fact_id = make_id("f", subject.id, predicate.casefold(), obj.id)
            facts.setdefault(fact_id, Fact(fact_id, subject.id, predicate, obj.id, " ".join(triple.subject.split()),
                                           " ".join(triple.object.split())))
            batch.fact_sources.append((fact_id, passage.id, extraction.extractor or extractor))
            batch.mentions.extend([(passage.id, subject.id), (passage.id, obj.id)])
    batch.mentions = list(dict.fromkeys(batch.mentions))
    known_entities = store.known_ids("entity", list(entities))
    batch.entities = [e for i, e in entities.items() if i not in known_entities]
    known_facts = store.known_ids("fact", list(facts))
    batch.facts = [f for i, f in facts.items() if i not in known_facts]
    batch.entity_vectors = _encode(embedder, [e.display for e in batch.entities], "entity")
    batch.fact_vectors = _encode(embedder, [f.text for f in batch.facts], "fact")
    if batch.entities:
        stored = store.vector_table("entity")
        batch.synonyms = synonym_pairs(
            [e.id for e in batch.entities], [e.name for e in batch.entities], batch.entity_vectors,
            stored.ids, stored.matrix, stored.live,
            threshold=settings.synonym_threshold, max_per_entity=settings.synonym_max,
        )
    return batch


def title_entity(entities: dict[str, Entity], title: str) -> Entity | None:
    """The entity of a document title that reads as a name (see :func:`title_label`), else None.

    Every passage of the document mentions it, so an article is reachable from its own subject
    even where its text says "he" or "the film". Dates, numbers, non-names and over-long titles
    are skipped without a word: a title is optional evidence, not a requirement.
    """
    label = title_label(title)
    return _entity(entities, title, label) if label else None


def _entity(entities: dict[str, Entity], display: str, label: str | None) -> Entity | None:
    """The batch's entity for ``display`` (first display form wins; the most telling label wins)."""
    display = " ".join(display.split())
    name = normalize_name(display)
    if not name:
        return None
    entity_id = make_id("e", name)
    found = entities.get(entity_id)
    if found is None:
        found = entities[entity_id] = Entity(entity_id, name, display, label)
    elif label_rank(label) > label_rank(found.label):
        found = entities[entity_id] = Entity(entity_id, name, found.display, label)
    return found


def _encode(embedder: Embedder, texts: list[str], role: str) -> Matrix:
    """Entity names or fact texts as ``role`` (a split embedder gives them its fast model)."""
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return embedder.encode(texts, role)

"""What a store holds, read through the ``GraphStore`` interface only, in a form two stores can be compared by.

Vector rows are left out (a copy compacts rows freed by deletions); vectors are compared by owner id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

import hippo
from hippo.stores.base import GraphStore

METHODS = ("dense", "bm25", "hipporag", "memgas")


def store_records(store: GraphStore) -> dict:
    """Every record and edge of ``store``, order kept where the interface promises an order."""
    passages = list(store.iter_passages())
    passage_ids = [p.passage_id for p in passages]
    edges = store.graph_edges()
    memory = store.memory_edges()
    layers = store.cluster_edges()
    entity_ids = sorted(store.entity_names()[0])
    unit_ids = memory.units[0]
    return {
        "counts": store.counts(),
        "documents": [(s.document, s.passages) for s in store.list_documents()],
        "files": store.list_files(),
        "passages": passages,
        "entities": [store.entities(entity_ids)[i] for i in entity_ids],
        "facts": sorted(
            (
                dataclasses.replace(f, passage_ids=tuple(sorted(f.passage_ids)))
                for f in store.facts(edges.facts[0]).values()
            ),
            key=lambda f: f.id,
        ),
        "relations": sorted(zip(*edges.relations)),
        "mentions": store.mentions_of_passages(passage_ids),
        "fact_sources": _by_passage(store.fact_sources(passage_ids)),
        "synonyms": sorted((a, b, round(s, 6)) for a, b, s in zip(*edges.synonyms)),
        "units": [store.units(unit_ids)[u] for u in unit_ids],
        "associations": sorted((a, b, round(w, 6)) for a, b, w in zip(*memory.associations)),
        "clusters": [store.clusters(layers.clusters[0])[c] for c in layers.clusters[0]],
        "members": sorted((c, p, round(w, 6)) for c, p, w in zip(*layers.members)),
        "layer_info": store.layer_info(),
    }


def _by_passage(sources: list[tuple[str, str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Provenance rows grouped by passage, each passage's in recorded order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for fact, passage, extractor in sources:
        out.setdefault(passage, []).append((fact, extractor))
    return out


def vectors_by_id(store: GraphStore, kind: str) -> dict[str, np.ndarray]:
    """The live vectors of one kind, by owner id."""
    table = store.vector_table(kind)
    rows = np.flatnonzero(table.live)
    return {table.ids[r]: np.asarray(table.matrix[r]) for r in rows}


def assert_same_vectors(
    a: GraphStore, b: GraphStore, kinds: Sequence[str] = ("passage", "entity", "fact", "unit", "cluster")
) -> None:
    for kind in kinds:
        left, right = vectors_by_id(a, kind), vectors_by_id(b, kind)
        assert left.keys() == right.keys(), kind
        for owner, vector in left.items():
            np.testing.assert_allclose(vector, right[owner], atol=1e-6, err_msg=f"{kind} {owner}")


def rankings(
    kg: hippo.KnowledgeGraph, questions: Sequence[str], methods: Sequence[str] = METHODS, k: int = 5
) -> dict[str, list[list[tuple[str, float]]]]:
    """(passage id, score) of the top ``k`` hits per question, by method."""
    return {
        m: [[(h.passage_id, h.score) for h in hits] for hits in kg.retrieve_many(list(questions), k=k, method=m)]
        for m in methods
    }


def assert_same_rankings(left: dict, right: dict, atol: float = 1e-5) -> None:
    """Same passages in the same order for every method and question; scores equal within ``atol``."""
    for method, per_question in left.items():
        for i, (a, b) in enumerate(zip(per_question, right[method], strict=True)):
            assert [p for p, _ in a] == [p for p, _ in b], f"{method}, question {i}"
            np.testing.assert_allclose([s for _, s in a], [s for _, s in b], atol=atol, err_msg=f"{method} q{i}")

"""The graph after deleting a document equals the graph that never had it."""

import shutil

import pytest

import hippo
from tests.conftest import DEMO, spacy_model_or_skip

SYNONYM_MARGIN = 0.8 + 1e-3


def graph_signature(kg: hippo.KnowledgeGraph) -> dict:
    store = kg.store
    edges = store.graph_edges()
    entities = store.entities(list(set(edges.mentions[1]) | set(edges.relations[0]) | set(edges.relations[1])))
    return {
        "entities": sorted((e.id, e.name) for e in entities.values()),
        "counts": {k: v for k, v in store.counts().items()
                   if k not in ("documents", "files", "passages", "synonyms", "units", "associations")},
        "relations": sorted(zip(*edges.relations)),
        "mentions": sorted(zip(*edges.mentions)),
        # cosines move in the 7th digit with embedding batch composition: ignore pairs at the threshold
        "synonyms": {(min(a, b), max(a, b)): pytest.approx(s, abs=1e-5) for a, b, s in zip(*edges.synonyms)
                     if s >= SYNONYM_MARGIN},
        "facts": sorted(zip(*edges.facts)),
    }


def test_abc_equals_abcd_minus_d(tmp_path):
    spacy_model_or_skip()
    files = sorted(DEMO.glob("people/*.md"))[:4]  # people pages share many entities
    base = tmp_path / "docs"
    base.mkdir()
    for f in files:
        shutil.copy(f, base / f.name)
    d = base / files[3].name
    with hippo.open(tmp_path / "abcd", extractor="spacy", ingest_batch_docs=1) as kg:
        kg.index(base)
        kg.delete(str(d.resolve()))
        with_d_deleted = graph_signature(kg)
        graph_after = kg.to_networkx()
    d.unlink()
    with hippo.open(tmp_path / "abc", extractor="spacy") as kg:
        kg.index(base)
        never_had_d = graph_signature(kg)
        graph_never = kg.to_networkx()
    assert with_d_deleted == never_had_d
    def weighted_edges(graph):  # embeddings differ in the 7th digit with batch composition
        return {(min(a, b), max(a, b)): pytest.approx(d["weight"], abs=1e-5) for a, b, d in graph.edges(data=True)
                if d["kind"] != "synonym" or d["weight"] >= SYNONYM_MARGIN}

    assert weighted_edges(graph_after) == weighted_edges(graph_never)

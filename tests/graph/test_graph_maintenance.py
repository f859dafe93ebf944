"""The graph after deleting a document equals the graph that never had it."""

import shutil

import hippo
from tests.conftest import DEMO, spacy_model_or_skip


def graph_signature(kg: hippo.KnowledgeGraph) -> dict:
    store = kg.store
    edges = store.graph_edges()
    entities = store.entities(list(set(edges.mentions[1]) | set(edges.relations[0]) | set(edges.relations[1])))
    return {
        "entities": sorted((e.id, e.name) for e in entities.values()),
        "counts": {k: v for k, v in store.counts().items() if k not in ("documents", "files", "passages", "synonyms")},
        "relations": sorted(zip(*edges.relations)),
        "mentions": sorted(zip(*edges.mentions)),
        "synonyms": sorted({(min(a, b), max(a, b)): round(s, 5) for a, b, s in zip(*edges.synonyms)}.items()),
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
    assert sorted(graph_after.edges(data="weight")) == sorted(graph_never.edges(data="weight"))

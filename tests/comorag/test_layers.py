"""ComoRAG's layers in the store: episodic windows per document, semantic clusters, incremental updates."""

from __future__ import annotations

import math

import pytest

import hippo
from hippo.graph.layers import window_size, windows
from hippo.model import EPISODIC_LEVEL
from tests.conftest import DEMO


def demo_texts() -> list[tuple[str, str]]:
    """(title, text) of every demo file, in a fixed order."""
    files = sorted(p for p in DEMO.rglob("*.md"))
    return [(p.stem, p.read_text()) for p in files]


@pytest.fixture()
def kg_texts(tmp_path) -> hippo.KnowledgeGraph:
    """The demo files as separate documents plus all of them joined into one long document (no extractor)."""
    kg = hippo.open(tmp_path / "store", comorag_llm=False)
    texts = demo_texts()
    kg.add_texts([t for _, t in texts] + ["\n\n".join(t for _, t in texts)],
                 [{"title": title, "source": title} for title, _ in texts] + [{"title": "All", "source": "all"}])
    yield kg
    kg.close()


def layer_members(kg: hippo.KnowledgeGraph) -> tuple[dict[str, int], dict[str, dict[str, float]]]:
    """(level by cluster id, {cluster id: {passage id: weight}})."""
    edges = kg.store.cluster_edges()
    members: dict[str, dict[str, float]] = {}
    for cluster, passage, weight in zip(*edges.members):
        members.setdefault(cluster, {})[passage] = weight
    return dict(zip(*edges.clusters)), members


def test_window_sizes_follow_the_real_passage_count():
    assert window_size(4) == 2 and window_size(12) == 3 and window_size(40) == 5 and window_size(150) == 10
    assert windows(["a", "b", "c"]) == [["a", "b"], ["c"]]
    assert windows(["a"]) == []


def test_episodic_windows_are_consecutive_passages_of_one_document(kg_texts):
    report = kg_texts.cluster()
    levels, members = layer_members(kg_texts)
    passages = {p.passage_id: p for p in kg_texts.store.iter_passages()}
    by_doc: dict[str, list[str]] = {}
    for p in sorted(passages.values(), key=lambda p: p.position):
        by_doc.setdefault(p.doc_id, []).append(p.passage_id)
    expected = sum(math.ceil(len(ids) / window_size(len(ids))) for ids in by_doc.values() if len(ids) > 1)
    episodic = [c for c, level in levels.items() if level == EPISODIC_LEVEL]
    assert len(episodic) == expected == report.windows_added == report.clusters_per_level[0] > 0
    starts = []
    for cluster in episodic:
        ids = list(members[cluster])
        docs = {passages[p].doc_id for p in ids}
        assert len(docs) == 1 and all(w == 1.0 for w in members[cluster].values())
        order = by_doc[docs.pop()]
        positions = sorted(order.index(p) for p in ids)
        assert positions == list(range(positions[0], positions[0] + len(ids)))  # consecutive, in story order
        starts.append(positions[0])
    summaries = kg_texts.store.clusters(episodic)
    assert all(summaries[c].summary and summaries[c].kind == "episodic" for c in episodic)


def test_semantic_clusters_cover_every_passage_and_are_linked_to_them(kg_texts):
    report = kg_texts.cluster()
    assert report.semantic == "rebuilt" and report.clusters_per_level.get(1, 0) >= 2
    assert report.fitted == report.passages and report.seconds > 0 and "cluster" in report.stage_seconds
    levels, members = layer_members(kg_texts)
    level_one = [c for c, level in levels.items() if level == 1]
    covered = {p for c in level_one for p in members[c]}
    assert covered == {p.passage_id for p in kg_texts.store.iter_passages()}
    assert all(0 < w <= 1.0 for c in level_one for w in members[c].values())
    table = kg_texts.store.vector_table("cluster")
    assert table.size == len(levels)  # every cluster has its summary vector


def test_layers_are_updated_incrementally(kg_texts):
    kg_texts.cluster()
    again = kg_texts.cluster()
    assert again.semantic == "up to date" and again.windows_added == again.windows_removed == 0
    long_text = "\n\n".join(t for _, t in demo_texts()[:12])
    kg_texts.add_texts([long_text], [{"title": "Twelve", "source": "twelve"}])
    grown = kg_texts.cluster()
    assert grown.semantic == "rebuilt" and grown.windows_added > 0 and grown.windows_removed == 0
    kg_texts.delete("all")
    shrunk = kg_texts.cluster()
    assert shrunk.windows_removed > 0 and shrunk.windows_added == 0
    _levels, members = layer_members(kg_texts)
    live = {p.passage_id for p in kg_texts.store.iter_passages()}
    assert all(set(m) <= live for m in members.values())
    assert kg_texts.cluster(rebuild=True).semantic == "rebuilt"


def test_layers_are_deterministic(tmp_path, kg_texts):
    kg_texts.cluster()
    with hippo.open(tmp_path / "again", comorag_llm=False) as other:
        texts = demo_texts()
        other.add_texts([t for _, t in texts] + ["\n\n".join(t for _, t in texts)],
                        [{"title": title, "source": title} for title, _ in texts] + [{"title": "All", "source": "all"}])
        other.cluster()
        assert layer_members(other) == layer_members(kg_texts)


def test_an_empty_store_has_no_layers(kg_empty):
    report = kg_empty.cluster()
    assert report.semantic == "empty" and report.clusters_per_level == {}

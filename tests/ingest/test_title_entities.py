"""Every passage of a document mentions its title's entity, so an article is reachable from its subject."""

from __future__ import annotations

import pytest

import hippo
from hippo.model import make_id
from hippo.text import normalize_name
from tests.conftest import spacy_model_or_skip


def _mentions(kg: hippo.KnowledgeGraph) -> dict[str, set[str]]:
    """Passage title -> normalised names of the entities its passages mention."""
    out: dict[str, set[str]] = {}
    for context in kg.store.iter_passages():
        names = {e.name for e in kg.store.mentions_of_passages([context.passage_id]).get(context.passage_id, [])}
        out.setdefault(context.title, set()).update(names)
    return out


def test_each_passage_mentions_its_title_entity_and_bad_titles_are_skipped(tmp_path):
    spacy_model_or_skip()
    texts = ["Jung Eun-ji is a singer. She is a member of a girl group.",
             "The river rose.",
             "Nothing here has a name at all.",
             "Ludo Farrant was a clockmaker.",
             "A second article about the same subject says he built clocks."]
    long_title = " ".join(["Very"] * 30) + " Long Title"
    metadata = [{"title": "Jung Eun-ji", "source": "a"}, {"title": "1883", "source": "b"},
                {"title": long_title, "source": "c"}, {"title": "Ludo Farrant", "source": "d"},
                {"title": "Ludo Farrant", "source": "e"}]
    with hippo.open(tmp_path / "kg", extractor="spacy") as kg:
        report = kg.add_texts(texts, metadata)
        assert report.passages == 5 and not report.extraction_failures
        mentions = _mentions(kg)
        found = kg.store.entities([make_id("e", normalize_name("Jung Eun-ji"))])
    assert "jung eun ji" in mentions["Jung Eun-ji"]
    assert found and next(iter(found.values())).label not in (None, "NOUN")
    assert "ludo farrant" in mentions["Ludo Farrant"]  # both documents of a repeated title
    assert "1883" not in mentions["1883"]  # a date title makes no entity
    assert not any(len(name.split()) > 10 for names in mentions.values() for name in names)


def test_title_entities_can_be_turned_off(tmp_path):
    spacy_model_or_skip()
    with hippo.open(tmp_path / "kg", extractor="spacy", title_entities=False) as kg:
        kg.add_texts(["The river rose and the town flooded."], [{"title": "Great Sele Flood", "source": "a"}])
        assert "great sele flood" not in _mentions(kg)["Great Sele Flood"]


@pytest.mark.parametrize("weight", [1.0, 4.0])
def test_title_edges_weigh_what_the_setting_says(kg_demo_graph, weight):
    with hippo.open(kg_demo_graph.store.location, title_edge_weight=weight) as kg:
        graph = kg.graph_state().graph
    assert graph.adjacency.max() >= weight

"""One encoder pass per passage: the vectors it gives equal the embedder's, and the NER reads its features."""

from __future__ import annotations

import numpy as np
import pytest
import spacy

import hippo
from hippo.embed import load_embedder
from hippo.ingest.extract.minilm_features import FEATURES_KEY
from hippo.ingest.extract.shared_pass import attach_features, encode_passages
from hippo.ingest.extract.spacy import SpacyExtractor
from tests.conftest import spacy_model_or_skip

LAYERS = (3, 6)


def same_vectors(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal to float rounding (the same products: ``embed_precision`` "auto" both ways)."""
    return float(np.abs(a - b).max()) < 1e-5
PASSAGES = [
    "Ada Lindqvist\nAda Lindqvist founded the Marren Observatory in 1871. She was born in Kettleby.",
    "Kabul is the capital of Afghanistan.\n\nIt lies on the Kabul River.",
    "Zoë Ménard vécut à Genève ; elle écrivit « Les Étoiles ».",
    "Long\n" + " ".join(f"Sentence {i} names Station {i} on the Imber line." for i in range(60)),  # > 256 pieces
    "   ",
]


def test_passage_vectors_equal_the_embedders():
    embedder = load_embedder("all-MiniLM-L6-v2")
    encoded = encode_passages(PASSAGES, "all-MiniLM-L6-v2", LAYERS)
    expected = embedder.encode(PASSAGES)
    got = np.stack([e.vector for e in encoded])
    assert same_vectors(got, expected)
    long = encoded[3]
    assert long.features.shape == (len(long.starts), 384 * len(LAYERS)) and len(long.starts) > 256
    assert np.abs(long.features[-5:]).sum() > 0, "word pieces past the embedding's cut get features too"


def test_each_token_gets_the_mean_of_its_pieces():
    nlp = spacy.blank("en")
    text = "Title line\nAda Lovelace met Babbage."
    [encoded] = encode_passages([text], "all-MiniLM-L6-v2", LAYERS)
    offset = text.index("\n") + 1
    doc = nlp.make_doc(text[offset:])
    attach_features(doc, encoded, offset, LAYERS)
    layers, features = doc.user_data[FEATURES_KEY]
    assert layers == LAYERS and features.shape == (len(doc), 384 * len(LAYERS))
    lovelace = [i for i, start in enumerate(encoded.starts) if offset + 4 <= start < offset + 12]
    assert len(lovelace) > 1, "a word of several pieces"
    assert np.allclose(features[1], encoded.features[lovelace].mean(axis=0), atol=1e-6)


def test_the_extractor_gives_vectors_and_the_same_kind_of_facts():
    spacy_model_or_skip()
    extractor = SpacyExtractor()
    assert extractor.passage_encoder() == "all-MiniLM-L6-v2"
    shared = extractor.extract(PASSAGES, embed="auto")
    alone = extractor.extract(PASSAGES)
    assert all(e.vector is None for e in alone)
    expected = load_embedder("all-MiniLM-L6-v2").encode(PASSAGES)
    assert same_vectors(np.stack([e.vector for e in shared]), expected)
    founded = {(t.subject, t.predicate, t.object) for t in shared[0].triples}
    assert ("Ada Lindqvist", "founded", "the Marren Observatory") in founded
    assert {m.display for m in shared[0].entities} == {m.display for m in alone[0].entities}


@pytest.mark.slow
def test_an_indexed_store_holds_the_embedders_passage_vectors(tmp_path):
    spacy_model_or_skip()
    with hippo.open(tmp_path / "kg", extractor="spacy") as kg:
        kg.add_texts(PASSAGES[:4], [{"source": f"s{i}", "title": PASSAGES[i].split("\n")[0]} for i in range(4)])
        table = kg.store.vector_table("passage")
        row = {p: i for i, p in enumerate(table.ids.tolist())}
        passages = list(kg.store.iter_passages())
        stored = np.stack([table.matrix[row[p.passage_id]] for p in passages])
        expected = kg.embedder().encode([p.text for p in passages])
    assert same_vectors(stored, expected)


@pytest.mark.slow
def test_a_store_embedding_passages_with_another_model_gets_the_same_facts(tmp_path):
    """The NER reads MiniLM's pass over whole passages whatever the store's passage model, so the graph does
    not depend on the embedder; the passage vectors are then the store's own model's (e5 here)."""
    spacy_model_or_skip()
    metas = [{"source": f"s{i}", "title": PASSAGES[i].split("\n")[0]} for i in range(4)]
    facts = {}
    for model in ("all-MiniLM-L6-v2", "multilingual-e5-small+all-MiniLM-L6-v2"):
        with hippo.open(tmp_path / model.replace("+", "_"), extractor="spacy", memory_units="off",
                        embed_model=model) as kg:
            kg.add_texts(PASSAGES[:4], metas)
            facts[model] = sorted((f.subject, f.predicate, f.object) for f in kg.store.list_facts(1000))
            table = kg.store.vector_table("passage")
            row = {p: i for i, p in enumerate(table.ids.tolist())}
            passages = list(kg.store.iter_passages())
            stored = np.stack([table.matrix[row[p.passage_id]] for p in passages])
            assert same_vectors(stored, kg.embedder().encode([p.text for p in passages]))
    assert facts["all-MiniLM-L6-v2"] and facts["all-MiniLM-L6-v2"] == facts["multilingual-e5-small+all-MiniLM-L6-v2"]

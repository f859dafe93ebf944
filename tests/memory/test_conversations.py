"""Conversation files: LoCoMo and hippo's chat format, one document per session, one passage per turn."""

import json

from hippo.ingest.loaders import LoadedDoc, parse_file
from hippo.model import Skip
from tests.memory.conftest import CHAT, locomo_or_skip


def test_locomo_file_gives_sessions_with_turn_ids_times_and_captions():
    path = locomo_or_skip("26")
    docs = parse_file(path, path.read_bytes())
    assert all(isinstance(d, LoadedDoc) for d in docs)
    assert len(docs) == 19  # file 26 has date keys up to session 35 but only 19 sessions
    first = docs[0]
    assert first.key == "session_1" and first.timestamp == "2023-05-08T13:56"
    assert first.metadata["speakers"] == ["Caroline", "Melanie"] and first.metadata["conversation"] == "26"
    assert [p.key for p in first.passages[:3]] == ["D1:1", "D1:2", "D1:3"]
    assert first.passages[0].text == "Caroline: Hey Mel! Good to see you! How have you been?"
    assert all(p.time == "2023-05-08T13:56" for p in first.passages)
    raw = json.loads(path.read_text())
    captioned = next(t for t in raw["session_1"] if t.get("blip_caption"))
    turn = next(p for p in first.passages if p.key == captioned["dia_id"])
    assert turn.text.endswith(f"[image: {captioned['blip_caption']}]")
    assert sum(len(d.passages) for d in docs) == 419


def test_upstream_locomo_list_is_read_per_sample(tmp_path):
    conversation = {"speaker_a": "A", "speaker_b": "B", "session_1_date_time": "7:00 pm on 1 June, 2023",
                    "session_1": [{"speaker": "A", "dia_id": "D1:1", "text": "Hi"}]}
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps([{"sample_id": "conv-1", "conversation": conversation, "qa": []},
                                {"sample_id": "conv-2", "conversation": conversation, "qa": []}]))
    docs = parse_file(path, path.read_bytes())
    assert [d.key for d in docs] == ["conv-1/session_1", "conv-2/session_1"]
    assert docs[0].timestamp == "2023-06-01T19:00"


def test_hippo_chat_format_keeps_ids_times_and_captions():
    docs = parse_file(CHAT, CHAT.read_bytes())
    assert [d.key for d in docs] == ["s1", "s2", "s3", "s4"]
    assert docs[1].timestamp == "2024-04-20T18:40" and docs[1].title == "Ines and Tomas · session s2 · 2024-04-20 18:40"
    assert [p.key for p in docs[1].passages][:2] == ["s2:1", "s2:2"]
    assert docs[1].passages[2].text == ("Tomas: We named him Pixel. He chews every shoe in the flat. "
                                        "[image: a photo of a beagle puppy on a rug]")
    assert docs[1].text == "\n".join(p.text for p in docs[1].passages)


def test_chat_defaults_and_bad_sessions(tmp_path):
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"sessions": [
        {"turns": [{"speaker": "Ann", "text": "One"}, {"speaker": "Bo", "text": "Two", "time": "2024-01-02"}]},
        {"id": "late", "time": "next Tuesday", "turns": [{"text": "x"}]},
        {"id": "quiet", "turns": []},
    ]}))
    docs = parse_file(path, path.read_bytes())
    ok, bad_time, empty = docs
    assert isinstance(ok, LoadedDoc) and ok.metadata["conversation"] == "chat"
    assert [(p.key, p.time) for p in ok.passages] == [("1:1", None), ("1:2", "2024-01-02")]
    assert isinstance(bad_time, Skip) and "not ISO 8601" in bad_time.reason
    assert isinstance(empty, Skip) and empty.reason.startswith("empty")


def test_a_plain_corpus_is_still_a_corpus(tmp_path):
    path = tmp_path / "corpus.json"
    path.write_text('[{"title": "A", "text": "Alpha."}]')
    [doc] = parse_file(path, path.read_bytes())
    assert doc.passages is None and doc.text == "Alpha."


def test_indexed_turns_keep_their_keys_and_times(kg_chat):
    hits = kg_chat.retrieve("Pixel chews every shoe in the flat", k=3, method="dense")
    assert hits[0].key == "s2:3" and hits[0].time == "2024-04-20T18:40"
    assert hits[0].text.startswith("Tomas: We named him Pixel.")  # a turn is not chunked or given a title line
    session = kg_chat.store.document(hits[0].doc_id)
    assert session.timestamp == "2024-04-20T18:40" and session.metadata["session"] == "s2"

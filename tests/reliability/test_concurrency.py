"""Concurrent use: a reader in another process (as the UI is) keeps working while an ingest writes and
only ever sees whole batches; a second writer waits for the first, or gives up naming it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hippo
import hippo.stores.sqlite as sqlite_store
from hippo.cli.app import app
from tests.conftest import DEMO, spacy_model_or_skip

BATCH_DOCS = 3
CORPUS = DEMO / "people"  # 12 documents of one passage each
DOCS = 12

# Retrieval in a loop, written as JSON lines: a look inside one snapshot (counts, vectors, graph and hits must
# agree), then a look as the UI takes it (retrieval alone; its graph must be that of one batch boundary).
READER = textwrap.dedent("""
    import json, sys, time
    import hippo
    store, done, log = sys.argv[1], sys.argv[2], open(sys.argv[3], "w")
    kg = hippo.open(store, create=False)
    kg.retrieve("warm up", k=1)
    print("ready", flush=True)
    finished = False
    while True:
        finished = __import__("os").path.exists(done)
        with kg.store.snapshot():
            counts = kg.store.counts()
            table = kg.store.vector_table("passage")
            state = kg.graph_state()
            question = "Who founded the Marren Observatory?"
            hits = kg.retrieve(question, k=3, method="hipporag") if counts["passages"] else []
            live = set(table.ids[table.live].tolist())
            print(json.dumps({
                "documents": counts["documents"], "passages": counts["passages"], "entities": counts["entities"],
                "facts": counts["facts"], "mentions": counts["mentions"], "vector_rows": len(table.ids),
                "live_vectors": int(table.size), "graph_passages": int(state.passages.size),
                "graph_entities": int(state.entities.size), "graph_facts": int(state.facts.size),
                "graph_mentions": int(state.graph.passage_entities.nnz),
                "hits": len(hits), "hits_live": all(h.passage_id in live for h in hits),
            }), file=log, flush=True)
        state = kg.graph_state()
        hits = kg.retrieve(question, k=3, method="hipporag") if state.passages.size else []
        graph = [int(state.passages.size), int(state.entities.size), int(state.facts.size),
                 int(state.graph.passage_entities.nnz)]
        print(json.dumps({"free": graph, "hits": len(hits)}), file=log, flush=True)
        if finished:
            break
        time.sleep(0.05)
""")
# Holds the write lock of a store until killed, or for argv[2] seconds.
HOLDER = textwrap.dedent("""
    import sys, time
    import hippo
    kg = hippo.open(sys.argv[1])
    with kg.store.write_session():
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _start(script: str, *args: str, expect: str, errors: Path) -> subprocess.Popen:
    """Start ``script`` in a new Python process and wait for its first line (stderr goes to ``errors``)."""
    with errors.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=sink, text=True
        )
    line = process.stdout.readline().strip()
    if line != expect:
        process.kill()
        raise AssertionError(f"{expect!r} expected from the child, got {line!r}: {errors.read_text()}")
    return process


@pytest.mark.slow  # the reader is a second process that loads the embedding model
def test_reader_sees_whole_batches_while_an_ingest_writes(tmp_path):
    spacy_model_or_skip()
    store, done, log = tmp_path / "store", tmp_path / "writer-done", tmp_path / "reader.jsonl"
    hippo.open(store, ingest_batch_docs=BATCH_DOCS, extractor="spacy").close()
    reader = _start(READER, str(store), str(done), str(log), expect="ready", errors=tmp_path / "reader.err")
    try:
        with hippo.open(store) as kg:
            report = kg.index(CORPUS)
        done.touch()
        reader.wait(timeout=300)
    finally:
        reader.kill()
    assert reader.returncode == 0, (tmp_path / "reader.err").read_text()
    assert report.documents_added == DOCS
    looks = [json.loads(line) for line in log.read_text().splitlines()]
    seen = [look for look in looks if "free" not in look]
    boundaries = _boundaries(store)
    for look in looks:
        if "free" in look:
            assert look["free"] in boundaries, f"graph of half a batch: {look}; boundaries: {boundaries}"
            assert look["hits"] == min(3, look["free"][0]), look
    for look in seen:
        whole = look["documents"] % BATCH_DOCS == 0 or look["documents"] == DOCS
        assert whole, f"half a batch: {look}"
        assert look["passages"] == look["documents"] == look["live_vectors"] == look["vector_rows"], look
        assert (look["graph_passages"], look["graph_entities"], look["graph_facts"], look["graph_mentions"]) == (
            look["passages"],
            look["entities"],
            look["facts"],
            look["mentions"],
        ), f"graph of another state: {look}"
        assert look["hits"] == min(3, look["passages"]) and look["hits_live"], look
    documents = [look["documents"] for look in seen]
    assert documents == sorted(documents) and documents[-1] == DOCS
    assert any(0 < n < DOCS for n in documents), f"the reader saw no batch in between: {sorted(set(documents))}"


def _boundaries(store: Path) -> list[list[int]]:
    """(passages, entities, facts, mentions) after each batch, from the finished store (the documents are
    one passage each, and nothing was deleted, so the first n passages by insertion are the first n batches')."""
    conn = sqlite3.connect(store / "hippo.db")
    try:
        order = [r[0] for r in conn.execute("SELECT id FROM passages ORDER BY rowid")]
        mentions = conn.execute("SELECT passage_id, entity_id FROM mentions").fetchall()
        sources = conn.execute("SELECT passage_id, fact_id FROM fact_sources").fetchall()
    finally:
        conn.close()
    out = []
    for n in [*range(0, DOCS, BATCH_DOCS), DOCS]:
        first = set(order[:n])
        mentioned = [(p, e) for p, e in mentions if p in first]
        out.append([n, len({e for _, e in mentioned}), len({f for p, f in sources if p in first}), len(mentioned)])
    return out


def test_second_writer_gives_up_naming_the_store_and_the_writer(tmp_path, monkeypatch):
    store = tmp_path / "store"
    (tmp_path / "doc.txt").write_text("Ada Lindqvist founded the Marren Observatory.")
    hippo.open(store).close()
    holder = _start(HOLDER, str(store), "60", expect="locked", errors=tmp_path / "holder.err")
    monkeypatch.setattr(sqlite_store, "WRITE_LOCK_TIMEOUT_S", 0.5)
    try:
        result = CliRunner().invoke(app, ["index", str(tmp_path / "doc.txt"), "--store", str(store)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert f"store {store} is being written by another process (pid {holder.pid}: -c {store} 60)" in message
    assert "Let it finish (or stop it), then run this again." in message
    with hippo.open(store) as kg:
        assert kg.stats()["counts"]["documents"] == 0 and kg.check().ok


def test_second_writer_waits_for_the_first_and_says_so(tmp_path, caplog):
    store = tmp_path / "store"
    hippo.open(store, extractor="none", memory_units=False).close()
    holder = _start(HOLDER, str(store), "1.0", expect="locked", errors=tmp_path / "holder.err")
    with caplog.at_level(logging.WARNING, logger="hippo.stores.sqlite"), hippo.open(store) as kg:
        started = time.monotonic()
        report = kg.add_texts(["Ada Lindqvist founded the Marren Observatory."])
        waited = time.monotonic() - started
    holder.wait()
    assert report.documents_added == 1
    assert f"is being written by another process (pid {holder.pid}" in caplog.text and "waiting up to" in caplog.text
    assert waited > 0.1  # it did wait for the holder rather than write beside it


def test_a_killed_writer_leaves_no_lock_behind(tmp_path, monkeypatch):
    store = tmp_path / "store"
    hippo.open(store, extractor="none", memory_units=False).close()
    holder = _start(HOLDER, str(store), "60", expect="locked", errors=tmp_path / "holder.err")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert Path(store / "write.lock").read_text().startswith(str(holder.pid))  # the dead pid is still written there
    monkeypatch.setattr(sqlite_store, "WRITE_LOCK_TIMEOUT_S", 0.5)
    with hippo.open(store) as kg:
        report = kg.add_texts(["Ada Lindqvist founded the Marren Observatory."])
        assert report.documents_added == 1 and kg.check().ok

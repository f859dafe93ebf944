import re
import sqlite3

import numpy as np
import pytest

from hippo.config import DEFAULT_EMBED_MODEL
from hippo.errors import EmbeddingModelMismatch, StoreError
from hippo.model import Document, Passage, make_id
from hippo.stores.sqlite import SQLiteStore


def _doc(n: int, passages: int = 2) -> tuple[Document, list[Passage], np.ndarray]:
    doc = Document(id=f"d-{n}", source=f"src{n}", title=f"T{n}", content_hash=f"h{n}", added_at=0.0)
    ps = [Passage(id=make_id("p", doc.id, str(i)), doc_id=doc.id, position=i, text=f"text {n}.{i}",
                  content_hash=f"ph{n}.{i}") for i in range(passages)]
    rng = np.random.default_rng(n)
    vectors = rng.normal(size=(passages, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return doc, ps, vectors


def _put(store: SQLiteStore, n: int, passages: int = 2) -> np.ndarray:
    doc, ps, vectors = _doc(n, passages)
    with store.transaction():
        store.set_embedding_dim(8)
        store.put_document(doc, ps, vectors)
    return vectors


def test_create_reopen_and_settings_are_remembered(tmp_path):
    with SQLiteStore.open(tmp_path / "s", {"chunk_tokens": 100}) as store:
        _put(store, 1)
    with SQLiteStore.open(tmp_path / "s") as store:
        assert store.settings.chunk_tokens == 100
        assert store.counts()["passages"] == 2
    mode = sqlite3.connect(tmp_path / "s" / "hippo.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_other_embedding_model_is_refused_naming_both(tmp_path):
    SQLiteStore.open(tmp_path / "s").close()
    refusal = re.escape(f"built with {DEFAULT_EMBED_MODEL}; this run asked for bge-small")
    with pytest.raises(EmbeddingModelMismatch, match=refusal):
        SQLiteStore.open(tmp_path / "s", {"embed_model": "bge-small-en"})


def test_refuses_a_folder_that_is_not_a_store(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="is not a hippo store"):
        SQLiteStore.open(tmp_path)
    with pytest.raises(StoreError, match="no hippo store"):
        SQLiteStore.open(tmp_path / "absent", create=False)


def test_refuses_another_schema_version(tmp_path):
    SQLiteStore.open(tmp_path / "s").close()
    conn = sqlite3.connect(tmp_path / "s" / "hippo.db")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    with pytest.raises(StoreError, match="schema version 99"):
        SQLiteStore.open(tmp_path / "s")


def test_vectors_round_trip_and_deleted_rows_are_masked(tmp_path):
    with SQLiteStore.open(tmp_path / "s") as store:
        first = _put(store, 1)
        second = _put(store, 2, passages=3)
        table = store.vector_table("passage")
        assert table.size == 5
        np.testing.assert_allclose(table.matrix[:2], first)
        np.testing.assert_allclose(table.matrix[2:], second)
        with store.transaction():
            assert store.delete_document("d-1") == 2
        table = store.vector_table("passage")
        assert table.size == 3 and list(table.live) == [False, False, True, True, True]
        rows, _ = table.top(second[:1], 5)
        assert set(rows[0]) == {2, 3, 4}


def test_failed_batch_lands_nothing_and_next_batch_reuses_its_rows(tmp_path):
    with SQLiteStore.open(tmp_path / "s") as store:
        _put(store, 1)
        doc, ps, vectors = _doc(2)
        with pytest.raises(RuntimeError), store.transaction():
            store.put_document(doc, ps, vectors)
            raise RuntimeError("crash in the middle of a batch")
        assert store.counts()["documents"] == 1
        assert store.vector_table("passage").matrix.shape[0] == 2
        third = _put(store, 3)
        np.testing.assert_allclose(store.vector_table("passage").matrix[2:4], third)


def test_writes_outside_a_transaction_are_refused(tmp_path):
    with SQLiteStore.open(tmp_path / "s") as store:
        doc, ps, vectors = _doc(1)
        with pytest.raises(StoreError, match="inside `with store.transaction"):
            store.put_document(doc, ps, vectors)


def test_dimension_change_is_refused(tmp_path):
    with SQLiteStore.open(tmp_path / "s") as store:
        _put(store, 1)
        with pytest.raises(EmbeddingModelMismatch, match="8-dimensional"), store.transaction():
            store.set_embedding_dim(384)


def test_find_documents_by_id_source_and_file(tmp_path):
    with SQLiteStore.open(tmp_path / "s") as store:
        _put(store, 1)
        assert [d.id for d in store.find_documents("d-1")] == ["d-1"]
        assert [d.id for d in store.find_documents("src1")] == ["d-1"]
        assert store.find_documents("nothing") == []

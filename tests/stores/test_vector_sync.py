"""Vector files are synced once per kind per transaction, before the commit that counts their rows."""

from __future__ import annotations

import os

import numpy as np

from hippo.model import Document, Passage, make_id
from hippo.stores import vectors as vectors_module
from hippo.stores.sqlite import SQLiteStore


def _doc(n: int) -> tuple[Document, list[Passage], np.ndarray]:
    doc = Document(id=f"d-{n}", source=f"src{n}", title=f"T{n}", content_hash=f"h{n}", added_at=0.0)
    passages = [
        Passage(
            id=make_id("p", doc.id, str(i)), doc_id=doc.id, position=i, text=f"text {n}.{i}", content_hash=f"ph{n}.{i}"
        )
        for i in range(2)
    ]
    vectors = np.random.default_rng(n).normal(size=(2, 8)).astype(np.float32)
    return doc, passages, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_one_sync_per_vector_file_per_batch_and_every_row_lands(tmp_path, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(vectors_module.os, "fsync", counting_fsync)
    docs = [_doc(n) for n in range(5)]
    with SQLiteStore.open(tmp_path / "s") as store, store.transaction():
        store.set_embedding_dim(8)
        for doc, passages, vectors in docs:
            store.put_document(doc, passages, vectors)
    assert [os.path.basename(path) for path in synced] == ["passage.f32"]
    with SQLiteStore.open(tmp_path / "s") as store:
        table = store.vector_table("passage")
        assert table.ids.tolist() == [p.id for _, passages, _ in docs for p in passages]
        np.testing.assert_array_equal(np.asarray(table.matrix), np.concatenate([v for _, _, v in docs]))


def test_a_failed_batch_syncs_nothing_and_counts_no_rows(tmp_path, monkeypatch):
    synced: list[int] = []
    monkeypatch.setattr(vectors_module.os, "fsync", lambda fd: synced.append(fd))
    with SQLiteStore.open(tmp_path / "s") as store:
        try:
            with store.transaction():
                store.set_embedding_dim(8)
                doc, passages, vectors = _doc(1)
                store.put_document(doc, passages, vectors)
                raise RuntimeError("stop before the commit")
        except RuntimeError:
            pass
        assert synced == []
        assert store.vector_table("passage").ids.size == 0

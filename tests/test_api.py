import pytest

import hippo
from hippo.errors import ConfigError, StoreError, UnknownMethodError


def test_index_skips_bad_files_and_names_each(kg_empty, mixed_folder):
    report = kg_empty.index(mixed_folder)
    assert report.files_read == 2 and report.documents_added == 2 and report.passages == 2
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert reasons["image.txt"].startswith("binary")
    assert reasons["empty.txt"].startswith("empty")
    assert reasons["latin1.txt"].startswith("invalid UTF-8")
    assert report.skip_counts() == {"binary": 1, "empty": 1, "invalid UTF-8": 1}


def test_reindexing_unchanged_folder_adds_nothing(kg_empty, mixed_folder):
    kg_empty.index(mixed_folder)
    before = kg_empty.stats()["counts"]
    version = kg_empty.store.version()
    again = kg_empty.index(mixed_folder)
    assert again.files_unchanged == 2 and again.documents_added == 0 and again.passages == 0
    assert kg_empty.stats()["counts"] == before
    assert kg_empty.store.version() == version


def test_changed_file_replaces_its_passages(kg_empty, mixed_folder):
    kg_empty.index(mixed_folder)
    (mixed_folder / "good.txt").write_text("Ada Lindqvist\n\nAda Lindqvist was born in Fennick instead.")
    report = kg_empty.index(mixed_folder)
    assert report.documents_replaced == 1 and report.files_unchanged == 1
    assert kg_empty.stats()["counts"]["passages"] == 2
    [hit] = kg_empty.retrieve("Where was Ada Lindqvist born?", k=1)
    assert "Fennick" in hit.text


def test_corpus_record_change_replaces_only_that_record(kg_empty, tmp_path):
    corpus = tmp_path / "corpus.json"
    corpus.write_text('[{"title": "A", "text": "Alpha."}, {"title": "B", "text": "Beta."}]')
    kg_empty.index(corpus)
    corpus.write_text('[{"title": "A", "text": "Alpha."}, {"title": "C", "text": "Gamma."}]')
    report = kg_empty.index(corpus)
    assert (report.documents_unchanged, report.documents_added, report.documents_removed) == (1, 1, 1)
    assert sorted(s.document.title for s in kg_empty.documents()) == ["A", "C"]


def test_delete_removes_passages_and_vectors(kg_empty, mixed_folder):
    kg_empty.index(mixed_folder)
    [removed] = kg_empty.delete(str(mixed_folder / "good.txt"))
    assert removed.title == "Ada Lindqvist"
    assert kg_empty.stats()["counts"]["passages"] == 1
    assert kg_empty.store.vector_table("passage").size == 1
    assert all("Lindqvist was born" not in h.text for h in kg_empty.retrieve("Ada Lindqvist", k=5))
    with pytest.raises(StoreError, match="no document matches"):
        kg_empty.delete("d-nothing")
    # the file is forgotten too, so indexing it again brings it back
    assert kg_empty.index(mixed_folder).documents_added == 1


def test_add_texts_is_idempotent_and_keeps_metadata(kg_empty):
    report = kg_empty.add_texts(["Comet Vey was found in 1881.", "  "], metadata=[{"title": "Comet", "year": 1881}, {}])
    assert report.documents_added == 1 and [s.reason for s in report.skipped] == ["empty: the text has no content"]
    assert kg_empty.add_texts(["Comet Vey was found in 1881."], metadata=[{"title": "Comet"}]).documents_added == 0
    [doc] = [s.document for s in kg_empty.documents()]
    assert doc.title == "Comet" and doc.metadata == {"year": 1881}
    with pytest.raises(TypeError):
        kg_empty.add_texts("a single string")


@pytest.mark.parametrize("method", ["dense", "bm25"])
def test_methods_find_the_single_hop_passage(kg_demo, method):
    hits = kg_demo.retrieve("Where was Ada Lindqvist born?", k=3, method=method)
    assert hits[0].title == "Ada Lindqvist"
    assert all(h.method == method for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_retrieve_many_matches_single_queries(kg_demo):
    queries = ["Who founded the Marren Observatory?", "Which ship did Piet Karsen captain?"]
    batched = kg_demo.retrieve_many(queries, k=3)
    assert [[h.passage_id for h in hits] for hits in batched] == [
        [h.passage_id for h in kg_demo.retrieve(q, k=3)] for q in queries]


def test_ask_gives_an_extractive_answer_with_sources(kg_demo):
    answer = kg_demo.ask("Who founded the Marren Observatory?")
    assert answer.mode == "extractive"
    assert "Ada Lindqvist" in answer.text
    assert answer.sources and all(s.sentence in answer.text for s in answer.sources)
    assert answer.hits[0].title == "Marren Observatory"


def test_bad_arguments_have_clear_errors(kg_demo):
    with pytest.raises(UnknownMethodError, match=r"unknown retrieval method 'pagerank'; choose one of: bm25, .*dense"):
        kg_demo.retrieve("x", method="pagerank")
    with pytest.raises(ConfigError, match="non-empty"):
        kg_demo.retrieve("   ")
    with pytest.raises(ConfigError, match="k=0"):
        kg_demo.retrieve("x", k=0)


def test_empty_store_returns_no_hits(kg_empty):
    assert kg_empty.retrieve("anything", method="dense") == []
    assert kg_empty.retrieve("anything", method="bm25") == []
    assert kg_empty.ask("anything").text == ""


def test_open_reads_hippo_store_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HIPPO_STORE", str(tmp_path / "env-store"))
    with hippo.open() as kg:
        assert kg.store.location == str(tmp_path / "env-store")

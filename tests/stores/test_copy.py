"""``copy_store`` (``hippo export --to`` / ``--from``) between two embedded stores: nothing lost, nothing mixed."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import hippo
from hippo.cli.app import app
from hippo.errors import ConfigError, EmbeddingModelMismatch, StoreError
from tests.stores.records import assert_same_rankings, assert_same_vectors, rankings, store_records


@pytest.fixture(scope="module")
def copied(kg_demo_graph, tmp_path_factory):
    """The demo graph copied into a store that then gets ComoRAG layers and loses a document (freed rows)."""
    folder = tmp_path_factory.mktemp("copy") / "a"
    kg_demo_graph.copy_to(folder)
    kg = hippo.open(folder, create=False)
    kg.cluster()
    kg.delete(kg.documents()[3].document.id)
    yield kg
    kg.close()


def test_a_copy_holds_the_same_records_vectors_and_rankings(copied, demo_questions, tmp_path):
    questions = [q["question"] for q in demo_questions]
    report = copied.copy_to(tmp_path / "b")
    counts = copied.stats()["counts"]
    assert (report.documents, report.entities, report.units, report.clusters) == (
        counts["documents"],
        counts["entities"],
        counts["units"],
        counts["clusters"],
    )
    assert report.clusters > 0 and report.associations > 0 and report.skipped == 0
    with hippo.open(tmp_path / "b", create=False) as b:
        assert store_records(b.store) == store_records(copied.store)
        assert_same_vectors(b.store, copied.store)
        assert b.store.vector_table("passage").live.all()  # rows freed by the deletion are not carried over
        assert_same_rankings(rankings(copied, questions), rankings(b, questions))


def test_copying_again_resumes_and_duplicates_nothing(copied, tmp_path):
    first = copied.copy_to(tmp_path / "b")
    again = copied.copy_to(tmp_path / "b")
    assert (again.documents, again.entities, again.facts, again.units, again.clusters) == (0, 0, 0, 0, 0)
    assert again.skipped == first.documents + first.entities + first.facts + first.units + first.clusters
    with hippo.open(tmp_path / "b", create=False) as b:
        assert store_records(b.store) == store_records(copied.store)


def test_export_to_and_from_on_the_command_line(copied, tmp_path):
    runner = CliRunner()
    done = runner.invoke(app, ["export", "--to", str(tmp_path / "b"), "--store", copied.store.location])
    assert done.exit_code == 0, done.output
    assert f"to {tmp_path / 'b'}" in done.output and "documents" in done.output
    back = runner.invoke(app, ["export", "--from", str(tmp_path / "b"), "--store", str(tmp_path / "c")])
    assert back.exit_code == 0, back.output
    with hippo.open(tmp_path / "c", create=False) as c:
        assert store_records(c.store) == store_records(copied.store)
    refused = runner.invoke(app, ["export", "--from", str(tmp_path / "b"), "--to", str(tmp_path / "d")])
    assert refused.exit_code == 2 and "on its own" in refused.output
    missing = runner.invoke(app, ["export", "--from", str(tmp_path / "absent"), "--store", str(tmp_path / "e")])
    assert missing.exit_code == 1 and "no hippo store" in missing.output


def test_a_target_with_other_documents_or_another_model_is_refused(copied, tmp_path):
    with hippo.open(tmp_path / "other", extractor="none", memory_units=False) as other:
        other.add_texts(["Some unrelated note about gardening."])
        before = store_records(other.store)
    with pytest.raises(StoreError, match="already holds 1 document.*--merge.*Nothing was written"):
        copied.copy_to(tmp_path / "other")
    with hippo.open(tmp_path / "other", create=False) as other:
        assert store_records(other.store) == before
    hippo.open(tmp_path / "bge", embed_model="bge-small-en").close()
    with pytest.raises(EmbeddingModelMismatch, match="built with bge-small-en"):
        copied.copy_to(tmp_path / "bge")
    with pytest.raises(ConfigError, match="into itself"):
        copied.copy_to(copied.store.location)


def test_merge_copies_beside_the_documents_the_target_already_holds(copied, tmp_path):
    with hippo.open(tmp_path / "other", extractor="none", memory_units=False) as other:
        other.add_texts(["Some unrelated note about gardening."])
        own = [s.document.id for s in other.documents()]
    report = copied.copy_to(tmp_path / "other", merge=True)
    assert report.documents == copied.stats()["counts"]["documents"]
    with hippo.open(tmp_path / "other", create=False) as other:
        ids = {s.document.id for s in other.documents()}
        assert ids == set(own) | {s.document.id for s in copied.documents()}
        assert other.stats()["counts"]["entities"] == copied.stats()["counts"]["entities"]


def test_merge_on_the_command_line(copied, tmp_path):
    runner = CliRunner()
    with hippo.open(tmp_path / "other", extractor="none", memory_units=False) as other:
        other.add_texts(["Some unrelated note about gardening."])
    args = ["export", "--to", str(tmp_path / "other"), "--store", copied.store.location]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1 and "already holds 1 document" in refused.output and "--merge" in refused.output
    merged = runner.invoke(app, [*args, "--merge"])
    assert merged.exit_code == 0, merged.output
    assert "documents" in merged.output
    lone = runner.invoke(app, ["export", "--graphml", str(tmp_path / "g.graphml"), "--merge",
                               "--store", copied.store.location])
    assert lone.exit_code == 2 and "--merge goes with --to or --from" in lone.output

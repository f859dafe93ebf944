"""Uploads (name and bytes) are recorded under the file's name and content hash: one document per file,
whether it came through the web UI or the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import hippo
from tests.conftest import DEMO

NOTES = b"# Saltry\n\nSaltry is a fishing village with a lighthouse."


def sources(kg: hippo.KnowledgeGraph) -> list[str]:
    return sorted(s.document.source for s in kg.documents())


def test_an_upload_is_recorded_under_its_name_and_skips_report_names(tmp_path: Path):
    files = [("notes.md", NOTES), ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
             ("program.exe", b"MZ\x90\x00"), ("big.txt", b"x" * 2000)]
    seen = []
    with hippo.open(tmp_path / "store", extractor="none") as kg:
        report = kg.index_uploads(files, limit_bytes=1000, on_progress=seen.append)
        assert report.documents_added == 1 and report.passages == 1
        assert sources(kg) == ["notes.md"]
        assert kg.documents()[0].document.metadata["file"] == "notes.md"
        reasons = {s.path: s.reason for s in report.skipped}
        assert set(reasons) == {"image.txt", "program.exe", "big.txt"}
        assert reasons["image.txt"].startswith("binary") and reasons["program.exe"].startswith("unsupported type")
        assert reasons["big.txt"].startswith("too large")
        assert seen and seen[-1].files_done == seen[-1].files_total
        again = kg.index_uploads(files[:1], limit_bytes=1000)
        assert again.files_unchanged == 1 and again.documents_added == 0
        newer = kg.index_uploads([("notes.md", NOTES + b" It has a harbour.")], limit_bytes=1000)
        assert newer.documents_replaced == 1 and sources(kg) == ["notes.md"]
        assert kg.delete("notes.md") and not kg.documents()


def test_a_file_indexed_from_the_cli_is_not_stored_again_when_uploaded(tmp_path: Path):
    source = DEMO / "people" / "ada_lindqvist.md"
    with hippo.open(tmp_path / "store", extractor="none") as kg:
        kg.index(source)
        report = kg.index_uploads([(source.name, source.read_bytes())], limit_bytes=10**6)
        assert report.documents_added == 0
        assert [s.reason for s in report.skipped] == [f"already indexed: the same content is in the store as "
                                                      f"{source.resolve()}"]
        assert sources(kg) == [str(source.resolve())]
        twins = kg.index_uploads([("a.md", NOTES), ("b.md", NOTES)], limit_bytes=10**6)
        assert twins.documents_added == 1 and [s.reason for s in twins.skipped] == [
            "already indexed: the same content is in the store as a.md"]


def test_an_uploaded_file_indexed_later_from_the_cli_becomes_one_document(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    path = Path(shutil.copy(DEMO / "places" / "harrowgate.md", folder / "harrowgate.md"))
    with hippo.open(tmp_path / "store", extractor="none") as kg:
        kg.index_uploads([("harrowgate.md", path.read_bytes())], limit_bytes=10**6)
        assert sources(kg) == ["harrowgate.md"]
        report = kg.index(folder)
        assert report.documents_added == 1 and report.documents_removed == 1
        assert sources(kg) == [str(path.resolve())]
        assert kg.store.file_hash("harrowgate.md") is None
        hits = kg.retrieve("Harrowgate harbour town", k=5)
        assert len({h.doc_id for h in hits}) == len(hits) and kg.stats()["counts"]["passages"] == 1

"""Hostile input: every bad file gets a clear outcome, the run goes on, memory stays bounded, and the
summary counts every skip by reason. The README table "What hippo does with bad input" lists these."""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hippo
import hippo.ingest.loaders as loaders
import hippo.ingest.pipeline as pipeline
from hippo.cli.app import app
from hippo.ingest.chunking import MAX_TOKEN_CHARS
from hippo.model import Skip
from tests.conftest import spacy_model_or_skip
from tests.ingest.test_loaders import _pdf_with_text

FAST = {"extractor": "none", "memory_units": False}  # what these tests exercise is reading, not the graph
SENTENCE = "Ada Lindqvist founded the Marren Observatory on Marren Head in 1871."


@pytest.fixture()
def kg(tmp_path: Path) -> hippo.KnowledgeGraph:
    with hippo.open(tmp_path / "store", **FAST) as graph:
        yield graph


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    return folder


def _passages(kg: hippo.KnowledgeGraph) -> list[str]:
    return [p.text for p in kg.store.iter_passages()]


def test_thousands_of_tiny_files_are_written_in_batches(kg, docs):
    for n in range(2000):  # one text in every file: what is measured is the files, not the embedder
        sub = docs / f"f{n % 40:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"note{n:04d}.txt").write_text(f"Note\n{SENTENCE}")
    for n in range(25):
        (docs / f"empty{n}.txt").write_text("   \n")
    report = kg.index(docs)
    assert report.documents_added == 2000 and report.passages == 2000
    assert report.skip_counts() == {"empty": 25}
    assert kg.store.version() == -(-2000 // kg.settings.ingest_batch_docs)  # one transaction per batch of 256
    assert kg.check().ok


@pytest.fixture()
def deep(docs: Path) -> Path:
    """``docs`` with a folder 1,100 levels deep (deeper than Python's recursion limit), removed with ``rm`` after
    the test, since Python's recursive removers (shutil.rmtree, pytest's cleanup) cannot."""
    leaf = docs
    for _ in range(1100):
        leaf = leaf / "d"
        leaf.mkdir()
    yield leaf
    subprocess.run(["rm", "-rf", str(docs / "d")], check=True)


def test_deep_folders_and_link_loops(kg, docs, deep):
    (deep / "leaf.txt").write_text(SENTENCE)
    (docs / "up").symlink_to(docs, target_is_directory=True)  # a folder link back up: not followed
    (docs / "loop1.txt").symlink_to(docs / "loop2.txt")
    (docs / "loop2.txt").symlink_to(docs / "loop1.txt")
    (docs / "broken.txt").symlink_to(docs / "nowhere.txt")
    (docs / "alias.txt").symlink_to(deep / "leaf.txt")  # a second name for the leaf: read once
    report = kg.index(docs)
    assert report.documents_added == 1
    assert report.skip_counts() == {"link loop": 2, "broken link": 1}


def test_a_file_that_vanishes_mid_run_is_skipped(kg, docs):
    folder = docs
    for name in ("a", "b", "c"):
        (folder / f"{name}.txt").write_text(f"{name} {SENTENCE}")

    def remove_the_last(progress: pipeline.Progress) -> None:
        (folder / "c.txt").unlink(missing_ok=True)

    report = kg.index(folder, on_progress=remove_the_last)
    assert report.documents_added == 2
    assert report.skip_counts() == {"vanished": 1} and report.skipped[0].path.endswith("c.txt")


def test_unreadable_files_and_pipes_are_skipped(kg, docs, monkeypatch):
    folder = docs
    (folder / "ok.txt").write_text(SENTENCE)
    secret = folder / "secret.txt"
    secret.write_text("classified")
    os.mkfifo(folder / "pipe.txt")  # opening a FIFO would wait for a writer forever
    if os.geteuid() == 0:  # root reads any file whatever its mode: refuse it at the open() call instead
        real_open = builtins.open

        def guarded(file, *args, **kwargs):
            if Path(os.fsdecode(file)) == secret:
                raise PermissionError(errno.EACCES, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", guarded)
    else:
        secret.chmod(0)
    report = kg.index(folder)
    assert report.documents_added == 1
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons == {
        "secret.txt": "unreadable: permission denied",
        "pipe.txt": "unreadable: not a regular file (a pipe, socket or device)",
    }
    assert report.skip_counts() == {"unreadable": 2}


def test_html_with_scripts_and_huge_attributes_keeps_visible_text(kg, docs):
    blob = "A" * 20_000_000
    page = (
        f'<html><head><title>Observatory</title><script>var secret = "{"s" * 100_000}";</script></head>'
        f'<body><div data-blob="{blob}" style="{blob[:1_000_000]}">{SENTENCE}</div>'
        '<script>document.write("injected")</script><style>p { color: red }</style>'
        '<p onclick="alert(1)">It has a refractor.</p></body></html>'
    )
    (docs / "page.html").write_text(page)
    report = kg.index(docs / "page.html")
    [text] = _passages(kg)
    assert report.documents_added == 1
    assert text == f"Observatory\n{SENTENCE}\nIt has a refractor."


def test_encrypted_and_image_only_pdfs_are_skipped_with_the_reason(kg, docs):
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    def encrypted(user_password: str) -> bytes:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf_with_text(SENTENCE))))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    image = io.BytesIO()
    Image.new("L", (64, 64), 128).save(image, "PDF")
    (docs / "locked.pdf").write_bytes(encrypted("secret"))
    (docs / "owner_only.pdf").write_bytes(encrypted(""))  # no password needed to read: indexed
    (docs / "scan.pdf").write_bytes(image.getvalue())
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    report = kg.index(docs)
    assert report.documents_added == 1 and SENTENCE in _passages(kg)[0]
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons["locked.pdf"] == "encrypted PDF: it needs a password"
    assert reasons["scan.pdf"].startswith("no text layer: the PDF's 1 page(s) hold no extractable text")
    assert reasons["broken.pdf"].startswith("malformed PDF")
    assert report.skip_counts() == {"encrypted PDF": 1, "no text layer": 1, "malformed PDF": 1}


def test_json_with_wrong_types(kg, docs):
    records = [
        5,
        "text",
        None,
        {"text": 5},
        {"text": {"nested": True}},
        {"title": ["a", "list"], "text": SENTENCE},
        {"id": 7, "contents": "Kettleby is a village.", "extra": {"ignored": [1, 2]}},
        {"title": "Only a title", "text": ""},
    ]
    (docs / "corpus.json").write_text(json.dumps(records))
    (docs / "object.json").write_text(json.dumps({"docs": 5}))
    (docs / "number.json").write_text("42")
    (docs / "sessions.json").write_text(json.dumps({"sessions": [{"turns": "not a list"}, 5]}))
    (docs / "lines.jsonl").write_text('{"text": "Lake Imber is a lake."}\n[1, 2]\n{"text": \n')
    report = kg.index(docs)
    assert report.documents_added == 4  # three corpus records (one with a title only) and one JSONL line
    assert report.skip_counts() == {"bad record": 6, "malformed JSON": 3, "no sessions": 1}
    assert "Only a title" in _passages(kg)
    assert kg.check().ok


def test_nul_bytes_and_control_characters(kg, docs):
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02" + SENTENCE.encode())
    escapes = "\x00\x1b[2J\x1b]0;title\x07"  # a NUL, then "clear the screen" and "set the window title"
    later = f"{SENTENCE} " * 200 + escapes + " Kettleby is a village.\x0cIt lies by Lake Imber.\u2028End."
    (docs / "late_nul.txt").write_text(later)
    (docs / "record.json").write_text(json.dumps([{"title": "Bell\x07", "text": "Ring \x1b[31mred\x1b[0m."}]))
    report = kg.index(docs)
    assert report.skip_counts() == {"binary": 1} and report.documents_added == 2
    texts = _passages(kg)
    assert all(not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in t) for t in texts), texts
    assert any(t.endswith("1871. [2J ]0;title Kettleby is a village. It lies by Lake Imber. End.") for t in texts)
    assert "Bell\nRing  [31mred [0m." in texts


def test_endless_sentences_are_cut_to_bounded_passages(kg, docs):
    (docs / "words.txt").write_text("lorem " * 300_000)  # 300k words, no punctuation at all
    (docs / "blob.txt").write_text("QUJD" * 750_000)  # 3 MB without a space, like base64
    report = kg.index(docs)
    assert report.documents_added == 2 and not report.skipped
    budget = kg.settings.chunk_tokens
    sizes = [len(t) for t in _passages(kg)]
    assert max(sizes) <= budget * MAX_TOKEN_CHARS + 80, max(sizes)
    assert all(len(t.split()) <= budget + 1 for t in _passages(kg))
    assert report.passages >= 300_000 // budget + 3_000_000 // (budget * MAX_TOKEN_CHARS)


def test_non_english_and_mixed_scripts(tmp_path, docs):
    spacy_model_or_skip()
    texts = {
        "zh.txt": "马伦天文台由阿达·林德奎斯特于1871年创立。她出生在凯特尔比村。" * 80,
        "ru.txt": "Обсерватория Маррен была основана Адой Линдквист в 1871 году.",
        "ar.txt": "تأسس مرصد مارين على يد آدا ليندكفيست في عام 1871.",
        "mixed.md": "# Ada Lindqvist (阿达) 🔭\n\nAda Lindqvist — астроном — founded the Marren Observatory. مرصد",
        "combining.txt": "Sebastián Piñera visited Kettleby. Åsa Öberg met him in Zürich.",
    }
    for name, text in texts.items():
        (docs / name).write_text(text)
    with hippo.open(tmp_path / "store", extractor="spacy") as kg:
        report = kg.index(docs)
        assert report.documents_added == 5 and not report.skipped
        chinese = [t for t in _passages(kg) if "天文台" in t]
        assert len(chinese) > 1 and max(len(t) for t in chinese) <= 2 * kg.settings.chunk_tokens
        [hit] = kg.retrieve("Обсерватория Маррен", k=1, method="bm25")
        assert hit.source.endswith("ru.txt")
        assert kg.entities("Piñera") and kg.check().ok


def test_a_100_kb_query_is_answered(kg_demo_graph):
    query = " ".join(["Who founded the Marren Observatory and where was its founder born?"] * 1500)[:100_000]
    for method in ("dense", "bm25", "hipporag", "memgas"):
        hits = kg_demo_graph.retrieve(query, k=3, method=method)
        assert len(hits) == 3, method
    result = CliRunner().invoke(app, ["retrieve", query, "--store", kg_demo_graph.store.location, "--json", "-k", "1"])
    assert result.exit_code == 0 and json.loads(result.output)[0]["title"]


def test_a_streamed_file_is_indexed_in_parts_and_updated_by_part(kg, docs, monkeypatch):
    """The streaming path end to end, at a small scale: the thresholds are lowered so a 300 KB file streams."""
    monkeypatch.setattr(loaders, "STREAM_BYTES", 64 * 1024)
    monkeypatch.setattr(loaders, "PART_CHARS", 32 * 1024)
    monkeypatch.setattr(pipeline, "BATCH_PASSAGES", 50)
    paragraphs = [f"Paragraph {n % 5}. {SENTENCE} Tomas Vey was born in Brackenmouth." for n in range(2500)]
    book = docs / "book.txt"
    book.write_text("The Book of Marren\n\n" + "\n\n".join(paragraphs))
    report = kg.index(book)
    parts = kg.documents()
    assert report.documents_added == len(parts) >= 9
    assert all(s.document.source.endswith(f"#part-{n}") for n, s in enumerate(parts, start=1))
    assert all(s.document.title == "The Book of Marren" for s in parts)
    assert kg.store.version() >= report.passages // 50  # batches held at most 50 passages (or one part)
    assert kg.index(book).files_unchanged == 1
    with book.open("a") as handle:
        handle.write("\n\nAn epilogue about Kettleby.")
    again = kg.index(book)
    assert again.documents_unchanged == len(parts) - 1 and again.documents_replaced == 1
    assert kg.check().ok


def test_a_streamed_jsonl_corpus_is_read_record_by_record(kg, docs, monkeypatch):
    monkeypatch.setattr(loaders, "STREAM_BYTES", 16 * 1024)
    lines = [json.dumps({"id": n, "title": f"Record {n % 3}", "text": SENTENCE}) for n in range(400)]
    lines[7] = "{not json"
    lines[9] = json.dumps({"id": 9, "text": "x" * 200_000})  # a long record is still read whole
    corpus = docs / "corpus.jsonl"
    corpus.write_text("\ufeff" + "\n".join(lines) + "\n")
    report = kg.index(corpus)
    assert report.documents_added == 399 and report.skip_counts() == {"malformed JSON": 1}
    assert kg.index(corpus).files_unchanged == 1
    loaded = list(loaders.iter_jsonl_records(corpus, loaders.open_file(corpus, 1 << 30).content_hash, line_limit=1000))
    skipped = [item for item in loaded if isinstance(item, Skip)]
    assert [s.reason for s in skipped] == [
        "malformed JSON: line 8: Expecting property name enclosed in double quotes",
        "too large: line 10 is over 1,000 bytes",
    ]


HUGE_READER = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from hippo.ingest.loaders import open_file
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    content = open_file(Path(sys.argv[1]), 1 << 40)
    parts = chars = 0
    for doc in content.documents():
        parts += 1
        chars += len(doc.text)
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"streamed": content.streamed, "parts": parts, "chars": chars, "grew_mib": grew / 1024}))
""")


@pytest.mark.slow  # writes and reads 200 MB
def test_a_200_mb_text_file_is_read_in_bounded_memory(tmp_path):
    big = tmp_path / "big.txt"
    paragraph = (SENTENCE + " ") * 12 + "\n\n"
    block = paragraph * (1024 * 1024 // len(paragraph))
    with big.open("w") as handle:
        for _ in range(200):
            handle.write(block)
    size = big.stat().st_size
    run = subprocess.run([sys.executable, "-c", HUGE_READER, str(big)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen["streamed"] and seen["parts"] == pytest.approx(size / loaders.PART_CHARS, abs=2)
    assert seen["chars"] >= 0.99 * size
    assert seen["grew_mib"] < 64, seen  # holding the file would take 200 MB at least

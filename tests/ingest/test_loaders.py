import json
import os
from pathlib import Path

import pytest

from hippo.errors import IngestError
from hippo.ingest.loaders import LoadedDoc, discover, parse_file, read_bytes
from hippo.model import Skip


def parse(path: Path, content: str | bytes) -> list:
    data = content.encode() if isinstance(content, str) else content
    path.write_bytes(data)
    return parse_file(path, data)


def test_plain_text_takes_a_short_first_line_as_title(tmp_path):
    [doc] = parse(tmp_path / "a.txt", "Harrowgate\nHarrowgate is a port town.")
    assert doc.title == "Harrowgate"
    assert doc.text == "Harrowgate\nHarrowgate is a port town."


def test_plain_text_without_title_line_uses_file_name(tmp_path):
    [doc] = parse(tmp_path / "notes.txt", "Harrowgate is a port town. It has a harbour.")
    assert doc.title == "notes"


def test_markdown_strips_syntax_and_takes_heading_as_title(tmp_path):
    [doc] = parse(tmp_path / "a.md", "# River Sele\n\nThe **River Sele** flows past [Harrowgate](http://x.org).\n")
    assert doc.title == "River Sele"
    assert "The River Sele flows past Harrowgate." in doc.text
    assert "http" not in doc.text and "**" not in doc.text


def test_html_keeps_visible_text_only(tmp_path):
    html = """<html><head><title>Starfall</title><style>p {color: red} STYLE_X</style>
    <script>var SCRIPT_X = 1;</script></head><body><h1>Starfall Festival</h1>
    <p>The festival is held in <b>Harrowgate</b>.</p><noscript>NOSCRIPT_X</noscript></body></html>"""
    [doc] = parse(tmp_path / "a.html", html)
    assert doc.title == "Starfall"
    assert "The festival is held in" in doc.text and "Harrowgate" in doc.text
    for hidden in ("STYLE_X", "SCRIPT_X", "NOSCRIPT_X", "color"):
        assert hidden not in doc.text


def test_demo_html_page_hides_its_planted_script_text():
    path = Path(__file__).resolve().parents[2] / "data" / "demo" / "history" / "starfall_festival.html"
    [doc] = parse_file(path, path.read_bytes())
    assert "SHOULD_NOT_BE_INDEXED" not in doc.text and "Zorbulon" not in doc.text
    assert doc.title == "Starfall Festival"


def _pdf_with_text(text: str) -> bytes:
    """A minimal one-page PDF whose text layer holds ``text`` (Helvetica), written by hand."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_pdf_text_layer(tmp_path):
    [doc] = parse(tmp_path / "paper.pdf", _pdf_with_text("Comet Vey was discovered in 1881."))
    assert "Comet Vey was discovered in 1881." in doc.text
    assert doc.title == "paper"


def test_pdf_without_text_layer_is_skipped_with_reason(tmp_path):
    with pytest.raises(IngestError, match="no text layer"):
        parse(tmp_path / "scan.pdf", _pdf_with_text(""))


def test_malformed_pdf(tmp_path):
    with pytest.raises(IngestError, match="malformed PDF"):
        parse(tmp_path / "bad.pdf", b"%PDF-1.4\nthis is not a pdf")


def test_json_corpus_title_text_and_id_contents(tmp_path):
    docs = parse(tmp_path / "c.json", json.dumps([{"title": "A", "text": "Alpha."}, {"id": "x7", "contents": "Beta."}]))
    assert [(d.key, d.title, d.text) for d in docs] == [("A", "A", "Alpha."), ("x7", "x7", "Beta.")]


def test_json_duplicate_titles_get_distinct_keys(tmp_path):
    docs = parse(tmp_path / "c.json", json.dumps([{"title": "A", "text": "one"}, {"title": "A", "text": "two"}]))
    assert [d.key for d in docs] == ["A", "A~2"]


def test_json_bad_records_are_skipped_and_the_rest_kept(tmp_path):
    records = [{"title": "A", "text": "Alpha."}, {"title": "B", "text": 7}, "just a string", {"title": "C"}]
    docs = parse(tmp_path / "c.json", json.dumps(records))
    kept = [d for d in docs if isinstance(d, LoadedDoc)]
    skipped = [d for d in docs if isinstance(d, Skip)]
    assert [d.title for d in kept] == ["A"]
    assert [s.path for s in skipped] == ["record 2", "record 3", "record 4"]
    assert "int" in skipped[0].reason and "str" in skipped[1].reason and "missing" in skipped[2].reason


@pytest.mark.parametrize(("content", "reason"), [
    ('[{"title": "A", "text": "x"', "malformed JSON: Expecting"),
    ('{"title": "A"}', "malformed JSON: a corpus is a list"),
    ("[]", "no records"),
])
def test_json_file_level_errors(tmp_path, content, reason):
    with pytest.raises(IngestError, match=reason):
        parse(tmp_path / "c.json", content)


def test_jsonl_skips_malformed_lines(tmp_path):
    docs = parse(tmp_path / "c.jsonl", '{"title": "A", "text": "Alpha."}\n{broken\n{"id": 3, "contents": "Gamma."}\n')
    assert [d.key for d in docs if isinstance(d, LoadedDoc)] == ["A", "3"]
    [skip] = [d for d in docs if isinstance(d, Skip)]
    assert skip.path == "record 2" and skip.reason.startswith("malformed JSON: line 2")


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "empty: the file has no content"),
    (b"  \n\t ", "empty: the file has no content"),
    (b"abc\x00def", "binary: the file contains NUL bytes"),
    (b"caf\xe9", r"invalid UTF-8: byte 3 \(0xe9\)"),
])
def test_unusable_text_files(tmp_path, data, reason):
    with pytest.raises(IngestError, match=reason):
        parse(tmp_path / "x.txt", data)


def test_utf8_bom_is_dropped(tmp_path):
    [doc] = parse(tmp_path / "x.txt", "\ufeffKettleby is a village.".encode())
    assert doc.text == "Kettleby is a village."


def test_read_bytes_errors(tmp_path):
    with pytest.raises(IngestError, match="vanished"):
        read_bytes(tmp_path / "gone.txt", 1000)
    big = tmp_path / "big.txt"
    big.write_text("x" * 100)
    with pytest.raises(IngestError, match="too large: 100 bytes"):
        read_bytes(big, 10)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files whatever their permissions")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("x")
    path.chmod(0)
    with pytest.raises(IngestError, match="unreadable: permission denied"):
        read_bytes(path, 1000)


def test_discover_walks_folders_with_globs_and_reports_the_rest(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.md").write_text("x")
    (tmp_path / "a" / "two.txt").write_text("x")
    (tmp_path / "a" / "pic.png").write_bytes(b"x")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "h.txt").write_text("x")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    found = list(discover([tmp_path]))
    files = sorted(p.name for p in found if isinstance(p, Path))
    skips = [s for s in found if isinstance(s, Skip)]
    assert files == ["one.md", "two.txt"]
    assert [s.reason for s in skips] == ["unsupported type: .png"]
    assert [p.name for p in discover([tmp_path], include=["*.md"]) if isinstance(p, Path)] == ["one.md"]
    assert [p.name for p in discover([tmp_path], exclude=["a/two.*"]) if isinstance(p, Path)] == ["one.md"]
    [missing] = list(discover([tmp_path / "nope"]))
    assert missing.reason.startswith("missing")

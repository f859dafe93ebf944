"""From paths to documents: find files, read them, and say exactly why one is skipped.

Supported: ``.txt``, ``.md``/``.markdown``, ``.html``/``.htm`` (visible text only), ``.pdf``
(text layer), and ``.json``/``.jsonl`` corpora whose records are ``{"title", "text"}`` (as in
HippoRAG's corpora) or ``{"id", "contents"}``. Each corpus record becomes its own document,
so changing one record re-indexes only that record. A ``.json`` file shaped as a conversation
(LoCoMo, or hippo's own chat format; see ``conversations.py``) gives one document per session
with one passage per turn.

A file that cannot be indexed raises :class:`~hippo.errors.IngestError` whose message is
the skip reason, in the form ``"<kind>: <detail>"`` (the kind is what the run summary counts).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hippo.errors import IngestError
from hippo.model import Skip

__all__ = ["SUFFIXES", "LoadedDoc", "LoadedPassage", "decode_text", "discover", "parse_file", "read_bytes"]

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".json", ".jsonl")
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class LoadedPassage:
    """A passage that arrives already split (a conversation turn): its text, its own id and time."""

    text: str
    key: str = ""
    time: str | None = None


@dataclass(frozen=True)
class LoadedDoc:
    """One document read from a file: ``key`` is unique within the file ('' for whole-file documents).

    ``passages``, when given, are the document's passages as they are (a session's turns): they
    bypass chunking and keep their keys and times; ``text`` is then their texts joined by newlines.
    """

    key: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    timestamp: str | None = None
    passages: tuple[LoadedPassage, ...] | None = None


def discover(paths: Sequence[str | os.PathLike[str]], include: Sequence[str] = (),
             exclude: Sequence[str] = ()) -> Iterator[Path | Skip]:
    """Files to index under ``paths``, in a stable order, and skips for what cannot be.

    Folders are walked recursively without following symbolic links (so link loops are
    harmless); hidden files and folders are passed over. In folders only supported
    suffixes are taken, then filtered by ``include`` globs (any must match, when given)
    and ``exclude`` globs (none may match); globs match the path relative to the folder
    and the file name. A file named explicitly is always read.
    """
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in _walk(path):
                rel = file.relative_to(path).as_posix()
                if include and not any(_glob(rel, file.name, g) for g in include):
                    continue
                if any(_glob(rel, file.name, g) for g in exclude):
                    continue
                if file.suffix.lower() not in SUFFIXES:
                    yield Skip(str(file), f"unsupported type: {file.suffix or 'no suffix'}")
                    continue
                resolved = file.resolve()
                if resolved not in seen:
                    seen.add(resolved)
                    yield file
        elif path.is_file():
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                yield path
        elif path.is_symlink():
            yield Skip(str(path), "broken link: the target does not exist")
        else:
            yield Skip(str(path), "missing: no such file or folder")


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def _glob(rel: str, name: str, pattern: str) -> bool:
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(name, pattern)


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or :class:`IngestError` for what cannot be read."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise IngestError(f"too large: {size:,} bytes is over the limit of {max_bytes:,} (max_file_bytes)")
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise IngestError("vanished: the file was removed before it could be read") from None
    except PermissionError:
        raise IngestError("unreadable: permission denied") from None
    except IsADirectoryError:
        raise IngestError("unreadable: is a directory") from None
    except OSError as exc:
        raise IngestError(f"unreadable: {exc.strerror or exc}") from None


def parse_file(path: Path, data: bytes) -> list[LoadedDoc | Skip]:
    """Documents in a file's ``data``, chosen by suffix (unknown suffixes are read as plain text).

    Corpus files may also yield a :class:`Skip` per bad record (its path is ``record N``);
    a file that yields nothing usable raises :class:`IngestError`.
    """
    if not data.strip():
        raise IngestError("empty: the file has no content")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _parse_pdf(path, data)
    text = decode_text(data)
    if suffix in (".html", ".htm"):
        return [_parse_html(path, text)]
    if suffix in (".md", ".markdown"):
        return [_parse_markdown(path, text)]
    if suffix == ".json":
        return _parse_json(text, path)
    if suffix == ".jsonl":
        return _parse_jsonl(text)
    return [_parse_plain(path, text)]


def decode_text(data: bytes) -> str:
    """UTF-8 text of ``data`` (a BOM is dropped); binary or invalid UTF-8 raise :class:`IngestError`."""
    if b"\x00" in data[:SNIFF_BYTES]:
        raise IngestError("binary: the file contains NUL bytes, so it is not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IngestError(f"invalid UTF-8: byte {exc.start} (0x{data[exc.start]:02x}) is not valid UTF-8") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise IngestError("empty: the file has only white space")
    return text


def _parse_plain(path: Path, text: str) -> LoadedDoc:
    lines = text.strip().splitlines()
    first = lines[0].strip()
    # A short first line without closing punctuation, followed by more text, reads as a title.
    if len(lines) > 1 and len(first) <= 100 and not first.endswith((".", "!", "?", ":", ";", ",")):
        return LoadedDoc("", first, text.strip())
    return LoadedDoc("", path.stem, text.strip())


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(^|\s)[*_`]{1,3}|[*_`]{1,3}(?=\s|[.,;:!?]|$)")


def _parse_markdown(path: Path, text: str) -> LoadedDoc:
    """Markdown with link targets, emphasis marks and heading hashes removed; the first heading is the title."""
    title = ""
    lines = []
    in_front_matter = text.startswith("---\n")
    for number, line in enumerate(text.splitlines()):
        if in_front_matter:
            if number > 0 and line.strip() == "---":
                in_front_matter = False
            continue
        stripped = line.strip()
        if stripped.startswith("```"):
            continue
        heading = re.match(r"#{1,6}\s+(.*)", stripped)
        if heading:
            stripped = heading.group(1).strip().rstrip("#").strip()
            title = title or stripped
        stripped = _MD_MARKS.sub(r"\1", _MD_LINK.sub(r"\1", stripped))
        lines.append(stripped)
    body = "\n".join(lines).strip()
    if not body:
        raise IngestError("empty: the markdown has no text")
    return LoadedDoc("", title or path.stem, body)


def _parse_html(path: Path, text: str) -> LoadedDoc:
    """Visible text of an HTML page: scripts, styles, templates and the head are dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag else ""
    for tag in soup(["script", "style", "noscript", "template", "head", "svg", "iframe", "object"]):
        tag.decompose()
    blocks = [" ".join(chunk.split()) for chunk in soup.get_text("\n").split("\n")]
    body = "\n".join(b for b in blocks if b)
    if not body:
        raise IngestError("empty: the page has no visible text")
    if not title:
        heading = soup.find(["h1", "h2"])
        title = " ".join(heading.get_text().split()) if heading else path.stem
    return LoadedDoc("", title, body)


def _parse_pdf(path: Path, data: bytes) -> list[LoadedDoc]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise IngestError("encrypted PDF: it needs a password")
            except NotImplementedError as exc:
                raise IngestError(f"encrypted PDF: {exc}") from None
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except PdfReadError as exc:
        raise IngestError(f"malformed PDF: {exc}") from None
    body = "\n\n".join(p.strip() for p in pages if p.strip())
    if not body:
        raise IngestError(f"no text layer: the PDF's {len(pages)} page(s) hold no extractable text (image-only?)")
    return [LoadedDoc("", str(meta_title).strip() or path.stem, body, {"pages": len(pages)})]


def _parse_json(text: str, path: Path) -> list[LoadedDoc | Skip]:
    from hippo.ingest.conversations import parse_conversations

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    sessions = parse_conversations(data, path.stem)
    if sessions is not None:
        return sessions
    if isinstance(data, dict):
        data = data.get("docs") or data.get("data") or data.get("corpus") or data
    if not isinstance(data, list):
        raise IngestError(
            f"malformed JSON: a corpus is a list of {{\"title\", \"text\"}} or {{\"id\", \"contents\"}} records, "
            f"not a {type(data).__name__}"
        )
    return _records(enumerate(data, start=1))


def _parse_jsonl(text: str) -> list[LoadedDoc | Skip]:
    items: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            items.append((number, IngestError(f"malformed JSON: line {number}: {exc.msg}")))
    return _records(items)


def _records(items: Any) -> list[LoadedDoc | Skip]:
    """Corpus records as documents; a bad record becomes a :class:`Skip` named ``record N``."""
    docs: list[LoadedDoc | Skip] = []
    used: dict[str, int] = {}
    for number, record in items:
        if isinstance(record, IngestError):
            docs.append(Skip(f"record {number}", str(record)))
            continue
        parsed = _record(record, number)
        if isinstance(parsed, Skip):
            docs.append(parsed)
            continue
        key = parsed.key
        used[key] = used.get(key, 0) + 1
        if used[key] > 1:
            parsed = LoadedDoc(f"{key}~{used[key]}", parsed.title, parsed.text, parsed.metadata, parsed.timestamp)
        docs.append(parsed)
    if not any(isinstance(d, LoadedDoc) for d in docs):
        reasons = {d.reason for d in docs if isinstance(d, Skip)}
        detail = "; ".join(sorted(reasons)[:3]) if reasons else "the corpus has no records"
        raise IngestError(f"no records: {detail}")
    return docs


def _record(record: Any, number: int) -> LoadedDoc | Skip:
    if not isinstance(record, dict):
        return Skip(f"record {number}", f"bad record: record {number} is a {type(record).__name__}, not an object")
    text = record.get("text", record.get("contents", record.get("paragraph_text")))
    if not isinstance(text, str):
        kind = "missing" if text is None else type(text).__name__
        return Skip(f"record {number}", f"bad record: record {number} has no string text/contents ({kind})")
    title = record.get("title", "")
    if not isinstance(title, str):
        title = str(title)
    rid = record.get("id", record.get("idx", record.get("_id")))
    key = str(rid) if isinstance(rid, (str, int)) and str(rid) else (title or f"record {number}")
    if not text.strip() and not title.strip():
        return Skip(f"record {number}", f"empty: record {number} has no text")
    if "\x00" in text or "\x00" in title:
        text, title = text.replace("\x00", " "), title.replace("\x00", " ")
    meta = {k: v for k, v in record.items() if k not in {"text", "contents", "title"} and _is_plain(v)}
    timestamp = record.get("timestamp") if isinstance(record.get("timestamp"), str) else None
    return LoadedDoc(key, title.strip() or key, text.strip(), meta, timestamp)


def _is_plain(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None

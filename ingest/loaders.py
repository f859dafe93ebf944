"""From paths to documents: find files, read them, and say exactly why one is skipped.

Supported: ``.txt``, ``.md``/``.markdown``, ``.html``/``.htm`` (visible text only), ``.pdf``
(text layer), and ``.json``/``.jsonl`` corpora whose records are ``{"title", "text"}`` (as in
HippoRAG's corpora) or ``{"id", "contents"}``. Each corpus record becomes its own document,
so changing one record re-indexes only that record. A ``.json`` file shaped as a conversation
(LoCoMo, or hippo's own chat format; see ``conversations.py``) gives one document per session
with one passage per turn.

A file that cannot be indexed raises :class:`~hippo.errors.IngestError` whose message is
the skip reason, in the form ``"<kind>: <detail>"`` (the kind is what the run summary counts).

Memory stays bounded whatever the input: a text, markdown or JSON-lines file over
:data:`STREAM_BYTES` is never held whole; it is hashed and checked in blocks, then read again
record by record (``.jsonl``) or as documents of about :data:`PART_CHARS` characters each
(``<file>#part-N``), cut between paragraphs. HTML, PDF and JSON files are parsed whole (they have
to be), up to :data:`WHOLE_FILE_BYTES`.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import fnmatch
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hippo.errors import IngestError
from hippo.model import Skip

__all__ = ["PART_CHARS", "STREAM_BYTES", "SUFFIXES", "WHOLE_FILE_BYTES", "FileContent", "LoadedDoc", "LoadedPassage",
           "clean_text", "decode_text", "discover", "iter_jsonl_records", "iter_text_parts", "open_file", "parse_file",
           "read_bytes"]

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".json", ".jsonl")
WHOLE_SUFFIXES = (".html", ".htm", ".pdf", ".json")
"""Formats that must be parsed whole; every other file is text (or JSON lines) and can be streamed."""
WHOLE_FILE_BYTES = 128 * 1024 * 1024
"""Largest file parsed whole: parsing takes several times the file's size in memory."""
SNIFF_BYTES = 8192
STREAM_BYTES = 8 * 1024 * 1024
"""Text and markdown files larger than this are streamed in parts instead of read whole."""
PART_CHARS = 1024 * 1024
"""A streamed file becomes one document per part of about this many characters."""
BLOCK_BYTES = 1024 * 1024
"""Bytes read at a time from a streamed file."""
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_VERTICAL = re.compile(r"[\x0b\x0c\u2028\u2029]")


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


@dataclass(frozen=True)
class FileContent:
    """A file's hash and size, and how to get its documents (parsed only when the hash is new)."""

    content_hash: str
    size: int
    documents: Callable[[], Iterable[LoadedDoc | Skip]]
    streamed: bool = False


def discover(paths: Sequence[str | os.PathLike[str]], include: Sequence[str] = (),
             exclude: Sequence[str] = ()) -> Iterator[Path | Skip]:
    """Files to index under ``paths``, in a stable order, and skips for what cannot be.

    Folders are walked to any depth without following symbolic links to folders (so link
    loops are harmless); hidden files and folders are passed over; a link to a file is read,
    a broken one or a loop of links is skipped with that reason. In folders only supported
    suffixes are taken, then filtered by ``include`` globs (any must match, when given)
    and ``exclude`` globs (none may match); globs match the path relative to the folder
    and the file name. A file named explicitly is always read.
    """
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in _walk(path):
                if isinstance(file, Skip):
                    yield file
                    continue
                rel = file.relative_to(path).as_posix()
                if include and not any(_glob(rel, file.name, g) for g in include):
                    continue
                if any(_glob(rel, file.name, g) for g in exclude):
                    continue
                if file.suffix.lower() not in SUFFIXES:
                    yield Skip(str(file), f"unsupported type: {file.suffix or 'no suffix'}")
                    continue
                resolved = _resolve(file)
                if isinstance(resolved, Skip):
                    yield resolved
                elif resolved not in seen:
                    seen.add(resolved)
                    yield file
        elif path.exists():  # a file, or something that is not one (read_bytes says why it cannot be read)
            resolved = path.resolve()
            if resolved not in seen:
                seen.add(resolved)
                yield path
        elif path.is_symlink():
            problem = _resolve(path)
            yield problem if isinstance(problem, Skip) else Skip(str(path), "broken link: the target does not exist")
        else:
            yield Skip(str(path), "missing: no such file or folder")


def _walk(folder: Path) -> Iterator[Path | Skip]:
    """Files under ``folder``, depth first in name order, with an explicit stack (no recursion limit on depth).

    Links to folders are not entered; a folder that cannot be listed is a :class:`Skip`.
    """
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            yield Skip(str(current), f"unreadable: the folder cannot be listed ({exc.strerror or exc})")
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append(Path(entry.path))
            elif not _links_to_folder(entry):
                yield Path(entry.path)
        stack.extend(reversed(folders))


def _links_to_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink() and entry.is_dir()
    except OSError:  # a loop of links: reported when the file itself is resolved
        return False


def _resolve(path: Path) -> Path | Skip:
    """The real path of ``path``, or why a link cannot be followed."""
    try:
        return path.resolve(strict=True)
    except FileNotFoundError:
        if not path.is_symlink():
            return Skip(str(path), "vanished: the file was removed before it could be read")
        return Skip(str(path), "broken link: the target does not exist")
    except RuntimeError:  # Python 3.11 reports a loop of links this way, later versions with ELOOP
        return Skip(str(path), "link loop: the link leads back to itself")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Skip(str(path), "link loop: the link leads back to itself")
        return Skip(str(path), f"unreadable: {exc.strerror or exc}")


def _glob(rel: str, name: str, pattern: str) -> bool:
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(name, pattern)


def open_file(path: Path, max_bytes: int) -> FileContent:
    """Hash ``path`` and say how to read its documents: whole, or streamed when it is large text or JSONL."""
    size = _regular_size(path, max_bytes)
    suffix = path.suffix.lower()
    if size > STREAM_BYTES and suffix not in WHOLE_SUFFIXES:
        digest = _scan_text(path)
        if suffix == ".jsonl":
            return FileContent(digest, size, lambda: iter_jsonl_records(path, digest), streamed=True)
        return FileContent(digest, size, lambda: iter_text_parts(path, digest), streamed=True)
    if size > WHOLE_FILE_BYTES:
        raise IngestError(f"too large: {size:,} bytes; a {suffix} file is parsed whole, and hippo parses at most "
                          f"{WHOLE_FILE_BYTES:,} bytes at once (split it; a corpus can be given as .jsonl, which is "
                          "streamed)")
    data = read_bytes(path, max_bytes)
    return FileContent(hashlib.sha1(data).hexdigest(), len(data), lambda: parse_file(path, data))


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or :class:`IngestError` for what cannot be read."""
    _regular_size(path, max_bytes)
    with _reading(), open(path, "rb") as handle:
        return handle.read()


def _regular_size(path: Path, max_bytes: int) -> int:
    """The size of ``path``, a regular file within ``max_bytes``; :class:`IngestError` otherwise.

    A FIFO, socket or device is refused before it is opened: opening a FIFO would wait forever.
    """
    with _reading():
        info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise IngestError("unreadable: is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise IngestError("unreadable: not a regular file (a pipe, socket or device)")
    if info.st_size > max_bytes:
        raise IngestError(f"too large: {info.st_size:,} bytes is over the limit of {max_bytes:,} (max_file_bytes)")
    return info.st_size


@contextlib.contextmanager
def _reading() -> Iterator[None]:
    """Turn the operating system's errors on reading a file into skip reasons."""
    try:
        yield
    except FileNotFoundError:
        raise IngestError("vanished: the file was removed before it could be read") from None
    except PermissionError:
        raise IngestError("unreadable: permission denied") from None
    except IsADirectoryError:
        raise IngestError("unreadable: is a directory") from None
    except OSError as exc:
        raise IngestError(f"unreadable: {exc.strerror or exc}") from None


def _scan_text(path: Path) -> str:
    """sha1 of a large text file, read in blocks, checking on the way that it is UTF-8 text.

    Checking everything before the first part is indexed means a bad byte near the end skips the
    file whole instead of leaving its first parts indexed.
    """
    digest = hashlib.sha1()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    blank = True
    with _reading(), open(path, "rb") as handle:
        while block := handle.read(BLOCK_BYTES):
            if offset == 0 and b"\x00" in block[:SNIFF_BYTES]:
                raise IngestError("binary: the file contains NUL bytes, so it is not text")
            digest.update(block)
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise IngestError(f"invalid UTF-8: byte {offset + exc.start} (0x{block[exc.start]:02x}) "
                                  "is not valid UTF-8") from None
            blank = blank and not text.strip()
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise IngestError(f"invalid UTF-8: the file ends inside a character at byte {offset}") from None
    if blank:
        raise IngestError("empty: the file has only white space")
    return digest.hexdigest()


def iter_text_parts(path: Path, content_hash: str, part_chars: int | None = None) -> Iterator[LoadedDoc]:
    """The documents of a large text or markdown file, one per part of about ``part_chars`` characters
    (default :data:`PART_CHARS`).

    Parts end at a paragraph break when there is one in the second half of the part, else at a line
    break, else at a space, else anywhere. Every part carries the title of the first. When the bytes
    read differ from ``content_hash`` (the file changed since it was hashed), :class:`IngestError`
    is raised after the last part: the file's hash is then not recorded, so the next run reads it again.
    """
    part_chars = part_chars or PART_CHARS
    markdown = path.suffix.lower() in (".md", ".markdown")
    digest = hashlib.sha1()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    buffer = ""
    title = ""
    number = 0
    with _reading(), open(path, "rb") as handle:
        while True:
            block = handle.read(BLOCK_BYTES)
            digest.update(block)
            buffer += decoder.decode(block, final=not block)
            if number == 0:
                buffer = buffer.removeprefix("\ufeff")
            while len(buffer) >= part_chars or (not block and buffer.strip()):
                cut = _part_end(buffer, part_chars) if len(buffer) >= part_chars else len(buffer)
                part, buffer = buffer[:cut], buffer[cut:]
                if not part.strip():
                    continue
                number += 1
                doc = _parse_part(path, part, markdown, first=number == 1)
                title = title or doc.title
                yield LoadedDoc(f"part-{number}", title, doc.text, {"part": number})
            if not block:
                break
    if digest.hexdigest() != content_hash:
        raise IngestError("changed while being read: the file changed between hashing and reading; index it again")


def _part_end(buffer: str, size: int) -> int:
    for mark in ("\n\n", "\n", " "):
        cut = buffer.rfind(mark, size // 2, size)
        if cut > 0:
            return cut + len(mark)
    return size


def _parse_part(path: Path, text: str, markdown: bool, first: bool) -> LoadedDoc:
    """One part of a streamed file, parsed as the whole file would be (title rules apply to the first)."""
    if markdown:
        try:
            return _parse_markdown(path, text, front_matter=first)
        except IngestError:  # a part with only markup: keep its raw text rather than lose it
            return LoadedDoc("", path.stem, text.strip())
    return _parse_plain(path, text) if first else LoadedDoc("", path.stem, text.strip())


def clean_text(text: str) -> str:
    """``text`` without control characters: line and page separators become newlines, the rest spaces.

    Control characters carry no meaning for retrieval, and an escape sequence stored in a passage
    would reach the terminal of whoever prints it.

    >>> clean_text("a\\x00b\\x1b[31mc\\x0cd")
    'a b [31mc\\nd'
    """
    if not (_CONTROL.search(text) or _VERTICAL.search(text)):
        return text
    return _CONTROL.sub(" ", _VERTICAL.sub("\n", text))


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


def _parse_markdown(path: Path, text: str, front_matter: bool = True) -> LoadedDoc:
    """Markdown with link targets, emphasis marks and heading hashes removed; the first heading is the title."""
    title = ""
    lines = []
    in_front_matter = front_matter and text.startswith("---\n")
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
        if not any(isinstance(s, LoadedDoc) for s in sessions):
            reasons = sorted({s.reason for s in sessions if isinstance(s, Skip)})
            raise IngestError(f"no sessions: {'; '.join(reasons[:3]) or 'the conversation has no sessions'}")
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
    return list(_iter_records(items))


def _iter_records(items: Iterable[tuple[int, Any]]) -> Iterator[LoadedDoc | Skip]:
    """:func:`_records` one at a time; :class:`IngestError` at the end when no record was usable."""
    used: dict[str, int] = {}
    reasons: set[str] = set()
    for number, record in items:
        if isinstance(record, IngestError):
            reasons.add(str(record))
            yield Skip(f"record {number}", str(record))
            continue
        parsed = _record(record, number)
        if isinstance(parsed, Skip):
            reasons.add(parsed.reason)
            yield parsed
            continue
        key = parsed.key
        used[key] = used.get(key, 0) + 1
        if used[key] > 1:
            parsed = LoadedDoc(f"{key}~{used[key]}", parsed.title, parsed.text, parsed.metadata, parsed.timestamp)
        yield parsed
    if not used:
        detail = "; ".join(sorted(reasons)[:3]) if reasons else "the corpus has no records"
        raise IngestError(f"no records: {detail}")


def iter_jsonl_records(path: Path, content_hash: str, line_limit: int = WHOLE_FILE_BYTES) -> Iterator[LoadedDoc | Skip]:
    """The records of a large ``.jsonl`` corpus, read line by line (as :func:`iter_text_parts`, checked
    against ``content_hash`` at the end); a line over ``line_limit`` bytes is skipped without being held."""
    digest = hashlib.sha1()

    def lines() -> Iterator[tuple[int, Any]]:
        with _reading(), open(path, "rb") as handle:
            number = 0
            while raw := handle.readline(line_limit):
                number += 1
                digest.update(raw)
                if len(raw) == line_limit and not raw.endswith(b"\n"):
                    _skip_rest_of_line(handle, digest)
                    yield number, IngestError(f"too large: line {number} is over {line_limit:,} bytes")
                    continue
                line = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except json.JSONDecodeError as exc:
                        yield number, IngestError(f"malformed JSON: line {number}: {exc.msg}")

    yield from _iter_records(lines())
    if digest.hexdigest() != content_hash:
        raise IngestError("changed while being read: the file changed between hashing and reading; index it again")


def _skip_rest_of_line(handle: Any, digest: Any) -> None:
    """Read past the end of an over-long line (hashing it) without holding it."""
    while rest := handle.readline(BLOCK_BYTES):
        digest.update(rest)
        if rest.endswith(b"\n"):
            return


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

"""Sentence-aware chunking with a token budget.

A document shorter than the budget stays one passage (HippoRAG's corpora are one
passage per record). Longer ones are packed sentence by sentence up to the budget,
and each passage after the first starts with the last sentences of the one before
(up to ``overlap`` tokens), so a fact stated across a boundary is still whole somewhere.
A "sentence" longer than the budget on its own is cut at token boundaries, and a run of
characters without spaces or punctuation (a base64 blob, a minified line) is cut every
``max_tokens * MAX_TOKEN_CHARS`` characters, so no passage outgrows its budget whatever the input.

Every passage begins with the document title on its own line when the text does not
already begin with it ("title\\ntext", as HippoRAG builds passages), so a passage read
alone still says what it is about.
"""

from __future__ import annotations

import re

from hippo.text import split_sentences

__all__ = ["MAX_TOKEN_CHARS", "chunk_text"]

MAX_TOKEN_CHARS = 8
"""Characters allowed per budget token in one passage (English averages under 5 per token)."""
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_SPAN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")
"""A token: one Chinese or Japanese character (their text has no spaces), a run of other word characters,
or a punctuation mark."""


def chunk_text(text: str, title: str = "", *, max_tokens: int = 256, overlap: int = 32) -> list[str]:
    """Passages of ``text``, each at most ``max_tokens`` tokens plus its title line.

    >>> chunk_text("One. Two.", "T")
    ['T\\nOne. Two.']
    >>> [p.count("Sentence") for p in chunk_text(" ".join(["Sentence here."] * 6), max_tokens=9, overlap=3)]
    [3, 3, 2]
    """
    body = text.strip()
    if not body:  # a record with a title only is still something to find
        return [title.strip()] if title.strip() else []
    header = "" if not title.strip() or body.split("\n", 1)[0].strip() == title.strip() else title.strip() + "\n"
    if _cost(body) <= max_tokens:
        return [header + body]
    pieces = [piece for sentence in split_sentences(body) for piece in _cut_long(sentence, max_tokens)]
    passages: list[str] = []
    current: list[tuple[str, int]] = []
    size = 0
    for piece in pieces:
        tokens = _cost(piece)
        if current and size + tokens > max_tokens:
            passages.append(" ".join(s for s, _ in current))
            current, size = _tail(current, overlap, max_tokens - tokens)
        current.append((piece, tokens))
        size += tokens
    if current:
        passages.append(" ".join(s for s, _ in current))
    return [header + p for p in passages]


def _tail(sentences: list[tuple[str, int]], overlap: int, room: int) -> tuple[list[tuple[str, int]], int]:
    """The last sentences totalling at most ``overlap`` tokens (and fitting in ``room``)."""
    kept: list[tuple[str, int]] = []
    size = 0
    for sentence, tokens in reversed(sentences):
        if size + tokens > min(overlap, room):
            break
        kept.insert(0, (sentence, tokens))
        size += tokens
    return kept, size


def _cost(text: str) -> int:
    """What ``text`` takes of the budget: its tokens, or more when they are unusually long."""
    return max(sum(1 for _ in _TOKEN_SPAN.finditer(text)), len(text) // MAX_TOKEN_CHARS)


def _cut_long(sentence: str, max_tokens: int) -> list[str]:
    """A sentence over the budget, cut into runs of at most ``max_tokens`` tokens and as many budget characters."""
    if _cost(sentence) <= max_tokens:
        return [sentence]
    max_chars = max_tokens * MAX_TOKEN_CHARS
    spans = [m.span() for m in _TOKEN_SPAN.finditer(sentence)]
    runs = [sentence[spans[i][0]:spans[min(i + max_tokens, len(spans)) - 1][1]]
            for i in range(0, len(spans), max_tokens)]
    return [run[start:start + max_chars] for run in runs for start in range(0, len(run), max_chars)]

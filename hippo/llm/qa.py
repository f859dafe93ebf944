"""Short answers written by the LLM from the top passages, with numbered citations.

The model is asked for the answer alone (a name, place, date or number): a small local model
answers a multi-hop question far more often when it is not also asked to write supporting
sentences and citations. hippo then cites the shown passages that contain the answer, or those
the model cited itself when it did (a larger endpoint model may), renumbered in order of first
use so that ``[1]`` is ``Answer.sources[0]``.

What can go wrong, and what happens then (``Answer.notes`` says which):

- the prompt does not fit the model's context: the lowest-ranked passages are dropped, whole,
  until it fits;
- the model says the passages do not hold the answer: ``found`` is false and the text says
  "Not found in the indexed documents.";
- the reply is empty or cut at the token limit: :class:`UnusableReply` is raised, and the caller
  answers extractively instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from hippo.errors import LLMError
from hippo.llm.client import ChatRequest, LLMClient
from hippo.llm.local import ContextOverflowError
from hippo.llm.prompts import answer_messages
from hippo.llm.replies import strip_reasoning
from hippo.model import Answer, Hit, Source
from hippo.text import normalize_name

__all__ = ["ANSWER_MAX_TOKENS", "NOT_FOUND", "UnusableReplyError", "llm_answer", "read_answer",
           "renumber_citations", "strip_citations"]

logger = logging.getLogger(__name__)

ANSWER_MAX_TOKENS = 48
NOT_FOUND = "Not found in the indexed documents."
_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SOURCE_CHARS = 300
_NOT_FOUND_REPLY = re.compile(r"^\W*(not found|unknown|none|n/?a|no answer|the passages do not)\b", re.IGNORECASE)
_LEAD = re.compile(r"^\s*(answer|final answer)\s*[:\-]\s*", re.IGNORECASE)


class UnusableReplyError(LLMError):
    """The model's reply holds no answer that can be read (empty, or cut off at the token limit)."""


def llm_answer(question: str, hits: Sequence[Hit], client: LLMClient, *, passages: int = 5) -> Answer:
    """The model's short, cited answer from the top ``passages`` hits (``Answer.mode`` is the client's mode).

    Raises :class:`~hippo.errors.LLMError` when the model or endpoint fails, and
    :class:`UnusableReplyError` when its reply cannot be read; the caller decides whether to
    answer extractively instead.
    """
    shown = list(hits[:passages])
    if not shown:
        return Answer(question, NOT_FOUND, client.mode, (), tuple(hits), found=False, model=client.config.model)
    notes: list[str] = []
    while True:
        try:
            reply = client.chat(ChatRequest(answer_messages(question, [h.text for h in shown]),
                                            max_tokens=ANSWER_MAX_TOKENS))
            break
        except ContextOverflowError as exc:
            if len(shown) == 1:
                raise
            keep = max(1, min(len(shown) - 1, int(len(shown) * exc.n_ctx * 0.9 / max(exc.prompt_tokens, 1))))
            notes.append(f"{len(shown) - keep} lowest-ranked passage(s) left out to fit the model's context "
                         f"({exc.prompt_tokens:,} prompt tokens for {exc.n_ctx:,})")
            shown = shown[:keep]
    text, cited, found = read_answer(strip_reasoning(reply.text), [h.text for h in shown], reply.truncated)
    sources = tuple(_source(shown[n - 1]) for n in cited)
    return Answer(question, text, client.mode, sources, tuple(hits), found=found, notes=tuple(notes),
                  model=client.config.model)


def read_answer(reply: str, passages: Sequence[str], truncated: bool = False) -> tuple[str, list[int], bool]:
    """(answer text with ``[n]`` citations, passage numbers cited in order, whether an answer was found).

    The model's own citations are kept (renumbered) when it wrote any; otherwise the passages
    whose text contains the answer are cited.

    >>> read_answer("Kettleby", ["Ada was born in Kettleby.", "Marren", "Kettleby is a village."])
    ('Kettleby [1][2]', [1, 3], True)
    >>> read_answer("Not found.", ["Ada"])
    ('Not found in the indexed documents.', [], False)
    """
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    first = _LEAD.sub("", lines[0]).strip() if lines else ""
    if not first or (truncated and len(first.split()) > 24):
        raise UnusableReplyError(f"the model's reply holds no readable answer: {reply[:80]!r}")
    if _NOT_FOUND_REPLY.match(first):
        return NOT_FOUND, [], False
    if _CITATION.search(first):
        text, cited = renumber_citations(first, len(passages))
        return text, cited, True
    answer = first.strip(" \"'`*").rstrip(".").strip()
    key = normalize_name(answer).strip()
    cited = [n for n, text in enumerate(passages, start=1) if key and f" {key} " in f" {normalize_name(text)} "]
    marks = "".join(f"[{i}]" for i in range(1, len(cited) + 1))
    return (f"{answer} {marks}" if marks else answer), cited, True


def strip_citations(text: str) -> str:
    """``text`` without its ``[n]`` citations.

    >>> strip_citations("Kettleby [1][2]")
    'Kettleby'
    """
    return " ".join(_CITATION.sub(" ", text).split())


def renumber_citations(text: str, shown: int) -> tuple[str, list[int]]:
    """``text`` with citations renumbered by first use, and the passage numbers cited, in that order.

    Citations of passages that were not shown are removed (and logged).

    >>> renumber_citations("Kettleby [3], by the lake [1][3]. Also [9].", 5)
    ('Kettleby [1], by the lake [2][1]. Also.', [3, 1])
    >>> renumber_citations("See [2, 4].", 5)
    ('See [1, 2].', [2, 4])
    """
    order: list[int] = []

    def replace(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
        valid = [n for n in numbers if 1 <= n <= shown]
        if len(valid) < len(numbers):
            logger.info("LLM answer cites passage(s) %s that were not shown; dropped",
                        sorted(set(numbers) - set(valid)))
        for n in valid:
            if n not in order:
                order.append(n)
        return f"[{', '.join(str(order.index(n) + 1) for n in valid)}]" if valid else "\x00"

    renumbered = re.sub(r"[ \t]*\x00", "", _CITATION.sub(replace, text))
    return renumbered.strip(), order


def _source(hit: Hit) -> Source:
    return Source(sentence=_excerpt(hit.text), passage_id=hit.passage_id, doc_id=hit.doc_id, title=hit.title,
                  source=hit.source, score=hit.score)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SOURCE_CHARS else flat[: _SOURCE_CHARS - 1] + "…"

"""Answers written by the LLM from the top passages, with numbered citations.

The model sees the passages numbered from 1 and cites them as ``[n]``. The answer keeps only
citations of passages it was shown, renumbered in order of first use so that ``[1]`` is
``Answer.sources[0]``, ``[2]`` is ``sources[1]``, and so on. No citation means no sources:
the answer is then the model's word alone (for instance, that the passages do not say).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from hippo.llm.client import ChatRequest, LLMClient
from hippo.llm.prompts import answer_messages
from hippo.llm.replies import strip_reasoning
from hippo.model import Answer, Hit, Source

__all__ = ["ANSWER_MAX_TOKENS", "llm_answer", "renumber_citations"]

logger = logging.getLogger(__name__)

ANSWER_MAX_TOKENS = 512
_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_SOURCE_CHARS = 300


def llm_answer(question: str, hits: Sequence[Hit], client: LLMClient, *, passages: int = 5) -> Answer:
    """The model's cited answer from the top ``passages`` hits (``Answer.mode == "llm"``).

    Raises :class:`~hippo.errors.LLMError` when the endpoint fails; the caller decides
    whether to answer extractively instead.
    """
    shown = list(hits[:passages])
    if not shown:
        return Answer(question, "", "llm", (), tuple(hits))
    reply = client.chat(ChatRequest(answer_messages(question, [h.text for h in shown]),
                                    max_tokens=ANSWER_MAX_TOKENS))
    text, cited = renumber_citations(strip_reasoning(reply.text), len(shown))
    sources = tuple(
        Source(sentence=_excerpt(shown[n - 1].text), passage_id=shown[n - 1].passage_id, doc_id=shown[n - 1].doc_id,
               title=shown[n - 1].title, source=shown[n - 1].source, score=shown[n - 1].score)
        for n in cited
    )
    return Answer(question, text, "llm", sources, tuple(hits))


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


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SOURCE_CHARS else flat[: _SOURCE_CHARS - 1] + "…"

"""Multiple-choice readers: the option best supported by the retrieved passages.

Used by the QuALITY benchmark to turn retrieval into accuracy. :func:`choose_option` needs no
LLM: each option is embedded together with its question (``"<question> <option>"``); its
support is the highest cosine between that text and any sentence of the retrieved passages
(title lines left out); the option with the highest support is chosen, ties going to the first.
:func:`choose_option_llm` asks the configured LLM instead (ComoRAG's multiple-choice reading).

The offline reader is weak on QuALITY, whose wrong options are written to echo the story's
words: it scores at chance even when it reads the whole story, and below chance when each
option is embedded alone (bench/results/quality-dev.json: ``reader_with_every_passage``,
``option_alone_with_every_passage``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from hippo.embed import Embedder
from hippo.errors import LLMError
from hippo.llm.client import ChatRequest, LLMClient
from hippo.llm.prompts import CHOICE_SCHEMA, choice_messages
from hippo.llm.replies import parse_json
from hippo.model import Hit
from hippo.text import split_sentences

__all__ = ["choose_option", "choose_option_llm", "split_options"]

_OPTION = re.compile(r"\n\s*\(([A-D])\)\s*")


def split_options(text: str) -> tuple[str, dict[str, str]]:
    """(question, {letter: option}) of a question written with ``(A)``-``(D)`` options on their own lines.

    >>> split_options("Who won?\\n\\n (A) Ann \\n (B) Bo")
    ('Who won?', {'A': 'Ann', 'B': 'Bo'})
    """
    parts = _OPTION.split("\n" + text.strip() if text.lstrip().startswith("(A)") else text)
    question = parts[0].strip()
    options = {letter: " ".join(body.split()) for letter, body in zip(parts[1::2], parts[2::2])}
    return question, options


def choose_option(question: str, options: dict[str, str], hits: Sequence[Hit], embedder: Embedder, *,
                  with_question: bool = True) -> tuple[str, dict[str, float]]:
    """The letter of the best-supported option, and every option's support (see the module docstring).

    ``with_question=False`` embeds each option alone (the benchmark's check of the reader).
    With no sentence to read, every support is 0 and the first option is chosen.
    """
    sentences = []
    for hit in hits:
        body = hit.text.split("\n", 1)[1] if hit.title and hit.text.startswith(hit.title + "\n") else hit.text
        sentences += [s for s in split_sentences(body) if len(s.split()) >= 3]
    letters = list(options)
    if not sentences or not letters:
        return (letters[0] if letters else ""), {letter: 0.0 for letter in letters}
    asked = [f"{question} {options[letter]}" if with_question else options[letter] for letter in letters]
    vectors = embedder.encode(asked + sentences)
    support = (vectors[: len(letters)] @ vectors[len(letters):].T).max(axis=1)
    best = int(np.argmax(support))
    return letters[best], {letter: round(float(s), 4) for letter, s in zip(letters, support)}


def choose_option_llm(question: str, options: dict[str, str], hits: Sequence[Hit], client: LLMClient) -> str:
    """The letter the LLM picks after reading ``hits`` (all of them, numbered from 1, in rank order).

    Raises :class:`~hippo.errors.LLMError` when the endpoint fails or the reply names no option,
    so that a benchmark never counts a failed call as a wrong (or right) answer.
    """
    request = ChatRequest(choice_messages(question, options, [hit.text for hit in hits]), schema=CHOICE_SCHEMA,
                          schema_name="choice", max_tokens=20, temperature=0.0)
    reply = client.chat(request)
    value = parse_json(reply.text)
    letter = str(value.get("choice", "") if isinstance(value, dict) else "").strip().strip("()[]").upper()
    if letter not in options:
        raise LLMError(f"the reply names no option of {sorted(options)}: {reply.text[:80]!r}")
    return letter

"""An offline multiple-choice reader: the option best supported by the retrieved passages.

Used by the QuALITY benchmark to turn retrieval into accuracy without an LLM. Each option is
embedded together with its question (``"<question> <option>"``); its support is the highest
cosine between that text and any sentence of the retrieved passages (title lines left out);
the option with the highest support is chosen, ties going to the first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from hippo.embed import Embedder
from hippo.model import Hit
from hippo.text import split_sentences

__all__ = ["choose_option", "split_options"]

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


def choose_option(question: str, options: dict[str, str], hits: Sequence[Hit], embedder: Embedder
                  ) -> tuple[str, dict[str, float]]:
    """The letter of the best-supported option, and every option's support (see the module docstring).

    With no sentence to read, every support is 0 and the first option is chosen.
    """
    sentences = []
    for hit in hits:
        body = hit.text.split("\n", 1)[1] if hit.title and hit.text.startswith(hit.title + "\n") else hit.text
        sentences += [s for s in split_sentences(body) if len(s.split()) >= 3]
    letters = list(options)
    if not sentences or not letters:
        return (letters[0] if letters else ""), {letter: 0.0 for letter in letters}
    vectors = embedder.encode([f"{question} {options[letter]}" for letter in letters] + sentences)
    support = (vectors[: len(letters)] @ vectors[len(letters):].T).max(axis=1)
    best = int(np.argmax(support))
    return letters[best], {letter: round(float(s), 4) for letter, s in zip(letters, support)}

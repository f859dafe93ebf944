"""Multi-hop questions read one hop at a time: the question split into one-fact questions, each answered in turn.

"In which village was the founder of the Marren Observatory born?" needs two facts, the second about
the answer of the first. A small reader shown both passages often answers the first hop ("Ada
Lindqvist") or a fact of the wrong entity; asked "Who founded the Marren Observatory?" and then "In
which village was Ada Lindqvist born?" it answers each well, and each question finds its own passages
(the second hop's article is often not among the top hits of the whole question, which names only the
first). This is the decomposition of self-ask (Press et al., 2023, "Measuring and Narrowing the
Compositionality Gap in Language Models") and of IRCoT's retrieval per step (Trivedi et al., 2023), with
the plan written once, QDMR-style, as numbered questions that name earlier answers as ``#1``, ``#2``.

This module only reads plans; :func:`hippo.llm.qa.llm_answer` asks the model.
"""

from __future__ import annotations

import re
from collections import Counter

from hippo.text import relation_chain

__all__ = ["MAX_HOPS", "fill", "of_plan", "parse_plan"]

MAX_HOPS = 4
"""Longer plans are not followed: a small model that splits a question into five parts has misread it."""
_STEP = re.compile(r"^\s*(\d+)\s*[.):]\s*(.+?)\s*$")
_REFERENCE = re.compile(r"#(\d+)")


def parse_plan(reply: str, question: str = "") -> list[str] | None:
    """The numbered questions of ``reply`` when they make a plan of two to :data:`MAX_HOPS` hops, else ``None``.

    A plan is numbered 1, 2, ... in order, each step a question, each later step naming an earlier
    answer and the last step naming one; one step (a question that asks one fact) is no plan, and
    neither is one whose step repeats ``question`` (the model copied it instead of splitting it, and
    its other steps then ask about the answer to the whole question).

    >>> parse_plan("1. Who wrote The Salt Road?\\n2. In which town was #1 born?")
    ['Who wrote The Salt Road?', 'In which town was #1 born?']
    >>> parse_plan("1. When did Corran Bridge open?") is None
    True
    >>> parse_plan("1. Who wrote The Salt Road?\\n2. Where was Ann Ives born?") is None  # no hop joins them
    True
    >>> parse_plan("1. Who owned the ship that sank?\\n2. Which firm did #1 found?",
    ...            "Who owned the ship that sank?") is None
    True
    >>> parse_plan("1. Who is the wife of the author of Salt Road?\\n2. Who is the author of #1?",
    ...            "Who is the wife of the author of novel Salt Road?") is None
    True
    >>> parse_plan("1. Who is the author of novel Salt Road?\\n2. Who is the wife of #1?",
    ...            "Who is the wife of the author of novel Salt Road?")
    ['Who is the author of novel Salt Road?', 'Who is the wife of #1?']
    """
    steps = []
    for line in reply.splitlines():
        if not line.strip():
            continue
        match = _STEP.match(line)
        if match is None or int(match.group(1)) != len(steps) + 1:
            return None
        steps.append(match.group(2))
    if not 2 <= len(steps) <= MAX_HOPS or not all(step.endswith("?") for step in steps):
        return None
    for n, step in enumerate(steps[1:], start=2):
        named = [int(r) for r in _REFERENCE.findall(step)]
        if not named or any(not 1 <= r < n for r in named):
            return None
    if _REFERENCE.search(steps[0]) or any(_restates(step, question) for step in steps):
        return None
    return steps


def _restates(step: str, question: str) -> bool:
    """Whether ``step`` holds every word of ``question`` but at most one (the question copied, a word dropped).

    A real first step drops the outer relation with its glue ("mother of the"), two words at least.
    """
    missing = Counter(re.findall(r"\w+", question.lower())) - Counter(re.findall(r"\w+", step.lower()))
    return bool(question) and sum(missing.values()) <= 1


def of_plan(question: str) -> list[str] | None:
    """A plan read from the question's own words, for when the model wrote none: each "the <relation> of
    <name>" is a hop of its own, innermost (rightmost) first, replaced by its answer in what is left.

    The model splits most questions of this shape; this catches those it leaves whole or garbles. It
    stops when what is left would ask nothing but the answer itself ("Who is #1?").

    >>> of_plan("Which ship did the father of the founder of Salt Fair captain?")
    ['Who or what is the founder of Salt Fair?', 'Who or what is the father of #1?', 'Which ship did #2 captain?']
    >>> of_plan("Who is the mother of the director of film Blood Street?")
    ['Who or what is the director of film Blood Street?', 'Who is the mother of #1?']
    >>> of_plan("Who wrote The Salt Road?") is None
    True
    """
    steps: list[str] = []
    rest = question
    for relation, name, left in relation_chain(question)[:MAX_HOPS - 1]:
        if len(re.findall(r"(?<!#)\b[^\W\d]\w*", left)) < 3:
            break
        steps.append(f"Who or what is the {relation} of {name}?")
        rest = left
    return [*steps, rest] if steps else None


def fill(step: str, answers: list[str]) -> str:
    """``step`` with each ``#n`` replaced by the answer to question ``n``.

    >>> fill("In which town was #1 born?", ["Ada Lindqvist"])
    'In which town was Ada Lindqvist born?'
    """
    return _REFERENCE.sub(lambda m: answers[int(m.group(1)) - 1], step)

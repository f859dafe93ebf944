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

__all__ = ["MAX_HOPS", "fill", "parse_plan"]

MAX_HOPS = 4
"""Longer plans are not followed: a small model that splits a question into five parts has misread it."""
_STEP = re.compile(r"^\s*(\d+)\s*[.):]\s*(.+?)\s*$")
_REFERENCE = re.compile(r"#(\d+)")


def parse_plan(reply: str) -> list[str] | None:
    """The numbered questions of ``reply`` when they make a plan of two to :data:`MAX_HOPS` hops, else ``None``.

    A plan is numbered 1, 2, ... in order, each step a question, each later step naming an earlier
    answer and the last step naming one; one step (a question that asks one fact) is no plan.

    >>> parse_plan("1. Who wrote The Salt Road?\\n2. In which town was #1 born?")
    ['Who wrote The Salt Road?', 'In which town was #1 born?']
    >>> parse_plan("1. When did Corran Bridge open?") is None
    True
    >>> parse_plan("1. Who wrote The Salt Road?\\n2. Where was Ann Ives born?") is None  # no hop joins them
    True
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
    if _REFERENCE.search(steps[0]):
        return None
    return steps


def fill(step: str, answers: list[str]) -> str:
    """``step`` with each ``#n`` replaced by the answer to question ``n``.

    >>> fill("In which town was #1 born?", ["Ada Lindqvist"])
    'In which town was Ada Lindqvist born?'
    """
    return _REFERENCE.sub(lambda m: answers[int(m.group(1)) - 1], step)

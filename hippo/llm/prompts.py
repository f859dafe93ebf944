"""Every prompt hippo sends to an LLM, in one place, each with a short one-shot example.

The prompts follow the tasks of HippoRAG 2 (named entities, then facts conditioned on
them; a recognition-memory fact filter; reading-comprehension answers) but are written
for hippo: the examples are invented (a watermill on a Scottish-sounding burn), replies are
JSON objects with a fixed key so that JSON mode and response schemas apply, and answers
cite numbered passages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ANSWER_SYSTEM",
    "FILTER_SCHEMA",
    "FILTER_SYSTEM",
    "NER_SCHEMA",
    "NER_SYSTEM",
    "TRIPLES_SCHEMA",
    "TRIPLES_SYSTEM",
    "answer_messages",
    "filter_messages",
    "ner_messages",
    "triple_messages",
]

Messages = tuple[dict[str, str], ...]


def _strings_object(key: str, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {key: {"type": "array", "items": item}}, "required": [key],
            "additionalProperties": False}


_TRIPLE_ITEM = {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 3}
NER_SCHEMA = _strings_object("named_entities", {"type": "string"})
TRIPLES_SCHEMA = _strings_object("triples", _TRIPLE_ITEM)
FILTER_SCHEMA = _strings_object("fact", _TRIPLE_ITEM)

_EXAMPLE_PASSAGE = (
    "Halvard Mill\n"
    "Halvard Mill is a watermill on the Corran Burn near Dunmoor. It was built in 1794 by the millwright "
    "Isobel Kerr for the Dunmoor Estate. The mill ground oats until 1921; the Dunmoor Heritage Trust now "
    "runs it as a museum."
)
_EXAMPLE_ENTITIES = ["Halvard Mill", "Corran Burn", "Dunmoor", "1794", "Isobel Kerr", "Dunmoor Estate", "1921",
                     "Dunmoor Heritage Trust"]
_EXAMPLE_TRIPLES = [
    ["Halvard Mill", "is a watermill on", "Corran Burn"],
    ["Halvard Mill", "is near", "Dunmoor"],
    ["Halvard Mill", "was built in", "1794"],
    ["Isobel Kerr", "built", "Halvard Mill"],
    ["Isobel Kerr", "was a", "millwright"],
    ["Halvard Mill", "was built for", "Dunmoor Estate"],
    ["Halvard Mill", "ground oats until", "1921"],
    ["Dunmoor Heritage Trust", "runs", "Halvard Mill"],
    ["Halvard Mill", "is now", "museum"],
]

NER_SYSTEM = (
    "You list the named entities of a passage for a knowledge graph: people, organisations, places, "
    "buildings, works, events, and dates or quantities the passage states. Copy each name as it is written, "
    "give each one once, and add nothing the passage does not name. Reply with a JSON object "
    '{"named_entities": [...]} and nothing else.'
)

TRIPLES_SYSTEM = (
    "You turn a passage into facts for a knowledge graph. A fact is a triple [subject, predicate, object]: "
    "the subject and the object are short noun phrases, at least one of them and preferably both taken from "
    "the entity list you are given; the predicate is a short verb phrase. Write names in full where the "
    "passage uses a pronoun. State only what the passage says, one fact per triple. Reply with a JSON object "
    '{"triples": [[subject, predicate, object], ...]} and nothing else.'
)

FILTER_SYSTEM = (
    "You help a retrieval system keep the facts that matter for a question. You get the question and up to "
    "five candidate facts, each [subject, predicate, object]. Return the candidates that help answer the "
    "question, at most four, the most useful first, copied exactly as given. Never change a fact or add one "
    'that is not a candidate. If none helps, return an empty list. Reply with a JSON object {"fact": [...]} '
    "and nothing else."
)

ANSWER_SYSTEM = (
    "You answer a question from numbered passages. Use only what the passages say. After each statement, "
    "cite the passages that support it by number in square brackets, like [2]. Keep the answer short: the "
    "answer itself, then at most two sentences of support. If the passages do not contain the answer, "
    "say so and cite nothing."
)


def ner_messages(passage: str) -> Messages:
    """Messages asking for the named entities of ``passage``."""
    return (
        {"role": "system", "content": NER_SYSTEM},
        {"role": "user", "content": _EXAMPLE_PASSAGE},
        {"role": "assistant", "content": json.dumps({"named_entities": _EXAMPLE_ENTITIES})},
        {"role": "user", "content": passage},
    )


def triple_messages(passage: str, entities: Sequence[str]) -> Messages:
    """Messages asking for the facts of ``passage`` that involve ``entities``."""
    return (
        {"role": "system", "content": TRIPLES_SYSTEM},
        {"role": "user", "content": _triple_user(_EXAMPLE_PASSAGE, _EXAMPLE_ENTITIES)},
        {"role": "assistant", "content": json.dumps({"triples": _EXAMPLE_TRIPLES})},
        {"role": "user", "content": _triple_user(passage, entities)},
    )


def _triple_user(passage: str, entities: Sequence[str]) -> str:
    return f"Passage:\n```\n{passage}\n```\nEntities: {json.dumps(list(entities), ensure_ascii=False)}"


_FILTER_QUESTION = "Which stream powers the mill that Isobel Kerr built?"
_FILTER_CANDIDATES = [_EXAMPLE_TRIPLES[i] for i in (3, 0, 7, 4, 6)]


def filter_messages(question: str, candidates: Sequence[Sequence[str]]) -> Messages:
    """Messages asking which of ``candidates`` (``[s, p, o]`` lists) help answer ``question``."""
    return (
        {"role": "system", "content": FILTER_SYSTEM},
        {"role": "user", "content": _filter_user(_FILTER_QUESTION, _FILTER_CANDIDATES)},
        {"role": "assistant", "content": json.dumps({"fact": _FILTER_CANDIDATES[:2]})},
        {"role": "user", "content": _filter_user(question, candidates)},
    )


def _filter_user(question: str, candidates: Sequence[Sequence[str]]) -> str:
    facts = json.dumps({"fact": [list(c) for c in candidates]}, ensure_ascii=False)
    return f"Question: {question}\nCandidate facts: {facts}"


_ANSWER_EXAMPLE = (
    "[1] " + _EXAMPLE_PASSAGE + "\n\n"
    "[2] Corran Burn\nThe Corran Burn rises on Ben Sgor and flows east into Loch Arrin.\n\n"
    "Question: Into which loch does the stream that powers Halvard Mill flow?"
)
_ANSWER_EXAMPLE_REPLY = "Loch Arrin. Halvard Mill stands on the Corran Burn [1], which flows into Loch Arrin [2]."


def answer_messages(question: str, passages: Sequence[str]) -> Messages:
    """Messages asking for a cited answer to ``question`` from ``passages`` (numbered from 1)."""
    numbered = "\n\n".join(f"[{n}] {text}" for n, text in enumerate(passages, start=1))
    return (
        {"role": "system", "content": ANSWER_SYSTEM},
        {"role": "user", "content": _ANSWER_EXAMPLE},
        {"role": "assistant", "content": _ANSWER_EXAMPLE_REPLY},
        {"role": "user", "content": f"{numbered}\n\nQuestion: {question}"},
    )

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
    "ANSWER_ALONE_SYSTEM",
    "ANSWER_SYSTEM",
    "CHOICE_SCHEMA",
    "CHOICE_SYSTEM",
    "choice_messages",
    "CLOSED_BOOK_SYSTEM",
    "DATE_QUESTION_SYSTEM",
    "date_question_messages",
    "HOPS_SYSTEM",
    "hops_messages",
    "closed_book_messages",
    "CUE_SYSTEM",
    "PROBE_SCHEMA",
    "PROBE_SYSTEM",
    "SUFFICIENCY_SCHEMA",
    "SUFFICIENCY_SYSTEM",
    "cue_messages",
    "layer_summary_messages",
    "probe_messages",
    "sufficiency_messages",
    "FILTER_SCHEMA",
    "FILTER_SYSTEM",
    "NER_SCHEMA",
    "NER_SYSTEM",
    "TRIPLES_SCHEMA",
    "TRIPLES_SYSTEM",
    "answer_example_text",
    "answer_messages",
    "filter_messages",
    "keyword_messages",
    "summary_messages",
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
FILTER_SCHEMA["properties"]["fact"]["maxItems"] = 4
"""At most four facts, as the prompt asks: a small model otherwise copies every candidate (the 1.5B model
copied 9-13 of 15 on 2WikiMultihopQA, about 200 tokens and a minute per question on one core)."""

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
    "You help a retrieval system keep the facts that matter for a question. You get the question and a "
    "list of candidate facts, each [subject, predicate, object]. Return the candidates that help answer the "
    "question, at most four, the most useful first, copied exactly as given. Never change a fact or add one "
    'that is not a candidate. If none helps, return an empty list. Reply with a JSON object {"fact": [...]} '
    "and nothing else."
)

ANSWER_SYSTEM = (
    "You answer a question from numbered passages. The answer may need facts from two or more passages "
    "joined together. After \"Thought:\" write one short sentence per step, each quoting a fact from a "
    "passage: first find who or what the question is about, then look up the fact asked. Then write "
    "\"Answer:\" and only the answer: a name, place, date or number, a few words, or yes or no when the "
    "question asks yes or no. If the passages do not contain the answer, write: Answer: not found."
)
ANSWER_ALONE_SYSTEM = (
    "You answer a question from numbered passages. The answer may need facts from two or more passages "
    "joined together: first find who or what the question is about, then look up the fact asked. "
    "Reply with only the answer: a name, place, date or number, a few words, or yes or no when the question "
    "asks yes or no. If the passages do not contain the answer, reply: not found."
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
_ANSWER_EXAMPLE_REPLY = (
    "Thought: Halvard Mill is a watermill on the Corran Burn [1]. The Corran Burn flows east into Loch Arrin [2].\n"
    "Answer: Loch Arrin"
)

_ANSWER_ALONE_REPLY = "Loch Arrin"


def answer_example_text() -> str:
    """The text of the answer prompt's one-shot example, to recognise a reply that copied it."""
    return _ANSWER_EXAMPLE + "\n" + _ANSWER_EXAMPLE_REPLY


def answer_messages(question: str, passages: Sequence[str], *, thought: bool = True) -> Messages:
    """Messages asking for the short answer to ``question`` from ``passages`` (numbered from 1).

    With ``thought`` the model reasons after "Thought:" and answers after "Answer:", as HippoRAG 2's
    reader does, its thought citing a passage number per hop; without, it replies with the answer
    alone (what the small local models do better, see :func:`hippo.llm.qa.answers_with_thought`). The
    one-shot example is two-hop (mill -> stream -> loch), like the questions hippo is for.
    """
    numbered = "\n\n".join(f"[{n}] {text}" for n, text in enumerate(passages, start=1))
    return (
        {"role": "system", "content": ANSWER_SYSTEM if thought else ANSWER_ALONE_SYSTEM},
        {"role": "user", "content": _ANSWER_EXAMPLE},
        {"role": "assistant", "content": _ANSWER_EXAMPLE_REPLY if thought else _ANSWER_ALONE_REPLY},
        {"role": "user", "content": f"{numbered}\n\nQuestion: {question}"},
    )


DATE_QUESTION_SYSTEM = (
    "You rewrite a question that compares two things by a date into the question that asks that date for one "
    "of them. Keep every step of the question (the director of a film, the founder of a company); who is "
    "older or younger is decided by when they were born. Reply with the question alone."
)
_DATE_EXAMPLES = (
    ("Which mill's builder died first, Halvard Mill or Dunmoor Kirk?", "Dunmoor Kirk",
     "When did the builder of Dunmoor Kirk die?"),
    ("Who is younger, Isobel Kerr or Tom Kerr?", "Isobel Kerr", "When was Isobel Kerr born?"),
    ("Which opened later, Dunmoor Station or Corran Bridge?", "Corran Bridge", "When did Corran Bridge open?"),
)


def date_question_messages(question: str, candidate: str) -> Messages:
    """Messages asking for ``question``, a comparison by date, rewritten as the date of ``candidate`` alone."""
    shots = [m for q, c, r in _DATE_EXAMPLES for m in ({"role": "user", "content": _date_user(q, c)},
                                                       {"role": "assistant", "content": r})]
    return ({"role": "system", "content": DATE_QUESTION_SYSTEM}, *shots,
            {"role": "user", "content": _date_user(question, candidate)})


def _date_user(question: str, candidate: str) -> str:
    return f"Question: {question}\nAsk about: {candidate}"


HOPS_SYSTEM = (
    "You split a question into the simple questions that answer it, each asking one fact, in the order they "
    "must be answered. A later question names the answer of an earlier one as #1, #2, ... A question that "
    "asks one fact about a named thing, or asks yes or no, is one step: repeat it. Reply with the numbered "
    "questions only."
)
_HOPS_EXAMPLES = (
    ("Which river flows past the town where the author of The Salt Road was born?",
     "1. Who wrote The Salt Road?\n2. In which town was #1 born?\n3. Which river flows past #2?"),
    ("When did Tam Ives's mother die?", "1. Who is the mother of Tam Ives?\n2. When did #1 die?"),
    ("When did Corran Bridge open?", "1. When did Corran Bridge open?"),
    ("Which company made the engine with which the Skerry Flyer set its record?",
     "1. With which engine did the Skerry Flyer set its record?\n2. Which company made #1?"),
    ("Who is the father-in-law of Tam Ives?", "1. Who is the spouse of Tam Ives?\n2. Who is the father of #1?"),
    ("Where did the wife of the architect of Dunmoor Kirk die?",
     "1. Who was the architect of Dunmoor Kirk?\n2. Who was the wife of #1?\n3. Where did #2 die?"),
    ("In which year was the mill built by Isobel Kerr restored?",
     "1. Which mill did Isobel Kerr build?\n2. In which year was #1 restored?"),
    ("Which river flows through the town whose harbour Ann Ives designed?",
     "1. The harbour of which town did Ann Ives design?\n2. Which river flows through #1?"),
    ("Are Halvard Mill and Loch Arrin in the same country?", "1. Are Halvard Mill and Loch Arrin in the same country?"),
)
"""Invented, as every example hippo's prompts hold: a question of the benchmarks in an example is a leak."""


def hops_messages(question: str) -> Messages:
    """Messages asking for ``question`` split into one-fact questions, later ones naming earlier answers as #n."""
    shots = [m for q, r in _HOPS_EXAMPLES for m in ({"role": "user", "content": f"Question: {q}"},
                                                    {"role": "assistant", "content": r})]
    return ({"role": "system", "content": HOPS_SYSTEM}, *shots, {"role": "user", "content": f"Question: {question}"})


CLOSED_BOOK_SYSTEM = (
    "You answer a question from what you know. Reply with only the answer: a name, place, date or number, "
    "a few words, or yes or no when the question asks yes or no."
)


def closed_book_messages(question: str) -> Messages:
    """Messages asking for the short answer to ``question`` with no passages (the QA benchmark's floor)."""
    return ({"role": "system", "content": CLOSED_BOOK_SYSTEM}, {"role": "user", "content": f"Question: {question}"})


CHOICE_SYSTEM = (
    "You answer a multiple-choice question about a story from numbered passages of it. Weigh every option "
    "against what the passages say; pick an option only if the passages support it, preferring the one with the "
    'most support. Reply with JSON: {"choice": "<letter>"} and nothing else.'
)
CHOICE_SCHEMA = {
    "type": "object",
    "properties": {"choice": {"type": "string", "enum": ["A", "B", "C", "D"]}},
    "required": ["choice"],
}
_CHOICE_EXAMPLE = _ANSWER_EXAMPLE + "\n(A) Loch Sgor\n(B) Loch Arrin\n(C) The Halvard pond\n(D) The sea"


def choice_messages(question: str, options: dict[str, str], passages: Sequence[str]) -> Messages:
    """Messages asking which of ``options`` (letter to text) the ``passages`` (numbered from 1) support.

    ComoRAG's multiple-choice prompt has no "not enough information" answer either: the
    reader must commit to a letter, as a QuALITY accuracy needs.
    """
    numbered = "\n\n".join(f"[{n}] {text}" for n, text in enumerate(passages, start=1))
    listed = "\n".join(f"({letter}) {text}" for letter, text in options.items())
    return (
        {"role": "system", "content": CHOICE_SYSTEM},
        {"role": "user", "content": _CHOICE_EXAMPLE},
        {"role": "assistant", "content": json.dumps({"choice": "B"})},
        {"role": "user", "content": f"{numbered}\n\nQuestion: {question}\n{listed}"},
    )


# --- memory units (MemGAS's summary and keyword granularities) ---------------------------------
def _memory_kind(dialogue: bool) -> str:
    return "dialogue session" if dialogue else "document"


def summary_messages(text: str, *, dialogue: bool) -> Messages:
    """Messages asking for a short summary of a session or document (MemGAS's summary unit)."""
    kind = _memory_kind(dialogue)
    return (
        {"role": "system", "content": f"You summarize a {kind} from a long-term memory as concisely as possible "
                                      "in one short paragraph, keeping its main themes and key information: "
                                      "who did what, names, places, dates and numbers. Reply with the summary only."},
        {"role": "user", "content": text},
    )


def keyword_messages(text: str, *, dialogue: bool) -> Messages:
    """Messages asking for the key phrases of a session or document, separated by semicolons."""
    kind = _memory_kind(dialogue)
    return (
        {"role": "system", "content": f"You extract the most relevant keywords and key phrases of a {kind} from a "
                                      "long-term memory. Reply with at most 10, separated by semicolons, and "
                                      "nothing else."},
        {"role": "user", "content": text},
    )


# --- ComoRAG: layer summaries, cues, the sufficiency decision and probes -----------------------
LAYER_SUMMARY_SYSTEMS = {
    "semantic": "You summarize a group of related passages for a retrieval index. In one paragraph of at most 80 "
                "words, name the people, places, works, events and dates the passages share and say what connects "
                "them. Keep names as written. Reply with the summary only.",
    "episodic": "You summarize consecutive passages of a story or document for its timeline. In one paragraph of at "
                "most 120 words, keep the order of events, the turning points, who took part, and causes and "
                "effects. Keep names as written. Reply with the summary only.",
}

CUE_SYSTEM = (
    "You read the evidence a retrieval system found for a question and note what in it bears on the question. "
    "You get the question, the search that found the evidence when it was not the question itself, and the "
    "evidence in up to three parts: detail passages, topic summaries and timeline summaries. Write at most five "
    "findings, one per line starting with '- ', each a fact the evidence states, with the names it involves. "
    "Write '- none' when nothing bears on the question. Use only the evidence."
)

SUFFICIENCY_SYSTEM = (
    "You decide whether the findings gathered so far are enough to answer a question. Judge only from the "
    "findings, never from what you know otherwise. Reply with a JSON object and nothing else: "
    '{"sufficient": true, "answer": "<short answer>", "missing": ""} when they answer it, or '
    '{"sufficient": false, "answer": "", "missing": "<what is still unknown, in a few words>"} when they do not.'
)
SUFFICIENCY_SCHEMA = {
    "type": "object",
    "properties": {"sufficient": {"type": "boolean"}, "answer": {"type": "string"}, "missing": {"type": "string"}},
    "required": ["sufficient", "answer", "missing"], "additionalProperties": False,
}

PROBE_SYSTEM = (
    "You plan the next searches of a retrieval system that has not yet found enough to answer a question. You "
    "get the question, the findings so far, what is still missing, and the searches already made. Write up to "
    "three new search queries of at most 12 words that would find the missing evidence: first the people, "
    "objects, places or events the findings mention but no search has looked up, then the relations between "
    "them. Each must differ from the earlier searches and from the others. Reply with a JSON object "
    '{"probes": [...]} and nothing else; an empty list when no search is worth making.'
)
PROBE_SCHEMA = _strings_object("probes", {"type": "string"})

_PROBE_QUESTION = "Into which loch does the stream that powers the mill built by Isobel Kerr flow?"
_PROBE_FINDINGS = ("- Isobel Kerr, a millwright, built Halvard Mill in 1794.\n"
                   "- Halvard Mill is a watermill on the Corran Burn.")
_PROBE_MISSING = "where the Corran Burn flows"
_PROBE_REPLY = {"probes": ["Corran Burn flows into loch", "Corran Burn course and mouth"]}


def layer_summary_messages(text: str, *, kind: str) -> Messages:
    """Messages asking for the summary of a semantic cluster or an episodic window (``kind``) of passages."""
    return ({"role": "system", "content": LAYER_SUMMARY_SYSTEMS[kind]}, {"role": "user", "content": text})


def cue_messages(question: str, probe: str | None, sections: dict[str, Sequence[str]]) -> Messages:
    """Messages asking for the findings of retrieved evidence; ``sections`` maps a heading to its texts."""
    parts = [f"Question: {question}"]
    if probe and probe != question:
        parts.append(f"Search: {probe}")
    for heading, texts in sections.items():
        if texts:
            parts.append(f"### {heading}\n" + "\n\n".join(" ".join(t.split()) for t in texts))
    return ({"role": "system", "content": CUE_SYSTEM}, {"role": "user", "content": "\n\n".join(parts)})


def sufficiency_messages(question: str, findings: Sequence[str]) -> Messages:
    """Messages asking whether ``findings`` (cue texts of earlier rounds) answer ``question``."""
    numbered = "\n".join(f"[{n}] {f}" for n, f in enumerate(findings, start=1)) or "(none yet)"
    return (
        {"role": "system", "content": SUFFICIENCY_SYSTEM},
        {"role": "user", "content": f"Question: {_PROBE_QUESTION}\nFindings:\n[1] {_PROBE_FINDINGS}"},
        {"role": "assistant", "content": json.dumps({"sufficient": False, "answer": "", "missing": _PROBE_MISSING})},
        {"role": "user", "content": f"Question: {question}\nFindings:\n{numbered}"},
    )


def probe_messages(question: str, findings: Sequence[str], missing: str, previous: Sequence[str]) -> Messages:
    """Messages asking for up to three new probing queries."""
    return (
        {"role": "system", "content": PROBE_SYSTEM},
        {"role": "user", "content": _probe_user(_PROBE_QUESTION, [_PROBE_FINDINGS], _PROBE_MISSING,
                                                [_PROBE_QUESTION])},
        {"role": "assistant", "content": json.dumps(_PROBE_REPLY)},
        {"role": "user", "content": _probe_user(question, findings, missing, previous)},
    )


def _probe_user(question: str, findings: Sequence[str], missing: str, previous: Sequence[str]) -> str:
    listed = "\n".join(findings) or "(none)"
    searches = json.dumps(list(previous), ensure_ascii=False)
    return f"Question: {question}\nFindings:\n{listed}\nMissing: {missing or 'unknown'}\nSearches made: {searches}"

"""JSON read out of model replies: what is repaired, and what is refused with a reason."""

from __future__ import annotations

import pytest

from hippo.errors import LLMError
from hippo.llm.replies import parse_json, repair_truncated, strip_reasoning


@pytest.mark.parametrize("text", [
    '{"named_entities": ["Ada", "Kettleby"]}',
    '```json\n{"named_entities": ["Ada", "Kettleby"]}\n```',
    '```\n{"named_entities": ["Ada", "Kettleby"]}```',
    '<think>The passage is about Ada.\nShe was born in Kettleby.</think>\n{"named_entities": ["Ada", "Kettleby"]}',
    'Here are the entities:\n{"named_entities": ["Ada", "Kettleby"]}\nLet me know if you need more.',
    '<think>json? {"draft": 1}</think>```json\n{"named_entities": ["Ada", "Kettleby"]}\n```',
])
def test_wrapped_json_is_found(text):
    assert parse_json(text) == {"named_entities": ["Ada", "Kettleby"]}


def test_truncated_list_keeps_complete_elements_only():
    cut = '{"triples": [["Ada", "born in", "Kettleby"], ["Ada", "studied at", "University of Col'
    assert parse_json(cut, truncated=True) == {"triples": [["Ada", "born in", "Kettleby"]]}
    assert parse_json('{"named_entities": ["Ada", "Kettl', truncated=True) == {"named_entities": ["Ada"]}
    assert parse_json('{"named_entities": ["Ada", "Kettleby"', truncated=False) == {
        "named_entities": ["Ada", "Kettleby"]}  # ends open: repaired even without the flag


def test_nothing_complete_is_not_invented():
    assert repair_truncated('{"named_entities": ["Ad') is None
    with pytest.raises(LLMError, match="not valid JSON"):
        parse_json('{"named_entities": ["Ad', truncated=True)


@pytest.mark.parametrize("text, words", [
    ("I could not find any entities in this passage.", "holds no JSON"),
    ("<think>thinking until the token budget ran out", "holds no JSON"),
    ('{"a": [1,, 2]}', "not valid JSON"),
    ("", "holds no JSON"),
])
def test_unusable_replies_raise_with_the_reason(text, words):
    with pytest.raises(LLMError, match=words):
        parse_json(text)


def test_empty_list_is_a_valid_answer():
    assert parse_json('{"named_entities": []}') == {"named_entities": []}
    assert parse_json("[]") == []


def test_strip_reasoning_variants():
    assert strip_reasoning("<THINKING>x</THINKING> answer [1]") == "answer [1]"
    assert strip_reasoning("no reasoning") == "no reasoning"

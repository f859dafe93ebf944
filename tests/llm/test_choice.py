"""The LLM multiple-choice reader of the QuALITY benchmark, against the scripted local endpoint."""

from __future__ import annotations

import pytest

from hippo.errors import LLMError
from hippo.eval.reader import choose_option_llm
from hippo.llm.prompts import CHOICE_SYSTEM
from hippo.model import Hit
from tests.llm.server import ChatServer, reply

OPTIONS = {"A": "Loch Sgor", "B": "Loch Arrin", "C": "The mill pond", "D": "The sea"}
HITS = [Hit("p1", "d1", "The Corran Burn flows east into Loch Arrin.", 0.9, "dense", "Corran Burn"),
        Hit("p2", "d1", "Halvard Mill stands on the Corran Burn.", 0.8, "dense", "Halvard Mill")]


def test_the_reader_sends_every_passage_and_option_and_reads_the_letter(server: ChatServer, make_client) -> None:
    server.enqueue(reply({"choice": "B"}))
    letter = choose_option_llm("Where does the burn flow?", OPTIONS, HITS, make_client(cache=False))
    assert letter == "B"
    [request] = server.requests
    messages = request.body["messages"]
    assert messages[0]["content"] == CHOICE_SYSTEM
    asked = messages[-1]["content"]
    assert "[1] The Corran Burn flows east into Loch Arrin." in asked
    assert "[2] Halvard Mill stands on the Corran Burn." in asked
    assert "(B) Loch Arrin\n(C) The mill pond" in asked
    assert request.body["temperature"] == 0.0


def test_a_letter_in_brackets_or_lower_case_is_read(server: ChatServer, make_client) -> None:
    server.enqueue(reply('{"choice": "(c)"}'))
    assert choose_option_llm("Where?", OPTIONS, HITS, make_client(cache=False)) == "C"


def test_a_reply_naming_no_option_is_an_error_not_an_answer(server: ChatServer, make_client) -> None:
    server.enqueue(reply({"choice": "E"}))
    with pytest.raises(LLMError, match="names no option"):
        choose_option_llm("Where?", OPTIONS, HITS, make_client(cache=False))

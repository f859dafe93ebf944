"""``memgas``: turns with their sessions, the session ranking, and unit search."""

import pytest

from hippo.errors import ConfigError
from hippo.retrieval import get_method
from hippo.retrieval.memgas import retrieve_memgas


def test_memgas_is_registered():
    assert get_method("memgas") is retrieve_memgas


def test_memgas_returns_turns_with_their_sessions(kg_chat):
    hits = kg_chat.retrieve("How heavy was the pumpkin at the fair?", k=5, method="memgas")
    assert hits and all(h.method == "memgas" and h.key for h in hits)
    top = hits[0]
    assert top.time == "2024-09-29T20:30" and "session s4" in top.title
    # The answer turn and the reply after it: a turn's unit reads the utterance it answers, so the reply's
    # unit holds the answer too, and e5 (the default's passage model) ranks it first; MiniLM the answer.
    assert "s4:1" in [h.key for h in hits[:2]] and {h.key for h in hits[:2]} <= {"s4:1", "s4:2"}
    assert top.why.units and all(u.split(":", 1)[0] in {"document", "passage", "summary", "keywords"}
                                 for u in top.why.units)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_sessions_ranks_the_session_that_answers(kg_chat):
    ranked = kg_chat.sessions("What is the name of the beagle puppy Tomas adopted?", k=2)
    assert len(ranked) == 2 and ranked[0][0].metadata["session"] == "s2"
    assert ranked[0][1] >= ranked[1][1] > 0


def test_unit_search_by_granularity(kg_chat):
    found = kg_chat.units("sourdough bread", k=3, granularity="passage")
    assert len(found) == 3 and all(u.granularity == "passage" for u, _ in found)
    assert "sourdough" in found[0][0].text
    assert {u.granularity for u, _ in kg_chat.units("pumpkin", k=40)} == {"document", "passage", "summary",
                                                                            "keywords"}
    with pytest.raises(ConfigError, match="unknown granularity 'turn'"):
        kg_chat.units("pumpkin", granularity="turn")

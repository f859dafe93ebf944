"""``hippo check`` on a Neo4j store, the parts that need no server: how each page of nodes is judged, and
that every statement sent is fixed text given exactly the parameters it names.

The same check against a real server (a sound store passes; damage made with Cypher is found) is in
``test_contract.py``, which runs when ``HIPPO_NEO4J_URI`` is set.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from hippo.config import Settings
from hippo.stores import neo4j_cypher as cypher
from hippo.stores.check import EXAMPLES, StoreCheck
from hippo.stores.neo4j import Neo4jStore
from hippo.stores.neo4j_check import Tally, VectorAudit, check_neo4j, judge_page
from tests.stores.test_neo4j_offline import RecordingConnection


def _unit(dim: int, seed: int) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=dim)
    return (vector / np.linalg.norm(vector)).tolist()


def test_vectors_out_of_range_shared_missing_or_not_finite_are_counted():
    tally = Tally()
    audit = VectorAudit("entity", rows=4, dim=3)
    ids = ["e-ok", "e-past", "e-none", "e-shared-a", "e-shared-b", "e-zero", "e-nan", "e-short", "e-missing"]
    rows = [0, 4, None, 1, 1, 2, 3, 0, 0]
    vectors = [_unit(3, 1), _unit(3, 2), _unit(3, 3), _unit(3, 4), _unit(3, 5), [0.0, 0.0, 0.0],
               [float("nan"), 1.0, 0.0], [1.0, 0.0], None]
    audit.page(ids[:5], rows[:5], vectors[:5], tally)  # two pages, as the check reads them
    audit.page(ids[5:], rows[5:], vectors[5:], tally)
    audit.finish(tally)
    found = {p.kind: p for p in tally.problems()}
    assert found["vector row out of range"].count == 2
    assert found["vector row out of range"].examples == ("e-past", "e-none")
    assert found["vector missing or not finite"].examples == ("e-zero", "e-nan", "e-short", "e-missing")
    shared = found["vector row shared"]  # row 0 (e-ok, e-short, e-missing) and row 1 (e-shared-a, -b)
    assert (shared.count, shared.examples) == (2, ("entity row 0", "entity row 1"))
    assert "entity" in shared.detail


def test_a_sound_page_adds_nothing():
    tally = Tally()
    audit = VectorAudit("passage", rows=2, dim=3)
    judge_page("passage", [["p-1", 0, _unit(3, 1), True], ["p-2", 1, _unit(3, 2), True]], tally, audit)
    judge_page("document", [["d-1", True]], tally, None)
    judge_page("entity", [["e-1", 0, _unit(3, 3), True, [["e-2", 2, 2]]]], tally, VectorAudit("entity", 1, 3))
    audit.finish(tally)
    assert tally.problems() == ()


def test_orphans_relates_weights_and_unmentioned_sources_are_named():
    tally = Tally()
    judge_page("document", [["d-empty", False]], tally, None)
    judge_page("passage", [["p-lost", 0, _unit(3, 1), False]], tally, VectorAudit("passage", 1, 3))
    judge_page("entity", [["e-alone", 0, _unit(3, 2), False, []],
                          ["e-1", 1, _unit(3, 3), True, [["e-2", 3, 2], ["e-3", 1, 1], ["e-4", 1, 0]]]],
               tally, VectorAudit("entity", 2, 3))
    fact_rows = [
        ["f-nosource", 0, _unit(3, 4), False, True, [], False],
        ["f-noentity", 1, _unit(3, 5), True, False, [], False],
        ["f-unmentioned", 2, _unit(3, 6), True, True, ["p-1", "p-2"], True],
        ["f-norelates", 3, _unit(3, 7), True, True, [], False],
    ]
    judge_page("fact", fact_rows, tally, VectorAudit("fact", 4, 3))
    judge_page("unit", [["u-lost", 0, _unit(3, 8), False]], tally, VectorAudit("unit", 1, 3))
    found = {p.kind: (p.count, p.examples) for p in tally.problems()}
    assert found == {
        "document without passages": (1, ("d-empty",)),
        "passage without document": (1, ("p-lost",)),
        "orphan entity": (1, ("e-alone",)),
        "relates weight wrong": (2, ("e-1 -> e-2 (3 != 2)", "e-1 -> e-4 (1 != 0)")),
        "fact without source": (1, ("f-nosource",)),
        "fact with missing entity": (1, ("f-noentity",)),
        "fact not mentioned by its source": (2, ("f-unmentioned @ p-1", "f-unmentioned @ p-2")),
        "relates edge missing": (1, ("f-norelates",)),
        "unit with missing record": (1, ("u-lost",)),
    }


def test_examples_are_capped_but_every_problem_is_counted():
    tally = Tally()
    judge_page("document", [[f"d-{i}", False] for i in range(12)], tally, None)
    (problem,) = tally.problems()
    assert problem.count == 12 and len(problem.examples) == EXAMPLES


def test_a_page_of_another_shape_is_refused():
    with pytest.raises(ValueError):
        judge_page("document", [["d-1", True, "extra column"]], Tally(), None)


class CheckConnection(RecordingConnection):
    """Records what ``check_neo4j`` sends; answers a small sound store, two pages of passages long."""

    def __init__(self) -> None:
        super().__init__()
        meta = {"embed_dim": 3, "version": 2, "rows_passage": 3, "rows_entity": 0, "created_at": "1"}
        self.answers[cypher.READ_META] = [[meta]]
        self.answers[cypher.CHECK_COUNTS] = [[1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]
        self.answers[cypher.EDGE_CHECK_COUNTS] = [[0] * len(cypher.EDGE_CHECK_KINDS)]
        self.answers[cypher.SHOW_CONSTRAINTS] = [[name] for name in cypher.CONSTRAINT_NAMES]
        self.answers[cypher.SHOW_INDEXES] = [[name, "ONLINE"] for name in cypher.INDEX_NAMES]
        config = {"vector.dimensions": 3, "vector.similarity_function": "COSINE", "vector.quantization.enabled": False}
        self.answers[cypher.SHOW_VECTOR_INDEXES] = [
            ["hippo_passage_embedding", ["Passage"], ["embedding"], {"indexConfig": config}]
        ]
        self.passages = [[f"p-{i}", i, _unit(3, i), True] for i in range(3)]

    def rows(self, query: str, **params) -> list:
        if query == cypher.CHECK_PAGES["passage"]:
            self.calls.append((query, params))
            later = [row for row in self.passages if row[0] > params["after"]]
            return later[: params["limit"]]
        return super().rows(query, **params)


def test_every_check_statement_is_fixed_text_with_the_parameters_it_names():
    conn = CheckConnection()
    report = check_neo4j(Neo4jStore(conn, Settings()), size=2)
    assert isinstance(report, StoreCheck) and report.ok, report.problems
    assert report.checked["passages"] == 3 and report.notes == ()
    pages = [params for query, params in conn.calls if query == cypher.CHECK_PAGES["passage"]]
    assert [p["after"] for p in pages] == ["", "p-1"]  # two pages of two, in id order
    sent = {query for query, _ in conn.calls}
    assert set(cypher.CHECK_PAGES.values()) <= sent and cypher.EDGE_CHECK_COUNTS in sent
    for query, params in conn.calls:
        assert set(re.findall(r"\$(\w+)", query)) == set(params), query


def test_a_store_that_changed_or_lost_its_schema_says_so():
    conn = CheckConnection()
    conn.answers[cypher.SHOW_INDEXES] = [[name, "ONLINE"] for name in cypher.INDEX_NAMES[1:]] + [
        ["hippo_passage_embedding", "POPULATING"]
    ]
    conn.answers[cypher.SHOW_VECTOR_INDEXES][0][3]["indexConfig"]["vector.quantization.enabled"] = True
    versions = iter([2, 3])
    meta = conn.answers[cypher.READ_META][0][0]
    original = conn.rows

    def rows(query: str, **params) -> list:
        if query == cypher.READ_META:
            return [[{**meta, "version": next(versions)}]]
        return original(query, **params)

    conn.rows = rows
    report = check_neo4j(Neo4jStore(conn, Settings()))
    (schema,) = report.problems
    assert schema.kind == "schema" and schema.count == 3
    assert schema.examples == (
        f"{cypher.INDEX_NAMES[0]}: missing",
        "hippo_passage_embedding: POPULATING",
        "hippo_passage_embedding was quantized",
    )
    assert "version 2 -> 3" in report.notes[0] and not report.ok

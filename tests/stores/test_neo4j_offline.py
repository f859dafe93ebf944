"""The Neo4j store's parts that need no server: locations, credentials, Cypher text, and servers that are not there.

The unreachable-server tests use the real driver against a closed port and against a port that
hangs up at once; nothing here speaks Bolt.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import re
import socket
from pathlib import Path

import numpy as np
import pytest

import hippo
from hippo.config import Settings
from hippo.errors import ConfigError, StoreError
from hippo.model import Cluster, Document, Entity, Fact, Passage, Unit
from hippo.stores import neo4j_cypher as cypher
from hippo.stores import open_store, resolve_location
from hippo.stores.neo4j import Neo4jStore
from hippo.stores.neo4j_connection import driver_options
from hippo.stores.neo4j_meta import vector_index_plan
from hippo.stores.neo4j_rows import BatchCounters, document_of, document_row, embedded_rows, link_rows
from hippo.stores.neo4j_target import is_neo4j_location, neo4j_target
from hippo.stores.neo4j_vectors import OVERSAMPLE, best_candidates
from hippo.stores.vectors import VectorTable
from tests.stores.proxy import HangUpServer

STORES = Path(hippo.__file__).parent / "stores"
SECRET = "hunter2-not-for-logs"


@pytest.mark.parametrize(
    ("location", "uri"),
    [
        ("neo4j://db.example:7688", "neo4j://db.example:7688"),
        ("bolt://localhost", "bolt://localhost:7687"),
        ("NEO4J+S://abc.databases.neo4j.io", "neo4j+s://abc.databases.neo4j.io:7687"),
        ("bolt+ssc://[::1]:7000/", "bolt+ssc://[::1]:7000"),
        ("neo4j://cluster:7687?region=eu", "neo4j://cluster:7687?region=eu"),
    ],
)
def test_uris_are_normalised(location, uri):
    assert is_neo4j_location(location)
    assert neo4j_target(location, {}).uri == uri


def test_credentials_and_database_come_from_the_environment():
    target = neo4j_target(
        "bolt://h:7687", {"HIPPO_NEO4J_USER": "reader", "HIPPO_NEO4J_PASSWORD": SECRET, "HIPPO_NEO4J_DATABASE": "kg"}
    )
    assert (target.user, target.database, target.auth) == ("reader", "kg", ("reader", SECRET))
    assert SECRET not in repr(target) and SECRET not in target.describe()
    assert target.describe() == "bolt://h:7687 (database 'kg')"
    anonymous = neo4j_target("bolt://h", {})
    assert (anonymous.user, anonymous.password, anonymous.auth, anonymous.database) == ("neo4j", None, None, None)


@pytest.mark.parametrize(
    ("location", "words"),
    [
        ("neo4j://neo4j:hunter2@db:7687", "carries credentials"),
        ("bolt://:7687", "names no host"),
        ("bolt://db:99999", "invalid port"),
        ("neo4j://db:7687/kg", "HIPPO_NEO4J_DATABASE"),
        ("bolt://db:7687?policy=x", "only neo4j:// URIs"),
        ("./kg", "not a Neo4j URI"),
    ],
)
def test_bad_uris_are_refused_with_the_reason(location, words):
    with pytest.raises(ConfigError, match=words) as caught:
        neo4j_target(location, {})
    assert "hunter2" not in str(caught.value)


def test_folders_stay_folders_and_uris_stay_uris(tmp_path):
    assert not is_neo4j_location(str(tmp_path)) and not is_neo4j_location("neo4j-notes")
    assert resolve_location("kg") == str(Path("kg").resolve())
    assert resolve_location("bolt://h:7687") == resolve_location("BOLT://h") == "bolt://h:7687"


def test_vector_index_statement_takes_only_a_positive_int():
    statement = cypher.vector_index_statement("entity", 384)
    assert "FOR (n:Entity) ON (n.embedding)" in statement and "`vector.dimensions`: 384" in statement
    assert "`vector.similarity_function`: 'cosine'" in statement and "IF NOT EXISTS" in statement
    assert "`vector.quantization.enabled`: false" in statement  # Neo4j 5.26 quantizes unless told not to
    for bad in ("384}}) MATCH (n) DETACH DELETE n //", 0, -1, 3.5, True, 10**6):
        with pytest.raises(ValueError, match="dimensions"):
            cypher.vector_index_statement("entity", bad)
    with pytest.raises(ValueError, match="unknown vector kind"):
        cypher.vector_index_statement("Entity) DETACH DELETE (n", 384)


def test_schema_has_a_unique_id_per_label_and_a_vector_index_per_embedded_kind():
    unique = [s for s in cypher.SCHEMA if "IS UNIQUE" in s]
    assert {s.split("(n:")[1].split(")")[0] for s in unique} >= {
        "Document",
        "Passage",
        "Entity",
        "Fact",
        "Unit",
        "Cluster",
        "HippoMeta",
        "IndexedFile",
    }
    assert all("IF NOT EXISTS" in s for s in cypher.SCHEMA)
    assert set(cypher.VECTOR_INDEX) == {"passage", "entity", "fact", "unit", "cluster"}


def _cypher_texts() -> list[tuple[str, str]]:
    """Every statement text in the Cypher module: string constants, and those in dicts and tuples."""
    found = []
    for name in dir(cypher):
        value = getattr(cypher, name)
        if name.startswith("_") or name in (
            "LABELS", "VECTOR_INDEX", "STORE_LABELS", "COUNT_NAMES", "CHECKED_NAMES", "EDGE_CHECK_KINDS",
            "CONSTRAINT_NAMES", "INDEX_NAMES", "INDEXED_KINDS", "VECTOR_INDEX_CONFIG",
        ):
            continue
        values = value.values() if isinstance(value, dict) else value if isinstance(value, tuple) else [value]
        found += [(name, v) for v in values if isinstance(v, str) and " " in v]
    return found


def test_statements_carry_no_literal_values():
    """Values travel as $parameters: no statement holds a quoted literal (the vector index's 'cosine' aside)."""
    texts = _cypher_texts()
    assert len(texts) > 60
    for name, text in texts:
        assert "'" not in text and '"' not in text, name
    assert "$rows" in cypher.PUT_MENTIONS and "UNWIND $rows AS row" in cypher.PUT_FACT_SOURCES
    assert all(
        "MERGE" in getattr(cypher, n)
        for n in (
            "PUT_DOCUMENTS",
            "PUT_ENTITIES",
            "PUT_FACTS",
            "PUT_MENTIONS",
            "PUT_FACT_SOURCES",
            "PUT_SYNONYMS",
            "PUT_UNITS",
            "PUT_ASSOCIATIONS",
            "PUT_CLUSTERS",
            "PUT_MEMBERS",
        )
    )


RUNNERS = {"rows", "write", "write_chunks", "run", "run_schema", "schema_rows"}


def _query_arguments(path: Path) -> list[tuple[int, ast.expr]]:
    """The first argument of every call that sends a statement (``conn.rows(...)``, ``tx.run(...)``, ...)."""
    calls = []
    for node in ast.walk(ast.parse(path.read_text())):
        is_runner = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS
        if is_runner and node.args:
            calls.append((node.lineno, node.args[0]))
    return calls


def _is_constant_statement(arg: ast.expr) -> bool:
    """``cypher.NAME``, ``cypher.NAME[kind]``, a list of those, a loop variable over them, or a pass-through name."""
    if isinstance(arg, ast.Attribute):
        return isinstance(arg.value, ast.Name) and arg.value.id == "cypher"
    if isinstance(arg, ast.Subscript):
        return _is_constant_statement(arg.value)
    if isinstance(arg, ast.List):
        return all(_is_constant_statement(e) for e in arg.elts)
    if isinstance(arg, ast.ListComp):  # [cypher.vector_index_statement(kind, dim) for kind in ...]
        return _is_constant_statement(arg.elt) or (
            isinstance(arg.elt, ast.Call)
            and isinstance(arg.elt.func, ast.Attribute)
            and arg.elt.func.attr == "vector_index_statement"
        )
    return isinstance(arg, ast.Name) and arg.id in ("query", "statement", "statements")


@pytest.mark.parametrize("module", ["neo4j.py", "neo4j_connection.py", "neo4j_meta.py", "neo4j_check.py"])
def test_every_statement_sent_is_a_fixed_text(module):
    """No statement is assembled at run time (no f-string, concatenation or format): values go as parameters."""
    assert not any(
        _is_constant_statement(ast.parse(bad).body[0].value)
        for bad in ('f"MATCH (n {{id: {value}}})"', '"MATCH " + text', '"MATCH {}".format(x)', "cypher.READ_META % x")
    )
    calls = _query_arguments(STORES / module)
    assert calls, module
    for line, arg in calls:
        assert _is_constant_statement(arg), f"{module}:{line} sends {ast.unparse(arg)}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_closed_port_gives_a_clear_error_naming_the_server(monkeypatch, caplog):
    monkeypatch.setenv("HIPPO_NEO4J_PASSWORD", SECRET)
    uri = f"bolt://127.0.0.1:{_free_port()}"
    with caplog.at_level(logging.DEBUG), pytest.raises(StoreError, match="cannot reach the Neo4j server at") as caught:
        open_store(uri)
    assert uri in str(caught.value) and "docker compose up -d neo4j" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in caplog.text


def test_a_server_that_hangs_up_gives_a_clear_error(monkeypatch, caplog):
    monkeypatch.setenv("HIPPO_NEO4J_PASSWORD", SECRET)
    with HangUpServer() as server, caplog.at_level(logging.DEBUG):
        uri = f"neo4j://127.0.0.1:{server.port}"
        with pytest.raises(StoreError, match=f"cannot reach the Neo4j server at {uri}"):
            hippo.open(uri)
    assert SECRET not in caplog.text


def test_a_missing_driver_names_the_extra(monkeypatch):
    import importlib.util

    from hippo.stores import neo4j_errors

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "neo4j" else real(name, *a))
    with pytest.raises(ConfigError, match=r"pip install 'hippo\[neo4j\]'"):
        neo4j_errors.require_driver()


def test_batch_counters_number_rows_as_the_embedded_store_does():
    counters = BatchCounters.from_meta({"rows_passage": 5, "seq": 10, "version": 3, "embed_dim": 4}, "bolt://h")
    passages = counters.slots("passage", np.eye(4, dtype=np.float32)[:2], 2)
    assert [(row, seq) for row, seq, _ in passages] == [(5, 11), (6, 12)]
    assert passages[1][2] == [0.0, 1.0, 0.0, 0.0]
    assert counters.slots("entity", np.ones((1, 4), dtype=np.float32), 1)[0][:2] == (0, 13)
    assert counters.seqs(2) == [14, 15]
    meta = counters.meta("{}")
    assert (meta["rows_passage"], meta["rows_entity"], meta["rows_fact"], meta["seq"], meta["version"]) == (
        7,
        1,
        0,
        15,
        4,
    )
    assert meta["writer"] is None
    with pytest.raises(ValueError, match="4-dimensional"):
        counters.slots("fact", np.zeros((1, 3), dtype=np.float32), 1)
    with pytest.raises(StoreError, match="no embedding dimension"):
        BatchCounters.from_meta({}, "bolt://h").slots("passage", np.zeros((1, 4), dtype=np.float32), 1)


def _sendable(value) -> bool:
    """Only what the driver packs as itself: no tuples (not sent as lists), no numpy values."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _sendable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_sendable(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def test_rows_carry_hostile_text_as_values_and_only_sendable_types():
    hostile = "x'}) MATCH (n) DETACH DELETE n //"
    doc = Document(
        id="d-1",
        source=hostile,
        title=hostile,
        content_hash="h",
        added_at=1.5,
        metadata={"file": "/data/a.txt", "note": hostile},
        timestamp=None,
    )
    row = document_row(doc, 7)
    assert _sendable(row) and row["title"] == hostile and row["file"] == "/data/a.txt"
    stored = {key: value for key, value in row.items() if value is not None}  # Neo4j keeps no null property
    assert "timestamp" not in stored and document_of(stored) == doc
    counters = BatchCounters.from_meta({"embed_dim": 2}, "bolt://h")
    records = [
        Passage("p-1", "d-1", np.int64(0), hostile, "ph", key=hostile),
        Entity("e-1", hostile, hostile),
        Fact("f-1", "e-1", hostile, "e-2", "A", "B"),
        Unit("u-1", "summary", hostile, "d-1"),
        Cluster("c-1", np.int64(2), hostile),
    ]
    for kind, record in zip(("passage", "entity", "fact", "unit", "cluster"), records):
        rows = embedded_rows([record], counters.slots(kind, np.ones((1, 2), dtype=np.float32), 1))
        assert _sendable(rows) and hostile in rows[0].values(), kind
    links = link_rows(("fact_id", "passage_id", "extractor"), [("f-1", "p-1", hostile)], counters.seqs(1))
    assert _sendable(links) and links[0]["extractor"] == hostile


class RecordingConnection:
    """Stands in for ``Neo4jConnection`` to record each statement with its parameters (answers come from a table).

    It checks how the store calls Cypher, not what Neo4j does with it: that is the contract tests' job.
    """

    def __init__(self) -> None:
        self.target = neo4j_target("bolt://h:7687", {})
        self.calls: list[tuple[str, dict]] = []
        self.answers = {
            cypher.LOCK_META: [[{"embed_dim": 2, "seq": 4, "version": 1}]],
            cypher.VERSION: [[1]],
            cypher.READ_META: [[{"embed_dim": 2, "created_at": "1", "rows_passage": 1}]],
            cypher.DOC_PASSAGES: [[1]],
            cypher.COUNTS: [[0] * len(cypher.COUNT_NAMES)],
            cypher.VECTOR_ROWS["passage"]: [[0, [1.0, 0.0]]],
            cypher.VECTOR_OWNERS["passage"]: [["p-1", 0]],
            cypher.DOC_FACTS: [["f-1", "e-1", "e-2"]],
            cypher.DEAD_FACTS: [["e-1", "e-2"]],
            cypher.PAIRS_OF_FACTS: [["e-1", "e-2"]],
        }
        self.open = False

    def rows(self, query: str, **params) -> list:
        self.calls.append((query, params))
        return self.answers.get(query, [])

    def write(self, query: str, **params) -> list:
        self.require_transaction()
        return self.rows(query, **params)

    def write_chunks(self, query: str, rows: list, what: str = "") -> None:
        self.write(query, rows=rows)

    def defer(self, query: str, row: dict, weight: int = 1) -> None:
        self.write(query, rows=[row])

    @contextlib.contextmanager
    def snapshot(self):
        yield self.rows

    def in_transaction(self) -> bool:
        return self.open

    def require_transaction(self) -> None:
        if not self.open:
            raise StoreError("writes must happen inside `with store.transaction():`.")

    @contextlib.contextmanager
    def transaction(self, begin, finish):
        self.open = True
        begin(self.rows)
        yield
        finish(self.rows)
        self.open = False

    def run_schema(self, statements, params=None) -> None:
        for statement in statements:
            self.calls.append((statement, params or {}))

    def schema_rows(self, query: str) -> list:
        return self.rows(query)


def test_every_statement_gets_exactly_the_parameters_it_names():
    conn = RecordingConnection()
    store = Neo4jStore(conn, Settings())
    vectors = np.ones((1, 2), dtype=np.float32)
    doc = Document("d-1", "src", "T", "h", 1.0, {"file": "/f"})
    with store.transaction():
        store.set_embedding_dim(2)
        store.put_document(doc, [Passage("p-1", "d-1", 0, "text", "ph")], vectors)
        store.put_graph(
            [Entity("e-1", "ada", "Ada")],
            vectors,
            [Fact("f-1", "e-1", "born in", "e-2", "Ada", "K")],
            vectors,
            [("p-1", "e-1")],
            [("f-1", "p-1", "spacy")],
        )
        store.put_synonyms([("e-1", "e-2", 0.9)])
        store.put_units([Unit("u-1", "document", "t", "d-1")], vectors)
        store.put_associations([("u-1", "u-0", 0.5)])
        store.put_clusters([Cluster("c-1", 1, "s")], vectors, [("c-1", "p-1", 0.5)])
        store.delete_clusters(["c-1"])
        store.set_file("/f", "h", 1)
        store.forget_file("/f")
        store.set_layer_info({"a": 1})
        assert store.delete_document("d-1", keep={"e-2"}) == 1
    store.version(), store.vector_table("passage"), store.nearest("passage", vectors, 3), store.vectors_by_hash(["h"])
    store.file_hash("/f"), store.list_files(), store.documents_of_file("/f"), store.find_documents("x")
    store.list_documents(), store.passage_context(["p-1"]), list(store.iter_passages()), store.counts()
    store.known_ids("entity", ["e-1"]), store.known_ids("fact", ["f-1"]), store.graph_edges(), store.entities(["e-1"])
    store.facts(["f-1"]), store.find_entities("ada"), store.facts_of_entity("e-1"), store.passages_of_entity("e-1")
    store.synonyms_of("e-1"), store.facts_between("e-1", "e-2"), store.entity_names(), store.top_entities()
    store.list_facts(), store.mentions_of_passages(["p-1"]), store.facts_of_passages(["p-1"]), store.units(["u-1"])
    store.memory_edges(), store.document_units("d-1"), store.clusters(["c-1"]), store.cluster_edges()
    store.layer_info()
    sent = {query for query, _ in conn.calls}
    assert cypher.REFRESH_RELATES in sent and cypher.DEAD_ENTITIES in sent and cypher.NEAREST in sent
    for query, params in conn.calls:
        assert set(re.findall(r"\$(\w+)", query)) == set(params), query


def _shown(name: str, label: str, dims: int, quantized: bool | None, similarity: str = "COSINE") -> dict:
    """One row of ``SHOW VECTOR INDEXES`` as Neo4j 5.26 reports it."""
    config = {"vector.dimensions": dims, "vector.similarity_function": similarity, "vector.hnsw.m": 16}
    if quantized is not None:
        config["vector.quantization.enabled"] = quantized
    return {"name": name, "labelsOrTypes": [label], "properties": ["embedding"],
            "options": {"indexProvider": "vector-2.0", "indexConfig": config}}


def test_a_new_store_gets_one_unquantized_passage_index():
    plan = vector_index_plan([], 384)
    assert (plan.drop, plan.create, plan.reasons) == ([], ["passage"], [])
    assert cypher.INDEXED_KINDS == ("passage",)


def test_indexes_with_other_settings_are_rebuilt_and_unused_ones_dropped():
    old = [
        _shown("hippo_passage_embedding", "Passage", 384, True),  # made before quantization was turned off
        _shown("hippo_entity_embedding", "Entity", 384, True),
        _shown("someone_elses_index", "Passage", 384, True),
    ]
    plan = vector_index_plan(old, 384)
    assert plan.drop == ["passage", "entity"] and plan.create == ["passage"]
    assert plan.reasons == ["hippo_passage_embedding was quantized", "hippo_entity_embedding is not used"]
    wider = vector_index_plan([_shown("hippo_passage_embedding", "Passage", 768, False, "EUCLIDEAN")], 384)
    assert wider.create == ["passage"] and "768 dimensions, not 384" in wider.reasons[0]
    assert "euclidean similarity" in wider.reasons[0]


def test_an_index_with_the_wanted_settings_is_kept():
    assert not vector_index_plan([_shown("hippo_passage_embedding", "Passage", 384, False)], 384)
    # a server that does not know quantization (before 5.23) has nothing to turn off
    assert not vector_index_plan([_shown("hippo_passage_embedding", "Passage", 384, None)], 384)


def test_oversampled_candidates_re_ranked_give_the_exact_top_k():
    """The index's candidates, in its (approximate) order and with Neo4j's (1 + cos) / 2 scores, re-ranked
    by ``best_candidates``, give the exact search's top k: the embedded store's ``VectorTable.top``."""
    rng = np.random.default_rng(7)
    matrix = rng.normal(size=(400, 16)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    queries = matrix[:5] + 0.3 * rng.normal(size=(5, 16)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    ids = np.array([f"p-{i}" for i in range(400)], dtype=object)
    table = VectorTable(ids=ids, live=np.ones(400, dtype=bool), matrix=matrix)
    k = 10
    exact_rows, exact_scores = table.top(queries, k)
    scores = queries @ matrix.T
    rows = []
    for i in range(len(queries)):
        candidates = np.argsort(-scores[i])[: k * OVERSAMPLE]
        rng.shuffle(candidates)  # the index returns them in no exact order
        rows += [[i, ids[r], int(r), (1.0 + float(scores[i, r])) / 2.0] for r in candidates]
    found = best_candidates(rows, len(queries), k)
    for (got_ids, got_scores), want_rows, want_scores in zip(found, exact_rows, exact_scores):
        assert got_ids == ids[want_rows].tolist()
        np.testing.assert_allclose(got_scores, want_scores, atol=1e-6)
    assert [(ids_, len(s)) for ids_, s in best_candidates([], 2, k)] == [([], 0), ([], 0)]


def test_kinds_without_an_index_are_scored_exactly_in_process():
    conn = RecordingConnection()
    store = Neo4jStore(conn, Settings())
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(30, 4)).astype(np.float32)
    table = VectorTable(np.array([f"e-{i}" for i in range(30)], dtype=object), np.ones(30, dtype=bool), matrix)
    found = store.nearest("entity", matrix[:2], 3, table=lambda: table)
    rows, scores = table.top(matrix[:2], 3)
    assert [ids for ids, _ in found] == [table.ids[r].tolist() for r in rows]
    np.testing.assert_array_equal(np.stack([s for _, s in found]), scores)
    assert cypher.NEAREST not in {query for query, _ in conn.calls}
    with pytest.raises(ValueError, match="unknown vector kind"):
        store.nearest("Passage", matrix[:1], 3)


def test_the_driver_takes_the_notification_filter():
    """The real driver accepts the options (a misspelt one raises at construction, before any connection)."""
    import neo4j

    options = driver_options()
    assert options["notifications_min_severity"] == "WARNING"
    assert options["notifications_disabled_classifications"] == ["UNRECOGNIZED"]
    driver = neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{_free_port()}", auth=None, **options)
    driver.close()
    with pytest.raises(neo4j.exceptions.ConfigurationError, match="Unexpected config keys"):
        neo4j.GraphDatabase.driver("bolt://127.0.0.1:1", auth=None, notifications_disabled_clasifications=[])


SPAWN_CHECK = """
import importlib, multiprocessing, runpy, sys
sys.path.insert(0, {bench!r})  # what `python bench/neo4j.py` does
runpy.run_path({bench!r} + "/neo4j.py", run_name="bench_neo4j")
import neo4j
assert hasattr(neo4j, "GraphDatabase"), neo4j.__file__
spawn = multiprocessing.get_context("spawn")  # as the spaCy parser starts its helpers
for module in ("twowiki", "neo4j._sync.driver"):
    child = spawn.Process(target=importlib.import_module, args=(module,))
    child.start()
    child.join()
    assert child.exitcode == 0, module
print("ok")
"""


def test_the_neo4j_bench_keeps_its_folder_importable_for_spawned_helpers():
    """bench/neo4j.py must not shadow the driver (it is named neo4j.py), nor take its folder off the path
    that the parser's spawned helpers get: they import ``twowiki`` again (they died without it)."""
    import subprocess
    import sys

    bench = str(Path(hippo.__file__).resolve().parents[1] / "bench")
    done = subprocess.run([sys.executable, "-c", SPAWN_CHECK.format(bench=bench)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]

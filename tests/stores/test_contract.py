"""The store contract: what every ``GraphStore`` must do, run against the embedded store and against Neo4j.

The Neo4j runs need a real server: set ``HIPPO_NEO4J_URI`` (and ``HIPPO_NEO4J_USER`` /
``HIPPO_NEO4J_PASSWORD``) to a scratch Neo4j 5.26+ database, e.g. the one ``docker compose up -d neo4j``
starts. These tests empty that database. Without it they skip and say so (``pytest -rs``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

import hippo
from hippo.config import DEFAULT_EMBED_MODEL
from hippo.errors import EmbeddingModelMismatch, StoreError
from hippo.model import Cluster, Document, Entity, Fact, Passage, Unit, make_id
from hippo.stores import open_store
from hippo.stores.base import GraphStore
from tests.conftest import DEMO, spacy_model_or_skip
from tests.stores.proxy import CuttableProxy
from tests.stores.records import assert_same_rankings, assert_same_vectors, rankings, store_records

NEO4J_URI = os.environ.get("HIPPO_NEO4J_URI", "")
needs_neo4j = pytest.mark.skipif(
    not NEO4J_URI,
    reason="HIPPO_NEO4J_URI is not set: no Neo4j server to run the Neo4j store contract against "
    "(point it at a scratch Neo4j 5.26+ database, e.g. `docker compose up -d neo4j`)",
)
DIM = 8


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=needs_neo4j)])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store location of each kind."""
    if request.param == "sqlite":
        return str(tmp_path / "store")
    from hippo.stores.neo4j import drop_store

    drop_store(NEO4J_URI)
    return NEO4J_URI


def _vectors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _document(n: int, passages: int = 2) -> tuple[Document, list[Passage]]:
    doc = Document(
        id=f"d-{n}",
        source=f"src{n}",
        title=f"T{n}",
        content_hash=f"h{n}",
        added_at=float(n),
        metadata={"file": f"/data/f{n}.txt", "note": 'naïve "quoted" {value}'},
        timestamp=None,
    )
    ps = [
        Passage(
            id=make_id("p", doc.id, str(i)),
            doc_id=doc.id,
            position=i,
            text=f"text {n}.{i} O'Brien's",
            content_hash=f"ph{n}.{i}",
            key=f"D{n}:{i}" if n % 2 else "",
            time="2024-03-02T10:15" if n % 2 else None,
        )
        for i in range(passages)
    ]
    return doc, ps


def _put(store: GraphStore, n: int, passages: int = 2) -> np.ndarray:
    doc, ps = _document(n, passages)
    vectors = _vectors(passages, n)
    with store.transaction():
        store.set_embedding_dim(DIM)
        store.put_document(doc, ps, vectors)
    return vectors


def _entity(name: str) -> Entity:
    return Entity(make_id("e", name), name, name.title(), None)


def _fact(subject: Entity, predicate: str, obj: Entity) -> Fact:
    return Fact(
        make_id("f", subject.id, predicate, obj.id), subject.id, predicate, obj.id, subject.display, obj.display
    )


def _relations(store: GraphStore) -> list[tuple[str, str, float]]:
    return sorted((a, b, float(w)) for a, b, w in zip(*store.graph_edges().relations))


def test_documents_passages_and_vectors_round_trip(location):
    with open_store(location, {"chunk_tokens": 100}) as store:
        assert store.version() == 0 and store.counts()["documents"] == 0
        first, second = _put(store, 1), _put(store, 2, passages=3)
        assert store.version() == 2
        with store.transaction():
            store.set_file("/data/f1.txt", "hash1", 10)
    with open_store(location) as store:
        assert store.settings.chunk_tokens == 100
        assert {k: v for k, v in store.counts().items() if v} == {"documents": 2, "passages": 5, "files": 1}
        assert [(s.document.id, s.passages) for s in store.list_documents()] == [("d-1", 2), ("d-2", 3)]
        doc, ps = _document(1)
        assert store.document("d-1") == doc
        assert [d.id for d in store.find_documents("src2")] == ["d-2"]
        assert [d.id for d in store.find_documents("/data/f1.txt")] == ["d-1"]
        assert store.documents_of_file("/data/f1.txt") == {"src1": doc}
        assert store.file_hash("/data/f1.txt") == "hash1" and store.list_files() == [("/data/f1.txt", "hash1", 10)]
        contexts = list(store.iter_passages())
        assert [c.passage_id for c in contexts] == [p.id for n in (1, 2) for p in _document(n, 2 + (n == 2))[1]]
        assert contexts[0].text == "text 1.0 O'Brien's" and contexts[0].key == "D1:0" and contexts[0].title == "T1"
        assert store.passage_context([ps[1].id])[ps[1].id].position == 1
        table = store.vector_table("passage")
        assert table.size == 5
        np.testing.assert_allclose(table.matrix[:2], first, atol=1e-6)
        np.testing.assert_allclose(table.matrix[2:], second, atol=1e-6)
        np.testing.assert_allclose(store.vectors_by_hash(["ph2.1"])["ph2.1"], second[1], atol=1e-6)
        ids, scores = store.nearest("passage", second[:1], 2)[0]
        assert ids[0] == _document(2, 3)[1][0].id and scores[0] == pytest.approx(1.0, abs=1e-4)


def test_a_failed_batch_lands_nothing_and_the_next_reuses_its_rows(location):
    with open_store(location) as store:
        _put(store, 1)
        doc, ps = _document(2)
        with pytest.raises(RuntimeError, match="crash"), store.transaction():
            store.put_document(doc, ps, _vectors(2, 2))
            raise RuntimeError("crash in the middle of a batch")
        assert store.counts()["documents"] == 1 and store.version() == 1
        third = _put(store, 3)
        np.testing.assert_allclose(store.vector_table("passage").matrix[2:4], third, atol=1e-6)


def test_writes_outside_a_transaction_and_nested_batches_are_refused(location):
    with open_store(location) as store:
        doc, ps = _document(1)
        with pytest.raises(StoreError, match="inside `with store.transaction"):
            store.put_document(doc, ps, _vectors(2, 1))
        with pytest.raises(StoreError, match="do not nest"), store.transaction(), store.transaction():
            pass


def test_another_embedding_model_or_dimension_is_refused(location):
    with open_store(location) as store:
        _put(store, 1)
        with pytest.raises(EmbeddingModelMismatch, match=f"{DIM}-dimensional"), store.transaction():
            store.set_embedding_dim(384)
    refusal = re.escape(f"built with {DEFAULT_EMBED_MODEL}; this run asked for bge-small-en")
    with pytest.raises(EmbeddingModelMismatch, match=refusal):
        open_store(location, {"embed_model": "bge-small-en"})


def test_delete_and_replace_keep_relates_weights_exact(location):
    a, b, c = _entity("ada"), _entity("kettleby"), _entity("lake imber")
    born, lived, shore = _fact(a, "born in", b), _fact(a, "lived in", b), _fact(b, "on the shore of", c)
    with open_store(location) as store:
        _put(store, 1, passages=1)
        _put(store, 2, passages=1)
        p1, p2 = _document(1, 1)[1][0].id, _document(2, 1)[1][0].id
        with store.transaction():
            store.put_graph(
                [a, b, c],
                _vectors(3, 7),
                [born, lived, shore],
                _vectors(3, 8),
                [(p1, a.id), (p1, b.id), (p2, a.id), (p2, b.id), (p2, c.id)],
                [(born.id, p1, "test"), (lived.id, p1, "test"), (born.id, p2, "test"), (shore.id, p2, "test")],
            )
        assert _relations(store) == sorted([(a.id, b.id, 3.0), (b.id, c.id, 1.0)])
        assert store.facts([born.id])[born.id].passage_ids == tuple(sorted([p1, p2]))
        assert [e.id for e in store.mentions_of_passages([p2])[p2]] == [a.id, b.id, c.id]
        assert store.fact_sources([p1]) == [(born.id, p1, "test"), (lived.id, p1, "test")]

        with store.transaction():
            assert store.delete_document("d-1") == 1
        assert _relations(store) == sorted([(a.id, b.id, 1.0), (b.id, c.id, 1.0)])
        assert store.known_ids("fact", [born.id, lived.id, shore.id]) == {born.id, shore.id}
        assert store.known_ids("entity", [a.id, b.id, c.id]) == {a.id, b.id, c.id}

        # replace document 2 in one batch: its new passage states only `shore` again and mentions only c
        doc, _ = _document(2, 1)
        new = Passage(make_id("p", doc.id, "new"), doc.id, 0, "Kettleby lies on Lake Imber.", "ph-new")
        with store.transaction():
            assert store.delete_document("d-2", keep={shore.id, b.id, c.id}) == 1
            store.put_document(doc, [new], _vectors(1, 9))
            store.put_graph([], _vectors(0, 0), [], _vectors(0, 0), [(new.id, c.id)], [(shore.id, new.id, "test")])
        assert _relations(store) == [(b.id, c.id, 1.0)]
        assert store.known_ids("entity", [a.id, b.id, c.id]) == {b.id, c.id}
        assert store.known_ids("fact", [born.id, lived.id, shore.id]) == {shore.id}
        assert store.facts_between(c.id, b.id) == [store.facts([shore.id])[shore.id]]
        assert store.synonyms_of(b.id) == [] and [e.id for e in store.top_entities()] == [c.id]
        counts = store.counts()
        assert (counts["entities"], counts["facts"], counts["mentions"]) == (2, 1, 1)


def test_entity_lookups(location):
    a, b = _entity("marren observatory"), _entity("marren head")
    fact = _fact(a, "stands on", b)
    with open_store(location) as store:
        _put(store, 1, passages=2)
        p0, p1 = (p.id for p in _document(1)[1])
        with store.transaction():
            store.put_graph(
                [a, b],
                _vectors(2, 3),
                [fact],
                _vectors(1, 4),
                [(p0, a.id), (p1, a.id), (p1, b.id)],
                [(fact.id, p1, "test")],
            )
            store.put_synonyms([(a.id, b.id, 0.91)])
        assert [e.id for e in store.find_entities("The Marren Observatory!")] == [a.id]
        assert [e.id for e in store.find_entities("marren")] == [a.id, b.id]
        assert store.find_entities("%") == [] and store.find_entities("") == []
        assert [f.id for f in store.facts_of_entity(b.id)] == [fact.id] == [f.id for f in store.list_facts()]
        assert [p.passage_id for p in store.passages_of_entity(a.id)] == [p0, p1]
        assert [(e.id, round(s, 2)) for e, s in store.synonyms_of(b.id)] == [(a.id, 0.91)]
        _, names, _ = store.entity_names()
        assert sorted(names) == ["marren head", "marren observatory"]
        assert [e.id for e in store.top_entities(1)] == [a.id]
        assert [f.id for f in store.facts_of_passages([p0, p1])[p1]] == [fact.id]


def test_units_clusters_and_layer_info(location):
    with open_store(location) as store:
        _put(store, 1)
        _put(store, 2)
        p = _document(1)[1][0].id
        units = [
            Unit("u-1", "document", "session one", "d-1", "2024-01-01"),
            Unit("u-2", "passage", "turn", "d-1", None, p),
            Unit("u-3", "document", "session two", "d-2"),
        ]
        cluster = Cluster("c-1", 1, "a summary")
        with store.transaction():
            store.put_units(units, _vectors(3, 5))
            store.put_associations([("u-3", "u-1", 0.5)])
            store.put_clusters([cluster], _vectors(1, 6), [("c-1", p, 0.75)])
            store.set_layer_info({"fingerprint": "abc", "levels": [1]})
        memory = store.memory_edges()
        assert memory.units == (
            ["u-1", "u-2", "u-3"],
            ["d-1", "d-1", "d-2"],
            ["document", "passage", "document"],
            ["", p, ""],
        )
        assert memory.associations == (["u-3"], ["u-1"], [0.5])
        assert store.units(["u-2"]) == {"u-2": units[1]} and store.document_units("d-1") == units[:2]
        assert store.clusters(["c-1"]) == {"c-1": cluster}
        assert store.cluster_edges().members == (["c-1"], [p], [0.75])
        assert store.layer_info() == {"fingerprint": "abc", "levels": [1]}
        assert store.vector_table("unit").size == 3
        with store.transaction():
            store.delete_document("d-1")
        assert store.memory_edges().units[0] == ["u-3"] and store.memory_edges().associations == ([], [], [])
        assert store.cluster_edges().members == ([], [], [])
        with store.transaction():
            store.delete_clusters(["c-1"])
        assert store.cluster_edges().clusters == ([], []) and store.vector_table("cluster").size == 0


def test_reindexing_through_the_api_is_idempotent(location, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ada.txt").write_text("Ada Lindqvist\n\nAda Lindqvist was born in Kettleby. She founded an observatory.")
    (folder / "kettleby.md").write_text("# Kettleby\n\nKettleby is a village on the shore of Lake Imber.")
    with hippo.open(location, extractor="none", memory_units=False) as kg:
        first = kg.index(folder)
        before, version = kg.stats()["counts"], kg.store.version()
        again = kg.index(folder)
        assert again.files_unchanged == 2 and kg.stats()["counts"] == before and kg.store.version() == version
        (folder / "kettleby.md").write_text("# Kettleby\n\nKettleby is a village by Lake Imber, founded in 1201.")
        changed = kg.index(folder)
        assert (first.documents_added, changed.documents_replaced) == (2, 1)
        assert kg.stats()["counts"]["documents"] == 2
        assert "1201" in kg.retrieve("When was Kettleby founded?", k=1)[0].text


# --- Neo4j against the embedded store ----------------------------------------------------------------------------
@needs_neo4j
def test_same_corpus_gives_the_same_records_and_rankings_on_both_stores(kg_demo_graph, demo_questions):
    from hippo.stores.neo4j import drop_store

    drop_store(NEO4J_URI)
    questions = [q["question"] for q in demo_questions]
    with hippo.open(NEO4J_URI, extractor="spacy") as kg:
        kg.index(DEMO)
        ours, theirs = store_records(kg_demo_graph.store), store_records(kg.store)
        for key in ours:  # added_at differs; everything else is equal
            if key != "documents":
                assert ours[key] == theirs[key], key
        assert [(d.id, n) for d, n in ours["documents"]] == [(d.id, n) for d, n in theirs["documents"]]
        assert_same_rankings(rankings(kg_demo_graph, questions), rankings(kg, questions))


@needs_neo4j
def test_export_to_neo4j_and_back_keeps_everything(kg_demo_graph, demo_questions, tmp_path):
    from hippo.stores.neo4j import drop_store

    drop_store(NEO4J_URI)
    questions = [q["question"] for q in demo_questions]
    report = kg_demo_graph.copy_to(NEO4J_URI)
    assert report.documents == kg_demo_graph.stats()["counts"]["documents"]
    with hippo.open(NEO4J_URI, create=False) as kg:
        kg.copy_to(tmp_path / "back")
        assert_same_rankings(rankings(kg_demo_graph, questions), rankings(kg, questions))
    with hippo.open(tmp_path / "back", create=False) as back:
        assert store_records(back.store) == store_records(kg_demo_graph.store)
        assert_same_vectors(back.store, kg_demo_graph.store)


@needs_neo4j
def test_the_server_going_away_mid_ingest_gives_a_clear_error_and_keeps_committed_batches(tmp_path):
    from hippo.stores.neo4j import drop_store

    spacy_model_or_skip()
    drop_store(NEO4J_URI)
    folder = tmp_path / "docs"
    folder.mkdir()
    for n, name in enumerate(("ada", "kettleby", "imber")):
        (folder / f"{n}-{name}.txt").write_text(f"{name.title()}\n\n{name.title()} is a place in the story {n}.")
    parts = urlsplit(NEO4J_URI)
    with CuttableProxy((parts.hostname, parts.port or 7687)) as proxy:
        through_proxy = f"bolt://127.0.0.1:{proxy.port}"  # bolt: a neo4j:// driver would route around the proxy
        kg = hippo.open(through_proxy, ingest_batch_docs=1)
        store = kg.store
        put_document = store.put_document
        calls = []

        def cut_on_second_batch(*args, **kwargs):
            calls.append(args[0].id)
            if len(calls) == 2:
                proxy.cut()  # the server goes away inside the second batch's transaction
            return put_document(*args, **kwargs)

        store.put_document = cut_on_second_batch
        with pytest.raises(StoreError) as caught:
            kg.index(folder)
        message = str(caught.value)
        assert through_proxy in message and "committed before it are kept" in message
        assert os.environ.get("HIPPO_NEO4J_PASSWORD", "\0") not in message
        kg.close()
    with hippo.open(NEO4J_URI, create=False) as kg:
        assert [d.document.id for d in kg.documents()] == [calls[0]]
        report = kg.index(folder)  # resumes: the first file's document is already there
        assert kg.stats()["counts"]["documents"] == 3 and report.documents_unchanged == 1


def _cypher(query: str, **params) -> list:
    """Run one statement on the test server directly (to damage a store, or to look at its schema)."""
    import neo4j

    from hippo.stores.neo4j_connection import driver_options
    from hippo.stores.neo4j_target import neo4j_target

    target = neo4j_target(NEO4J_URI)
    with neo4j.GraphDatabase.driver(target.uri, auth=target.auth, **driver_options()) as driver:
        records, _, _ = driver.execute_query(query, params, database_=target.database)
        return [record.values() for record in records]


@needs_neo4j
def test_check_passes_a_sound_neo4j_store_and_finds_damage_made_with_cypher(kg_demo_graph):
    from typer.testing import CliRunner

    from hippo.cli.app import app
    from hippo.stores.neo4j import drop_store

    drop_store(NEO4J_URI)
    kg_demo_graph.copy_to(NEO4J_URI)
    embedded = kg_demo_graph.check()
    with hippo.open(NEO4J_URI, create=False) as kg:
        sound = kg.check()
        assert sound.ok, sound.problems
        assert {k: sound.checked[k] for k in embedded.checked} == embedded.checked
        assert set(sound.to_dict()) == set(embedded.to_dict())
    _cypher("MATCH (e:Entity) WITH e ORDER BY e.id LIMIT 1 SET e.vec_row = -5")
    _cypher("MATCH ()-[r:RELATES]->() WITH r LIMIT 1 SET r.weight = r.weight + 7")
    _cypher("CREATE (:Document {id: $id, source: $id, title: $id, content_hash: $id, added_at: 0.0})", id="d-empty")
    with hippo.open(NEO4J_URI, create=False) as kg:
        damaged = kg.check()
    counts = damaged.problem_counts()
    assert counts["vector row out of range"] == 1 and counts["relates weight wrong"] == 1
    assert counts["document without passages"] == 1
    done = CliRunner().invoke(app, ["check", "--store", NEO4J_URI])
    assert done.exit_code == 1 and "damaged" in done.output and "d-empty" in done.output


@needs_neo4j
def test_a_quantized_index_left_by_an_older_store_is_rebuilt_on_open(caplog):
    from hippo.stores.neo4j import drop_store

    drop_store(NEO4J_URI)
    with open_store(NEO4J_URI) as store:
        vectors = _put(store, 1, passages=3)
    _cypher("DROP INDEX hippo_passage_embedding")
    for label in ("Passage", "Entity"):
        _cypher(
            f"CREATE VECTOR INDEX hippo_{label.lower()}_embedding FOR (n:{label}) ON (n.embedding) OPTIONS "
            f"{{indexConfig: {{`vector.dimensions`: {DIM}, `vector.similarity_function`: 'cosine', "
            "`vector.quantization.enabled`: true}}"
        )
    with caplog.at_level("WARNING", logger="hippo.stores.neo4j_meta"), open_store(NEO4J_URI) as store:
        lines = [r.getMessage() for r in caplog.records if r.name == "hippo.stores.neo4j_meta"]
        assert len(lines) == 1 and "hippo_passage_embedding was quantized" in lines[0], lines
        assert "hippo_entity_embedding is not used" in lines[0]
        _, scores = store.nearest("passage", vectors[:1], 3)[0]
        assert scores[0] == pytest.approx(1.0, abs=1e-5)
    shown = {name: config for name, config in _cypher(
        "SHOW VECTOR INDEXES YIELD name, options RETURN name, options.indexConfig")}
    assert set(shown) == {"hippo_passage_embedding"}
    assert shown["hippo_passage_embedding"]["vector.quantization.enabled"] is False


@needs_neo4j
def test_reads_of_documents_without_a_timestamp_raise_no_server_notifications(caplog):
    from hippo.stores.neo4j import drop_store

    drop_store(NEO4J_URI)
    with caplog.at_level("INFO", logger="neo4j.notifications"), open_store(NEO4J_URI) as store:
        _put(store, 1)
        assert store.document("d-1").timestamp is None and len(store.list_documents()) == 1
        store.cluster_edges(), store.memory_edges()  # kinds this store does not hold yet
    assert not [r for r in caplog.records if r.name == "neo4j.notifications"]


@needs_neo4j
def test_a_copy_into_a_neo4j_store_with_other_documents_needs_merge(kg_demo_graph):
    from hippo.stores.neo4j import drop_store

    drop_store(NEO4J_URI)
    with hippo.open(NEO4J_URI, extractor="none", memory_units=False) as other:
        other.add_texts(["Some unrelated note about gardening."])
    with pytest.raises(StoreError, match="already holds 1 document.*--merge"):
        kg_demo_graph.copy_to(NEO4J_URI)
    report = kg_demo_graph.copy_to(NEO4J_URI, merge=True)
    assert report.documents == kg_demo_graph.stats()["counts"]["documents"]
    with hippo.open(NEO4J_URI, create=False) as kg:
        assert kg.stats()["counts"]["documents"] == report.documents + 1
        assert kg.check().ok

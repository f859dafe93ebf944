"""The Neo4j store against the embedded store on 2WikiMultihopQA: ingest throughput and query latency.

Needs a Neo4j 5.26+ server: the URI from ``--uri`` or ``HIPPO_NEO4J_URI``, the user and password from
``HIPPO_NEO4J_USER`` / ``HIPPO_NEO4J_PASSWORD`` (``docker compose up -d neo4j`` starts one). Without a
reachable server it says why and exits with status 2, writing nothing. The hippo store in that
database is replaced, so an existing one is only dropped with ``--fresh``.

Measured with the same corpus, extractor and models on both stores (bench/twowiki.py reads the corpus
and questions and scores the runs):
- ingest: ``hippo index`` of the corpus into each store: seconds, passages/s, and the store-write stage;
- copy: ``hippo export --to`` of the embedded store into Neo4j: store writes only, nothing re-embedded;
- cold start: seconds to read the graph and the vector matrices once (cached until the store changes);
- where Neo4j's time goes: seconds and count per Cypher statement, for the ingest and the cold start
  (the driver's packing of parameters and unpacking of rows included), and whether the driver's compiled
  codec was used;
- the goals of issue 18: Neo4j's write stage at most 5x the embedded store's, cold start at most 2 s;
- queries: each method's Recall@k and latency p50/p95 per store, and the share of questions whose top 10
  is the same passages in the same order on both stores.
Writes bench/results/neo4j.json (and .md).

Usage: python bench/neo4j.py [--uri bolt://localhost:7687] [--limit N] [--questions N] [--methods "dense;bm25"]
                             [--extractor spacy] [--fresh]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path


def bench_folder_last() -> None:
    """Put this file's folder last on the import path, so ``import neo4j`` finds the driver, not this file.

    Run as a script, this folder comes first on ``sys.path``, and this file is named neo4j.py. It must
    stay on the path, though (after the installed packages): the spaCy parser's helper processes are
    spawned, and each one runs this file's imports again, ``twowiki`` among them, with the path it is given.
    """
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here] + [str(here)]


bench_folder_last()

from twowiki import DATA, RESULTS, load_questions, run_method  # noqa: E402

import hippo  # noqa: E402
from hippo.eval import machine_info, write_results  # noqa: E402
from hippo.stores import neo4j_cypher  # noqa: E402
from hippo.stores.neo4j import drop_store  # noqa: E402
from hippo.stores.neo4j_connection import Neo4jConnection, has_rust_extension  # noqa: E402
from hippo.stores.neo4j_target import neo4j_target  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "bench" / "neo4j"
CORPUS = DATA / "2wikimultihopqa_corpus.json"
METHODS = "dense;bm25;hipporag;memgas"
WRITE_GOAL = 5.0
"""Neo4j's write stage at most this many times the embedded store's (issue 18)."""
COLD_START_GOAL = 2.0
"""Seconds for Neo4j's first read of the graph and the vectors at 1,000 records (issue 18)."""
PROFILE_TOP = 12


def server_agent(uri: str) -> str:
    """The server's version, or :class:`hippo.HippoError` saying why it cannot be reached."""
    conn = Neo4jConnection.connect(neo4j_target(uri))
    try:
        return conn.server_agent()
    finally:
        conn.close()


def corpus_file(limit: int) -> Path:
    """The corpus, or its first ``limit`` records written beside the scratch stores."""
    if not limit:
        return CORPUS
    WORK.mkdir(parents=True, exist_ok=True)
    subset = WORK / f"corpus-{limit}.json"
    subset.write_text(json.dumps(json.loads(CORPUS.read_text())[:limit], ensure_ascii=False))
    return subset


def profiled(kg: hippo.KnowledgeGraph) -> dict | None:
    """Start timing the Neo4j statements of ``kg``'s store; the dict fills as they run (None for a folder)."""
    connection = getattr(kg.store, "connection", None)
    if connection is None:
        return None
    connection.profile = {}
    return connection.profile


def profile_summary(profile: dict | None) -> dict:
    """The statements that took longest: name -> seconds and count (the driver's packing included)."""
    if not profile:
        return {}
    names = neo4j_cypher.statement_names()
    top = sorted(profile.items(), key=lambda item: -item[1][0])[:PROFILE_TOP]
    return {names.get(text, " ".join(text.split())[:60]): {"seconds": round(spent, 3), "statements": count}
            for text, (spent, count) in top}


def timed_index(location: str, corpus: Path, extractor: str) -> dict:
    """Index ``corpus`` into a fresh store at ``location`` with the models loaded and the vector cache empty."""
    with hippo.open(location, extractor=extractor, fact_filter=False) as kg:
        kg.embedder().encode(["warm up"])
        kg.embedder().clear_cache()
        profile = profiled(kg)
        started = time.perf_counter()
        report = kg.index(corpus)
        seconds = time.perf_counter() - started
        passages = kg.stats()["counts"]["passages"]
    write = report.stage_seconds.get("write", 0.0)
    return {
        **({"statements": profile_summary(profile)} if profile is not None else {}),
        "seconds": round(seconds, 1),
        "passages": passages,
        "passages_per_s": round(passages / seconds, 1),
        "write_seconds": round(write, 2),
        "write_passages_per_s": round(passages / write, 1) if write else None,
        "stage_seconds": {k: round(v, 2) for k, v in report.stage_seconds.items()},
    }


def timed_copy(source: str, uri: str) -> dict:
    """Copy the embedded store into the (emptied) Neo4j database: pure store writes."""
    drop_store(uri)
    with hippo.open(source, create=False) as kg:
        report = kg.copy_to(uri)
    records = sum(report.counts().values())
    return {
        "seconds": round(report.seconds, 1),
        "records": records,
        "records_per_s": round(records / report.seconds, 1),
        "stage_seconds": report.stage_seconds,
    }


def query_runs(
    location: str, methods: list[str], recall_qs: list[dict], all_gold_qs: list[dict]
) -> tuple[float, dict, dict, dict]:
    """(cold-start seconds, scores by method, top-10 passage ids by method, cold start's statements) for
    the store at ``location``."""
    with hippo.open(location, create=False) as kg:
        profile = profiled(kg)
        started = time.perf_counter()
        kg.graph_state()  # graph edges and vector matrices, read once per store version
        cold = time.perf_counter() - started
        statements = profile_summary(profile)
        if profile is not None:
            kg.store.connection.profile = None
        scores = {m: run_method(kg, m, recall_qs, all_gold_qs) for m in methods}
        tops = {
            m: [
                [h.passage_id for h in hits]
                for hits in kg.retrieve_many([q["question"] for q in recall_qs], k=10, method=m)
            ]
            for m in methods
        }
    return cold, scores, tops, statements


def preconditions(args: argparse.Namespace) -> tuple[str | None, str]:
    """(the reason the benchmark cannot run or None, the server's version)."""
    if not args.uri:
        return (
            "no Neo4j server to benchmark: give --uri or set HIPPO_NEO4J_URI (and HIPPO_NEO4J_PASSWORD); "
            "`docker compose up -d neo4j` starts one."
        ), ""
    try:
        agent = server_agent(args.uri)
    except hippo.HippoError as exc:
        return f"no Neo4j server to benchmark: {exc}", ""
    if not CORPUS.exists():
        return f"2WikiMultihopQA data not found at {DATA}; it lives in ../shared/data.", agent
    try:
        hippo.open(args.uri, create=False).close()
    except hippo.StoreError:
        return None, agent  # no store there yet
    if not args.fresh:
        return f"{args.uri} already holds a hippo store; pass --fresh to replace it.", agent
    return None, agent


def goals(ingest: dict, cold: dict) -> dict:
    """Issue 18's goals, each with the measured figure: write stage vs the embedded store's, cold start."""
    ratio = ingest["neo4j"]["write_seconds"] / max(ingest["sqlite"]["write_seconds"], 1e-9)
    return {
        "write_stage_ratio": round(ratio, 2),
        f"write_stage_at_most_{WRITE_GOAL:g}x_sqlite": ratio <= WRITE_GOAL,
        "cold_start_seconds": round(cold["neo4j"], 2),
        f"cold_start_at_most_{COLD_START_GOAL:g}_s": cold["neo4j"] <= COLD_START_GOAL,
    }


def measure(args: argparse.Namespace, agent: str) -> Path:
    """Run every measurement and write the results; return the JSON path."""
    corpus = corpus_file(args.limit)
    titles = {r["title"] for r in json.loads(corpus.read_text())}
    recall_qs, all_gold_qs = load_questions(titles)
    all_gold_qs = [q for q in all_gold_qs if q["gold"] <= titles]
    if args.questions:
        recall_qs = recall_qs[: args.questions]
    methods = [m for m in args.methods.split(";") if m]
    sqlite_dir = WORK / "sqlite"
    shutil.rmtree(sqlite_dir, ignore_errors=True)

    ingest = {"sqlite": timed_index(str(sqlite_dir), corpus, args.extractor)}
    copy = timed_copy(str(sqlite_dir), args.uri)
    drop_store(args.uri)
    ingest["neo4j"] = timed_index(args.uri, corpus, args.extractor)
    results, cold, tops, cold_statements = {}, {}, {}, {}
    for name, location in (("sqlite", str(sqlite_dir)), ("neo4j", args.uri)):
        cold[name], scores, tops[name], cold_statements[name] = query_runs(location, methods, recall_qs, all_gold_qs)
        results.update({f"{name}:{m}": values for m, values in scores.items()})
    for m in methods:
        same = sum(a == b for a, b in zip(tops["sqlite"][m], tops["neo4j"][m]))
        results[f"neo4j:{m}"]["same_top10_share"] = round(same / len(recall_qs), 4)
    facts = {
        "server": agent,
        "corpus_records": len(titles),
        "recall_questions": len(recall_qs),
        "all_gold_questions": len(all_gold_qs),
        "ingest": ingest,
        "copy_sqlite_to_neo4j": copy,
        "cold_start_seconds": {k: round(v, 2) for k, v in cold.items()},
        "cold_start_statements": cold_statements["neo4j"],
        "driver_codec": "rust" if has_rust_extension() else "python",
        "goals": goals(ingest, cold),
        "extractor": args.extractor,
        "machine": machine_info(),
    }
    notes = (
        "Rows are store:method. Ingest is `hippo index` of the same corpus into each store; copy is "
        "`hippo export --to` of the embedded store into Neo4j. Produced by bench/neo4j.py."
    )
    return write_results(RESULTS, "neo4j", results, facts, notes=notes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--uri", default=os.environ.get("HIPPO_NEO4J_URI", ""), help="Neo4j URI (default $HIPPO_NEO4J_URI)"
    )
    parser.add_argument("--limit", type=int, default=0, help="only the first N corpus records (quick runs)")
    parser.add_argument("--questions", type=int, default=0, help="only the first N recall questions")
    parser.add_argument("--methods", default=METHODS, help="';'-separated retrieval methods")
    parser.add_argument("--extractor", default="spacy", help="fact extractor used at indexing")
    parser.add_argument("--fresh", action="store_true", help="drop the hippo store already in the Neo4j database")
    args = parser.parse_args()
    reason, agent = preconditions(args)
    if reason:
        print(f"{reason}\nNothing was measured or written.", file=sys.stderr)
        return 2
    try:
        path = measure(args, agent)
    except hippo.HippoError as exc:
        print(f"benchmark stopped: {exc}\nNo results were written.", file=sys.stderr)
        return 1
    print(path.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

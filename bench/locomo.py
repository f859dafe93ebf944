"""LoCoMo session and turn retrieval: dense at each memory granularity, bm25, hipporag and memgas, in one run.

Reads ../shared/data/locomo/<id>.json (10 conversations, 272 sessions, 5,882 turns, 1,986 questions).
Each conversation is indexed into its own store, so a question is answered from its own conversation
only (as MemGAS does). Per method and per question category (1 multi-hop, 2 temporal, 3 open-domain,
4 single-hop; "overall" = categories 1-4; category 5, adversarial, reported apart):

- session_recall_any@k / session_recall_all@k (k = 1, 3, 5, 10): any / every gold session in the top k;
- turn_recall@k (k = 5, 10, 20): share of the gold turns in the top k turns (methods that rank turns);
- query latency p50/p95 (each method embeds its own queries), and ingest time by stage.

Gold ids are the ``evidence`` dia_ids, cleaned as MemGAS's digest describes: split on ``[;\\s]+``, zero
padding stripped (``D30:05`` -> ``D30:5``), ids that are malformed or name no turn dropped; questions
left with no gold id are not scored (and counted). Session rankings: ``dense-<granularity>`` ranks the
units of that granularity (``kg.units``; for ``dense-turn`` the turn units, read after the utterance
before them, ranked turns give the turn ranking and sessions come by their best turn); ``dense`` (the
single-utterance passages), bm25 and hipporag rank sessions by their first turn in the top 50 turns;
memgas by its walk (``kg.sessions``).

Usage: python bench/locomo.py [--conversations 26,30] [--methods memgas,...] [--set NAME]
                              [--extractor spacy|none] [--fresh] [--setting name=value ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import hippo
from hippo.eval import machine_info, percentile_ms, recall_at_k, write_results
from hippo.eval.results import markdown_table

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "locomo"
RESULTS = ROOT / "bench" / "results"
SESSION_KS = (1, 3, 5, 10)
TURN_KS = (5, 10, 20)
TURNS_RETRIEVED = 50
GRANULARITY = {"dense-session": "document", "dense-turn": "passage", "dense-summary": "summary",
               "dense-keywords": "keywords"}
METHODS = ("dense", "dense-session", "dense-turn", "dense-summary", "dense-keywords", "bm25", "hipporag", "memgas")
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
_ID = re.compile(r"D(\d+):(\d+)")


def clean_evidence(evidence: list[Any], turns: set[str]) -> set[str]:
    """Gold dia_ids: split on ``[;\\s]+``, zero padding stripped, malformed or unknown ids dropped.

    >>> sorted(clean_evidence(["D8:6; D9:17", "D", "D:11:26", "D30:05"], {"D8:6", "D9:17", "D30:5"}))
    ['D30:5', 'D8:6', 'D9:17']
    """
    out = set()
    for item in evidence:
        for token in re.split(r"[;\s]+", str(item)):
            match = _ID.fullmatch(token.strip())
            if match:
                key = f"D{int(match.group(1))}:{int(match.group(2))}"
                if key in turns:
                    out.add(key)
    return out


def session_of(turn: str) -> int:
    return int(turn[1:].split(":")[0])


def rankings(kg: hippo.KnowledgeGraph, method: str, question: str, session_no: dict[str, int],
             turn_key: dict[str, str]) -> tuple[list[int], list[str] | None]:
    """(sessions best first, turns best first or None) for one question."""
    if method == "dense-turn":
        units = kg.units(question, k=TURNS_RETRIEVED, granularity="passage")
        return (list(dict.fromkeys(session_no[u.doc_id] for u, _ in units)),
                [turn_key[u.passage_id] for u, _ in units if u.passage_id])
    if method in GRANULARITY:
        units = kg.units(question, k=len(session_no), granularity=GRANULARITY[method])
        return list(dict.fromkeys(session_no[u.doc_id] for u, _ in units)), None
    hits = kg.retrieve(question, k=TURNS_RETRIEVED, method=method)
    turns = [h.key for h in hits]
    if method == "memgas":
        sessions = [session_no[d.id] for d, _ in kg.sessions(question, k=len(session_no))]
    else:
        sessions = list(dict.fromkeys(session_no[h.doc_id] for h in hits))
    return sessions, turns


def score(sessions: list[int], turns: list[str] | None, gold: set[str]) -> dict[str, float]:
    gold_sessions = {session_of(t) for t in gold}
    out = {}
    for k in SESSION_KS:
        top = set(sessions[:k])
        out[f"session_recall_any@{k}"] = float(bool(top & gold_sessions))
        out[f"session_recall_all@{k}"] = float(gold_sessions <= top)
    if turns is not None:
        for k in TURN_KS:
            out[f"turn_recall@{k}"] = recall_at_k(turns, gold, k)
    return out


def index_conversation(path: Path, store: Path, args: argparse.Namespace) -> tuple[hippo.KnowledgeGraph, dict]:
    if args.fresh:
        shutil.rmtree(store, ignore_errors=True)
    kg = hippo.open(store, extractor=args.extractor, **{"fact_filter": False, **args.settings})
    report = kg.index(path)
    return kg, {"seconds": report.seconds, "stages": report.stage_seconds, "fresh": report.files_read == 1,
                "cpu": report.cpu_seconds, "stages_cpu": report.stage_cpu_seconds, "load": os.getloadavg()}


def _setting(text: str) -> tuple[str, Any]:
    name, _, value = text.partition("=")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--conversations", default="", help="comma-separated ids (default: all ten)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated method names")
    parser.add_argument("--store-root", default=str(ROOT / "build" / "bench" / "locomo"), help="one store per id")
    parser.add_argument("--extractor", default="spacy", help="fact extractor at indexing (hipporag needs facts)")
    parser.add_argument("--fresh", action="store_true", help="re-index from scratch (needed for ingest times)")
    parser.add_argument("--set", default="locomo", help="results name (bench/results/<set>.json)")
    parser.add_argument("--results", default=str(RESULTS), help="folder for the results")
    parser.add_argument("--setting", action="append", default=[], help="name=value store setting override")
    args = parser.parse_args()
    args.settings = dict(_setting(s) for s in args.setting)
    if not DATA.exists():
        print(f"LoCoMo data not found at {DATA}; it lives in ../shared/data.", file=sys.stderr)
        return 2
    if args.extractor == "spacy":
        from hippo.ingest.extract.spacy import DEFAULT_MODEL

        if not DEFAULT_MODEL.exists():
            print(f"the spaCy pipeline is missing at {DEFAULT_MODEL}; indexing without facts (hipporag = dense).",
                  file=sys.stderr)
            args.extractor = "none"
    ids = args.conversations.split(",") if args.conversations else sorted(p.stem for p in DATA.glob("*.json"))
    methods = args.methods.split(",")
    per_question: dict[str, list[tuple[int, dict[str, float]]]] = {m: [] for m in methods}
    latency: dict[str, list[float]] = {m: [] for m in methods}
    session_latency: list[float] = []
    ingest = {"seconds": 0.0, "stages": {}, "fresh": True, "cpu": 0.0, "stages_cpu": {}, "load": []}
    counts_total: dict[str, int] = {}
    unscored = 0
    for conv in ids:
        path = DATA / f"{conv}.json"
        raw = json.loads(path.read_text())
        kg, report = index_conversation(path, Path(args.store_root) / conv, args)
        with kg:
            ingest["seconds"] += report["seconds"]
            ingest["fresh"] &= report["fresh"]
            ingest["cpu"] += report["cpu"]
            ingest["load"].append(report["load"][0])
            for key in ("stages", "stages_cpu"):
                for stage, seconds in report[key].items():
                    ingest[key][stage] = ingest[key].get(stage, 0.0) + seconds
            for name, value in kg.stats()["counts"].items():
                counts_total[name] = counts_total.get(name, 0) + value
            session_no = {s.document.id: int(s.document.metadata["session"]) for s in kg.documents()}
            turn_key = {p.passage_id: p.key for p in kg.store.iter_passages()}
            turns = {key for k, v in raw.items() if re.fullmatch(r"session_\d+", k) for key in
                     (t.get("dia_id") for t in v) if key}
            questions = []
            for qa in raw["qa"]:
                gold = clean_evidence(qa.get("evidence", []), turns)
                if gold:
                    questions.append((qa["question"], int(qa["category"]), gold))
                else:
                    unscored += 1
            for method in methods:
                kg.embedder().clear_cache()
                rankings(kg, method, questions[0][0], session_no, turn_key)  # warm the caches (matrices, indexes)
                kg.embedder().clear_cache()
                for question, category, gold in questions:
                    started = time.perf_counter()
                    sessions, ranked_turns = rankings(kg, method, question, session_no, turn_key)
                    latency[method].append(time.perf_counter() - started)
                    per_question[method].append((category, score(sessions, ranked_turns, gold)))
            if "memgas" in methods:
                kg.embedder().clear_cache()
                for question, _, _ in questions[:50]:
                    started = time.perf_counter()
                    kg.sessions(question, k=10)
                    session_latency.append(time.perf_counter() - started)
        print(f"conversation {conv}: {len(questions)} questions", file=sys.stderr)

    def average(method: str, categories: set[int]) -> dict[str, float]:
        rows = [s for c, s in per_question[method] if c in categories]
        if not rows:
            return {}
        return {name: round(statistics.fmean(r[name] for r in rows), 4) for name in rows[0]}

    overall = {m: {**average(m, {1, 2, 3, 4}), "latency_ms_p50": round(percentile_ms(latency[m], 50), 2),
                   "latency_ms_p95": round(percentile_ms(latency[m], 95), 2)} for m in methods}
    if session_latency:
        overall["memgas"]["sessions_latency_ms_p50"] = round(percentile_ms(session_latency, 50), 2)
    by_category = {f"{c} {name}": {m: average(m, {c}) for m in methods} for c, name in CATEGORIES.items()}
    n_questions = {f"{c} {name}": sum(1 for cat, _ in per_question[methods[0]] if cat == c)
                   for c, name in CATEGORIES.items()}
    with hippo.open(Path(args.store_root) / ids[0], create=False) as kg:
        settings = kg.settings.to_dict()
    facts = {
        "conversations": len(ids), "questions_scored_1_4": sum(n for k, n in n_questions.items() if k[0] in "1234"),
        "questions_by_category": n_questions, "questions_without_gold": unscored,
        "ingest_seconds": round(ingest["seconds"], 1) if ingest["fresh"] else None,
        "ingest_stage_seconds": {k: round(v, 2) for k, v in ingest["stages"].items()} if ingest["fresh"] else None,
        "ingest_cpu_seconds": round(ingest["cpu"], 1) if ingest["fresh"] else None,
        "ingest_stage_cpu_seconds": ({k: round(v, 2) for k, v in ingest["stages_cpu"].items()}
                                     if ingest["fresh"] else None),
        "ingest_load_average_1min": [round(x, 2) for x in ingest["load"]],
        "store_counts": counts_total, "embed_model": settings["embed_model"], "extractor": settings["extractor"],
        "memgas_settings": {k: settings[k] for k in ("memgas_seeds", "memgas_damping", "memgas_temperature",
                                                        "association_top_n", "memory_summaries")},
        "by_category": by_category, "machine": machine_info(),
    }
    notes = ["Overall = categories 1-4. Per category (5 = adversarial, reported apart):"]
    for name, table in by_category.items():
        shown = {m: {k: v for k, v in values.items() if k in ("session_recall_all@5", "session_recall_any@5",
                                                               "session_recall_all@10", "turn_recall@10")}
                 for m, values in table.items()}
        notes.append(f"\n### category {name} ({n_questions[name]} questions)\n\n{markdown_table(shown)}")
    notes.append("\nProduced by `python bench/locomo.py --fresh`.")
    path = write_results(Path(args.results), args.set, overall, facts, notes="\n".join(notes))
    print(path.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

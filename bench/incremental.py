"""Incremental indexing cost: add the last 10 % of the 2Wiki corpus to a store holding the first 90 %.

Reports ``increment_share`` = (time to index the last 10 % into the 90 % store) / (time of a full
build of 100 %), both with the same extractor and with the models loaded before timing starts.
A store whose per-insert work grew with its size (HippoRAG's all-against-all synonymy) would show
a share well above 10 %; the goal is <= 15 %. Writes bench/results/incremental.json.

Usage: python bench/incremental.py [--extractor spacy] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import hippo
from hippo.eval import machine_info, write_results
from hippo.ingest.extract.base import get_extractor

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "data" / "2wikimultihopqa" / "2wikimultihopqa_corpus.json"
WORK = ROOT / "build" / "bench" / "incremental"


def timed_index(store: Path, files: list[Path], extractor: str) -> tuple[float, hippo.IndexReport]:
    """Seconds to index ``files`` into ``store``, models loaded and the embedding cache emptied first
    (otherwise a later build would reuse an earlier build's vectors and look free)."""
    with hippo.open(store, extractor=extractor, fact_filter=False) as kg:
        kg.embedder().encode(["warm up"])
        kg.embedder().clear_cache()
        started = time.perf_counter()
        report = kg.index(files)
        return time.perf_counter() - started, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--extractor", default="spacy")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N records (quick runs)")
    args = parser.parse_args()
    records = json.loads(CORPUS.read_text())
    if args.limit:
        records = records[: args.limit]
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    cut = int(len(records) * 0.9)
    full, head, tail = WORK / "full.json", WORK / "head.json", WORK / "tail.json"
    full.write_text(json.dumps(records))
    head.write_text(json.dumps(records[:cut]))
    tail.write_text(json.dumps(records[cut:]))
    extractor = get_extractor(hippo.Settings(extractor=args.extractor))
    if extractor is not None:
        extractor.extract(["Warm the parser up."])
    full_s, full_report = timed_index(WORK / "store-full", [full], args.extractor)
    head_s, _ = timed_index(WORK / "store-inc", [head], args.extractor)
    tail_s, tail_report = timed_index(WORK / "store-inc", [tail], args.extractor)
    methods = {args.extractor: {"increment_share": round(tail_s / full_s, 4), "full_build_s": round(full_s, 1),
                                "first_90_s": round(head_s, 1), "last_10_s": round(tail_s, 1)}}
    facts = {"records": len(records), "records_added": len(records) - cut,
             "full_stage_seconds": {k: round(v, 2) for k, v in full_report.stage_seconds.items()},
             "last_10_stage_seconds": {k: round(v, 2) for k, v in tail_report.stage_seconds.items()},
             "machine": machine_info()}
    path = write_results(ROOT / "bench" / "results", "incremental", methods, facts,
                         notes="increment_share = time(last 10 % into a 90 % store) / time(full build). Goal <= 0.15.")
    print(path.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

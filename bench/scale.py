"""Scale benchmark: index time by stage, store size, peak memory and query latency at 10k, 30k and 100k passages.

Each size is a generated corpus (bench/scalecorpus.py: short encyclopedic passages over a seeded world of
people, places, organisations and works, names reused with Zipf-like weights) indexed with the offline
pipeline (extractor ``spacy``, the bundled embedding model) into a fresh store under build/bench/scale-<n>/.
Every size runs in its own subprocess, so its peak RSS (``ru_maxrss``) is its own. Per size:

- index seconds, by pipeline stage (``IndexReport.stage_seconds``), and the CPU seconds of indexing (the
  cores are shared, so wall time moves with other load; CPU time is what the index growth is judged on);
- store size on disk (MiB, after the store is closed), peak RSS of indexing and of the whole run (GiB);
- the seconds to build the query graph (what the first question after an ingest waits for) and its
  undirected entity-entity and passage-entity edges;
- warm query latency p50/p95 of ``dense`` and ``hipporag`` over the generated two-hop questions (one
  warm-up query first; the embedder's cache is cleared before each method so each pays for its own
  query embedding), and their hop recall@10 as a sanity check (a hop counts when a passage stating
  its fact is in the top 10).

Results are merged into bench/results/scale.json after every size, so a partial run keeps real figures;
the top level holds the log-log slope of each figure against corpus size and whether the goals hold at
100k (peak RSS <= 8 GiB, hipporag p50 <= 100 ms, index time growing no faster than linearly).

Usage: python bench/scale.py [--sizes 10000,30000,100000] [--set scale] [--setting memory_units=false ...]
       python bench/scale.py --queries-only   (measure the queries again on the stores built before)
       python bench/scale.py --summarise      (recompute slopes, goals and the extrapolation from the results file)
A size that was not measured is never filled in: when the largest is missing, the file holds an
``extrapolated`` block, labelled as such, projected from the two largest measured sizes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from scalecorpus import generate, write_corpus  # noqa: E402

import hippo  # noqa: E402
from hippo.eval import machine_info, percentile_ms, write_results  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BUILD = ROOT / "build" / "bench"
METHODS = ("dense", "hipporag")
K = 10
GOAL_RSS_GIB = 8.0
GOAL_HIPPORAG_P50_MS = 100.0
LINEAR_TOLERANCE = 0.1
"""Index time 'grows no faster than linearly' when its log-log slope is at most 1 + this (timing noise on a
shared machine)."""
DEFAULT_SETTINGS = {"memory_units": False}
SETTING_REASONS = {
    "memory_units": "MemGAS memory units are off: association scores every new unit against every stored unit "
    "(quadratic by design, as in MemGAS) and embeds a summary and a keyword unit per document; "
    "they serve conversation memory (memgas), which this benchmark does not query.",
}


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process so far: unlike wall time, barely moved by other load on the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1024**2


def corpus_folder(n: int) -> Path:
    """The generated corpus of ``n`` passages (written once; generation is deterministic)."""
    folder = BUILD / f"scale-corpus-{n}"
    if not (folder / "questions.json").exists():
        write_corpus(generate(n), folder)
    return folder


def _time_method(kg: hippo.KnowledgeGraph, method: str, questions: list[dict]) -> dict:
    kg.embedder().clear_cache()
    kg.retrieve("Who founded the first railway company?", k=K, method=method)  # warm caches, outside timing
    latencies, hops, complete = [], 0, 0
    for q in questions:
        started = time.perf_counter()
        hits = kg.retrieve(q["question"], k=K, method=method)
        latencies.append(time.perf_counter() - started)
        found = {h.source.rsplit("#", 1)[-1] for h in hits}
        covered = [bool(found & set(gold)) for gold in q["gold"]]
        hops += sum(covered)
        complete += all(covered)
    return {
        f"{method}_latency_ms_p50": round(percentile_ms(latencies, 50), 2),
        f"{method}_latency_ms_p95": round(percentile_ms(latencies, 95), 2),
        f"{method}_hop_recall@{K}": round(hops / (2 * len(questions)), 4),
        f"{method}_all_hops@{K}": round(complete / len(questions), 4),
    }


def index_size(n: int, store: Path, settings: dict) -> dict:
    """Index the corpus of ``n`` passages into a fresh ``store``: time by stage, size on disk, peak RSS."""
    files = sorted(corpus_folder(n).glob("part-*.json"))
    shutil.rmtree(store, ignore_errors=True)
    started = time.perf_counter()

    def progress(p: object) -> None:
        if p.files_done % 10 == 0 or p.files_done == p.files_total:  # type: ignore[attr-defined]
            print(
                f"  [{n}] {p.files_done}/{p.files_total} files, {p.passages} passages, "  # type: ignore[attr-defined]
                f"{time.perf_counter() - started:.0f} s, rss {_rss_gib():.2f} GiB",
                flush=True,
            )

    cpu_before = _cpu_seconds()
    with hippo.open(store, extractor="spacy", **{"fact_filter": False, **settings}) as kg:
        report = kg.index(files, on_progress=progress)
        counts = kg.stats()["counts"]
    return {
        "passages": counts["passages"],
        "index_s": round(report.seconds, 1),
        "index_cpu_s": round(_cpu_seconds() - cpu_before, 1),
        "index_passages_per_s": round(counts["passages"] / report.seconds, 1),
        "index_stage_seconds": {k: round(v, 1) for k, v in report.stage_seconds.items()},
        "store_mib": round(_folder_mib(store), 1),
        "peak_rss_index_gib": round(_rss_gib(), 3),
        **{k: counts[k] for k in ("entities", "facts", "mentions", "synonyms", "units")},
    }


def measure_queries(n: int, store: Path, settings: dict) -> dict:
    """Warm latency and hop recall of each method on the stored index of ``n`` passages; peak RSS so far.

    ``settings`` apply to this session, so a query-time setting (``synonym_max``, ``synonym_threshold``)
    can be measured again with ``--queries-only`` on the index built before."""
    questions = json.loads((corpus_folder(n) / "questions.json").read_text())
    result: dict = {"questions": len(questions)}
    with hippo.open(store, create=False, **settings) as kg:
        started = time.perf_counter()
        graph = kg.graph_state().graph  # what the first question after an ingest waits for
        result["graph_build_s"] = round(time.perf_counter() - started, 1)
        result.update({f"graph_{kind}_edges": count for kind, count in graph.edge_counts().items()})
        for method in METHODS:
            result.update(_time_method(kg, method, questions))
    result["peak_rss_query_gib"] = round(_rss_gib(), 3)
    return result


def run_one(n: int, store: Path, settings: dict, queries_only: bool) -> dict:
    """One size in this (fresh) process: index then query, or only query an index built before."""
    result = {} if queries_only else index_size(n, store, settings)
    result.update(measure_queries(n, store, settings))
    return result


def _slope(xs: list[float], ys: list[float]) -> float | None:
    """Log-log slope between the first and last point (None without two positive points)."""
    points = [(x, y) for x, y in zip(xs, ys) if x and y and y > 0]
    if len(points) < 2:
        return None
    (x0, y0), (x1, y1) = points[0], points[-1]
    return round(math.log(y1 / y0) / math.log(x1 / x0), 3)


SLOPE_FIGURES = (
    "index_s",
    "index_cpu_s",
    "store_mib",
    "peak_rss_gib",
    "dense_latency_ms_p50",
    "hipporag_latency_ms_p50",
    "entities",
    "facts",
)


def slopes(methods: dict[str, dict]) -> dict:
    """Per figure, the log-log slope against passages between consecutive sizes and over the whole range."""
    runs = sorted(methods.values(), key=lambda r: r["passages"])
    out: dict[str, dict] = {}
    figures = list(SLOPE_FIGURES) + [f"stage:{s}" for s in runs[-1]["index_stage_seconds"]] if runs else []
    for figure in figures:

        def value(run: dict, figure: str = figure) -> float | None:
            if figure.startswith("stage:"):
                return run["index_stage_seconds"].get(figure[6:])
            return run.get(figure)

        per = {}
        for a, b in itertools.pairwise(runs):
            per[f"{a['passages']}-{b['passages']}"] = _slope([a["passages"], b["passages"]], [value(a), value(b)])
        if len(runs) > 2:
            per["overall"] = _slope([r["passages"] for r in runs], [value(r) for r in runs])
        out[figure] = per
    return out


def goals(methods: dict[str, dict], largest: int) -> dict:
    """The issue's goals at ``largest`` passages, or None where that size was not measured.

    Index-time growth is judged on CPU seconds when both of the two largest runs recorded them (wall
    time on a shared machine moves with other people's load), else on wall seconds; both slopes are given.
    """
    run = methods.get(f"scale-{largest}")
    runs = sorted(methods.values(), key=lambda r: r["passages"])
    pair = runs[-2:] if len(runs) >= 2 else []

    def step_slope(figure: str) -> float | None:
        return _slope([r["passages"] for r in pair], [r.get(figure) for r in pair]) if pair else None

    wall, cpu = step_slope("index_s"), step_slope("index_cpu_s")
    judged = cpu if cpu is not None else wall
    return {
        "measured_at": largest if run else None,
        f"peak_rss_le_{GOAL_RSS_GIB:g}_gib": run["peak_rss_gib"] <= GOAL_RSS_GIB if run else None,
        f"hipporag_p50_le_{GOAL_HIPPORAG_P50_MS:g}_ms": (
            run["hipporag_latency_ms_p50"] <= GOAL_HIPPORAG_P50_MS if run else None
        ),
        "index_time_at_most_linear": (judged <= 1 + LINEAR_TOLERANCE if run and judged is not None else None),
        "index_time_judged_on": ("cpu" if cpu is not None else "wall") if judged is not None else None,
        "index_wall_slope_largest_step": wall,
        "index_cpu_slope_largest_step": cpu,
    }


def extrapolate(methods: dict[str, dict], target: int) -> dict | None:
    """Figures at ``target`` passages projected from the two largest measured sizes (a power law through them).

    Only for a size that was not measured; the result says so in its ``label``.
    """
    runs = sorted(methods.values(), key=lambda r: r["passages"])
    if f"scale-{target}" in methods or len(runs) < 2:
        return None
    a, b = runs[-2], runs[-1]
    figures = {f: (a.get(f), b.get(f)) for f in (*SLOPE_FIGURES, "dense_latency_ms_p95", "hipporag_latency_ms_p95")}
    figures.update({f"stage:{k}": (a["index_stage_seconds"].get(k), v) for k, v in b["index_stage_seconds"].items()})
    projected = {}
    for figure, (ya, yb) in figures.items():
        slope = _slope([a["passages"], b["passages"]], [ya, yb])
        if slope is not None:
            projected[figure] = round(yb * (target / b["passages"]) ** slope, 2)
    return {
        "label": f"EXTRAPOLATED, NOT MEASURED: power law through the measured {a['passages']} and "
        f"{b['passages']} passage runs",
        "passages": target,
        **projected,
    }


def merge(set_name: str, sizes: list[int], settings: dict, size: int = 0, result: dict | None = None) -> Path:
    """Add one size's result (if given) to bench/results/<set>.json; recompute slopes, goals, extrapolation."""
    path = RESULTS / f"{set_name}.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    methods = {k: v for k, v in old.get("methods", {}).items() if int(k.split("-")[1]) in sizes}
    if result is not None:
        methods[f"scale-{size}"] = result
    methods = dict(sorted(methods.items(), key=lambda kv: kv[1]["passages"]))
    facts = {
        "sizes": sizes,
        "extractor": "spacy",
        "embed_model": hippo.Settings().embed_model,
        "settings_overrides": settings,
        "settings_reasons": {k: SETTING_REASONS[k] for k in settings if k in SETTING_REASONS},
        "query_k": K,
        "slopes": slopes(methods),
        "goals": goals(methods, max(sizes)),
        "machine": machine_info(),
    }
    projected = extrapolate(methods, max(sizes))
    if projected is not None:
        facts["extrapolated"] = projected
    if "notes_runs" in old:
        facts["notes_runs"] = old["notes_runs"]
    return write_results(
        RESULTS,
        set_name,
        methods,
        facts,
        notes="Generated corpus (bench/scalecorpus.py); one fresh process per size. Produced by `make bench-scale`.",
    )


def _previous(set_name: str, size: int) -> dict:
    """The stored result of one size (its index figures, when only the queries are measured again)."""
    path = RESULTS / f"{set_name}.json"
    previous = json.loads(path.read_text())["methods"].get(f"scale-{size}") if path.exists() else None
    if previous is None:
        raise SystemExit(f"--queries-only: no index figures for scale-{size} in {path}; index it first.")
    return previous


def _parse_settings(pairs: list[str]) -> dict:
    settings = dict(DEFAULT_SETTINGS)
    for pair in pairs:
        key, _, value = pair.partition("=")
        settings[key] = json.loads(value.lower() if value in ("True", "False") else value)
    return settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,30000,100000", help="comma-separated passage counts")
    parser.add_argument("--run", default="", help="run only these of --sizes (the others' results are kept)")
    parser.add_argument("--set", default="scale", help="results name: bench/results/<set>.json and .md")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        help="a store setting for the run, NAME=JSON (default: memory_units=false)",
    )
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="re-measure query latency on the stores a previous run built (index figures are kept)",
    )
    parser.add_argument(
        "--summarise",
        action="store_true",
        help="only recompute slopes, goals and the extrapolation from the results file",
    )
    parser.add_argument("--one", type=int, default=0, help=argparse.SUPPRESS)  # the per-size child process
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    settings = _parse_settings(args.setting)
    if args.one:
        result = run_one(args.one, BUILD / f"scale-{args.one}", settings, args.queries_only)
        Path(args.out).write_text(json.dumps(result))
        return 0
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.summarise:
        print(merge(args.set, sizes, settings).with_suffix(".md").read_text())
        return 0
    for size in sorted(int(s) for s in args.run.split(",")) if args.run else sizes:
        corpus_folder(size)
        out = BUILD / f"scale-{size}.result.json"
        out.unlink(missing_ok=True)
        print(f"scale-{size}: {'querying' if args.queries_only else 'indexing'} (settings {settings})", flush=True)
        command = [sys.executable, __file__, "--one", str(size), "--out", str(out), "--set", args.set]
        command += [f"--setting={pair}" for pair in args.setting] + (["--queries-only"] if args.queries_only else [])
        if subprocess.run(command, check=False).returncode != 0 or not out.exists():
            print(f"scale-{size}: the run failed; results so far are in {RESULTS / args.set}.json", file=sys.stderr)
            return 1
        result = json.loads(out.read_text())
        if args.queries_only:
            result = {**_previous(args.set, size), **result}
        result["peak_rss_gib"] = max(result.get("peak_rss_index_gib", 0.0), result["peak_rss_query_gib"])
        path = merge(args.set, sizes, settings, size, result)
        print(f"scale-{size}: {json.dumps(result)}\n  -> {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What bfloat16 products buy: float32 against ``embed_precision="auto"`` on this CPU, per kind of text.

Embeds seeded samples of 2Wiki's entity names, fact texts and passages (``bench/embed_batching.py``'s
:func:`samples`; the names and facts come from an indexed 2Wiki store, ``bench/twowiki.py`` builds one at
build/bench/2wiki) on one thread, with hippo's batching, in float32 and under ``"auto"``, the two
interleaved within each round: all-MiniLM-L6-v2 for every kind (the entity model of the default split
model, and the whole of a MiniLM store) and multilingual-e5-small for passages (the default's passage model).

Reports per model and kind the median seconds of each precision, their ratio, and the smallest cosine
between a text's two vectors (the bound a runtime change must keep is 1e-4 from 1: ``tests/test_embed.py``).
On a CPU without hardware bfloat16 ``"auto"`` is float32 and the ratio is 1. Writes
bench/results/embed-precision.json and .md.

Usage: python bench/embed_precision.py [--store build/bench/2wiki] [--texts 3000] [--passages 300]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from hippo.embed import load_backend
from hippo.embed_batches import bf16_matmuls
from hippo.eval import machine_info, write_results

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from embed_batching import sample_arguments, samples  # noqa: E402

RESULTS = ROOT / "bench" / "results"
RUNS = (("all-MiniLM-L6-v2", ("entity names", "fact texts", "passages")), ("multilingual-e5-small", ("passages",)))


def measure(model: str, texts: list[str], rounds: int) -> dict[str, float]:
    """Median seconds in float32 and under "auto", their ratio and the worst cosine between the two."""
    backends = {precision: load_backend(model, 64, 1, precision) for precision in ("float32", "auto")}
    seconds: dict[str, list[float]] = {precision: [] for precision in backends}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(rounds):
        for precision, backend in backends.items():
            started = time.perf_counter()
            vectors[precision] = backend.encode_here(texts, "passage", 1)
            seconds[precision].append(time.perf_counter() - started)
    f32, auto = (statistics.median(seconds[p]) for p in backends)
    cosines = np.einsum("ij,ij->i", vectors["float32"], vectors["auto"])
    return {"texts": len(texts), "float32_s": round(f32, 2), "auto_s": round(auto, 2), "speedup": round(f32 / auto, 2),
            "min_cosine": round(float(cosines.min()), 6), "median_cosine": round(float(np.median(cosines)), 7)}


def main() -> int:
    args = sample_arguments(__doc__.splitlines()[0])
    texts = samples(Path(args.store), args.texts, args.passages)
    methods: dict[str, dict[str, float]] = {}
    for model, kinds in RUNS:
        for kind in kinds:
            methods[f"{model} {kind}"] = measure(model, texts[kind], args.rounds)
            print(model, kind, methods[f"{model} {kind}"], flush=True)
    write_results(RESULTS, "embed-precision", methods,
                  {"threads": 1, "rounds": args.rounds, "hardware_bfloat16": bf16_matmuls(), "machine": machine_info()},
                  notes="Median seconds of the rounds, float32 and auto interleaved within each round; one thread. "
                        "Produced by `python bench/embed_precision.py`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

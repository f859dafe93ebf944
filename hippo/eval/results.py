"""Benchmark results: one JSON shape for every set, plus a markdown table for the README.

``bench/results/<set>.json`` = ``{"set": ..., "methods": {"<method>": {"<metric>": number}}, ...}``
with run facts (corpus size, questions, index seconds, machine) as top-level fields.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["write_results", "machine_info", "markdown_table"]


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    import numpy

    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "numpy": numpy.__version__, "processor": platform.processor() or platform.machine()}


def markdown_table(methods: dict[str, dict[str, float]]) -> str:
    """Methods as rows, metrics as columns (in first-seen order)."""
    metrics: list[str] = []
    for values in methods.values():
        metrics.extend(m for m in values if m not in metrics)
    lines = ["| method | " + " | ".join(metrics) + " |", "|---" * (len(metrics) + 1) + "|"]
    for name, values in methods.items():
        cells = [_fmt(values.get(m)) for m in metrics]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def write_results(folder: Path, set_name: str, methods: dict[str, dict[str, float]], facts: dict[str, Any],
                  notes: str = "") -> Path:
    """Write ``<folder>/<set_name>.json`` and ``.md``; return the JSON path."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {"set": set_name, "methods": methods, **facts}
    path = folder / f"{set_name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    fact_lines = "\n".join(f"- {k}: {v}" for k, v in facts.items() if not isinstance(v, dict))
    (folder / f"{set_name}.md").write_text(
        f"# {set_name}\n\n{markdown_table(methods)}\n\n{fact_lines}\n" + (f"\n{notes}\n" if notes else "")
    )
    return path

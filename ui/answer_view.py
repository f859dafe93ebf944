"""How the Ask page shows an :class:`hippo.Answer`, in the order a reader checks it.

1. the short answer and how it was made (local model, endpoint, or sentences quoted as they are),
   or "Not found in the indexed documents";
2. the chain of facts from the question's entities to the answer, and the graph with that chain
   highlighted;
3. the cited passages, with the sentence the answer used highlighted;
4. the rest of the evidence, each passage with its rank and a bar relative to the top hit (the raw
   score, on a scale that differs by method, on hover), and why it was chosen.

Everything shown comes from the answer or from the facade; document text is escaped, so nothing a
document says is read as markdown or HTML.

The graph picture always sits at the same place in Streamlit's element tree (the parts above it are
wrapped in containers): a picture whose place changed between two answers (a "Reasoning trace" or a
chain appearing above it) was a new frame, and came up blank.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import networkx as nx
import streamlit as st

import hippo
from hippo.ui import common, methods
from hippo.ui.graph import graph_picture, legend

__all__ = ["GRAPH_NODES", "PASSAGE_KEY", "chain_graph", "highlight", "score_bar", "show_answer", "show_trace",
           "used_sentence"]

GRAPH_PASSAGES = 5
GRAPH_NODES = 40
PASSAGE_KEY = "ask_passage"
MODES = {
    "local": (":violet-badge[local model]", "written on this machine by {model}, a small model, from the cited "
                                           "passages; check it against them"),
    "llm": (":blue-badge[endpoint]", "written by {model} (an OpenAI-compatible endpoint) from the cited passages; "
                                     "check it against them"),
    "extractive": (":green-badge[quoted sentences]", "the passages' best-matching sentences, quoted as they are; "
                                                     "no model wrote them, so read them as evidence, not as a reply"),
}


def show_answer(kg: hippo.KnowledgeGraph, answer: hippo.Answer, method: str, k: int) -> None:
    """The whole answer, in reading order (see the module docstring)."""
    with st.container():  # one element whatever it holds, so the graph below keeps its place in the page
        show_short_answer(answer, method, k)
        show_chain(answer)
    with st.container(), common.errors_shown():
        show_answer_graph(kg, answer)
    cited = show_cited(answer)
    show_evidence(answer, method, skip=cited)
    show_trace(answer.hits)


def show_short_answer(answer: hippo.Answer, method: str, k: int) -> None:
    st.subheader("Answer")
    st.markdown(f"**Q:** {common.escape_md(answer.question)}")
    if not answer.found:
        st.warning("**Not found in the indexed documents.** No passage states the answer; the best passages "
                   "are still shown below.", icon=":material/search_off:")
    else:
        with st.container(border=True):  # a model's answer is a few words; quoted sentences are read as text
            st.markdown(("#### " if answer.mode != "extractive" else "") + common.escape_md(answer.text))
    badge, words = MODES.get(answer.mode, (f":gray-badge[{answer.mode}]", "{model}"))
    model = f"`{answer.model}`" if answer.model else "the model"
    st.markdown(f"{badge} {words.format(model=model)} · method {methods.label(method)} · top {k}")
    for note in answer.notes:
        st.caption(f":orange[note] {common.escape_md(note)}")


def show_chain(answer: hippo.Answer) -> None:
    """The facts that join the question's entities to the answer, one per line, with their passages."""
    if not answer.chain:
        if answer.found and answer.mode != "extractive":
            st.caption("No chain of facts in the graph joins the question's entities to this answer.")
        return
    st.subheader("How the answer follows")
    lines = []
    for n, step in enumerate(answer.chain, start=1):
        where = ", ".join(f"`{p}`" for p in step.passage_ids)
        lines.append(f"{n}. **{common.escape_md(step.subject)}** — {common.escape_md(step.predicate)} → "
                     f"**{common.escape_md(step.object)}**" + (f"  ·  {where}" if where else ""))
    st.markdown("\n".join(lines))


def chain_graph(kg: hippo.KnowledgeGraph, answer: hippo.Answer
                ) -> tuple[nx.Graph, set[str], list[tuple[str, str]]]:
    """The subgraph behind ``answer``, the nodes to highlight, and the chain's edges.

    Around the chain's entities and passages, the cited passages and the seed entities and top
    passages of the hits, at most :data:`GRAPH_NODES` nodes. Chain entities the graph does not know
    (a model may word a name differently) are left out rather than failing the picture.
    """
    ids = {name: common.find_entity_id(kg, name) for step in answer.chain for name in (step.subject, step.object)}
    path = [(ids[s.subject], ids[s.object]) for s in answer.chain if ids[s.subject] and ids[s.object]]
    chain_passages = [p for step in answer.chain for p in step.passage_ids]
    cited = [s.passage_id for s in answer.sources]
    top = [h.passage_id for h in answer.hits[:GRAPH_PASSAGES]]
    seeds = [name for h in answer.hits for name in h.why.seed_entities]
    seed_ids = [i for i in (common.find_entity_id(kg, name) for name in dict.fromkeys(seeds)) if i]
    chain_ids = [i for i in ids.values() if i]
    refs = list(dict.fromkeys(chain_ids + chain_passages + cited + seed_ids + top))
    picture = kg.subgraph(refs, depth=1, max_nodes=max(GRAPH_NODES, len(refs)))
    focus = set(chain_ids) | set(chain_passages) | set(cited) if answer.chain else set(seed_ids) | set(top)
    return picture, focus & set(picture), path


def show_answer_graph(kg: hippo.KnowledgeGraph, answer: hippo.Answer) -> None:
    """The graph around the answer, its chain highlighted; a click opens an entity or shows a passage."""
    st.subheader("The chain in the graph" if answer.chain else "Graph behind the answer")
    if not kg.stats()["counts"].get("entities"):
        st.info("No graph to draw: this store has no entities, because its documents were indexed without fact "
                "extraction. Passages are still found by meaning and keywords.")
        return
    picture, focus, path = chain_graph(kg, answer)
    clicked = graph_picture(picture, key="answer-graph", focus=focus, path=path)
    marked = ":red[━] chain of facts · :red[●] its entities and passages" if answer.chain else \
        ":red[●] seed entities and top passages"
    st.caption(legend(picture) + " · " + marked)
    if clicked and picture.nodes[clicked].get("kind") == "entity":
        common.open_entity(picture.nodes[clicked]["label"])  # the name, as the URL shows it
    if clicked:
        st.session_state[PASSAGE_KEY] = clicked
    shown = st.session_state.get(PASSAGE_KEY)
    if shown in picture and picture.nodes[shown].get("kind") == "passage":
        with st.container(border=True):
            st.markdown(f"**{common.escape_md(picture.nodes[shown]['label'])}** `{shown}`")
            st.markdown(common.escape_md(picture.nodes[shown].get("text", "")))


def highlight(text: str, sentence: str) -> str:
    """``text`` as escaped markdown with ``sentence`` marked; unmarked when the sentence is not in it.

    Whitespace may differ between the passage and the sentence the reader quoted (line breaks are
    folded when sentences are split), so the match allows any run of whitespace between words.

    >>> highlight("Ada was born in Kettleby. She left.", "Ada was born  in Kettleby.")
    ':orange-background[Ada was born in Kettleby\\\\.] She left\\\\.'
    >>> highlight("Ada\\n\\nAda was born.", "Ada Ada was born.")
    ':orange-background[Ada]\\n\\n:orange-background[Ada was born\\\\.]'
    """
    words = sentence.split()
    match = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
    if match is None:
        return common.escape_md(text)
    marked = "\n".join(f":orange-background[{common.escape_md(line)}]" if line.strip() else line
                       for line in match.group(0).split("\n"))  # a mark must not span a paragraph break
    return common.escape_md(text[:match.start()]) + marked + common.escape_md(text[match.end():])


SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
CITATION = re.compile(r"\s*\[\d+\]")


def used_sentence(text: str, answer: hippo.Answer, source: hippo.Source) -> str:
    """The sentence of passage ``text`` to mark: for a model's answer, the first one that states it.

    A model cites whole passages (``Source.sentence`` is then an excerpt of the passage), so the
    sentence holding the answer's words is looked up; quoted answers name their sentence already.

    >>> a = hippo.Answer("Where?", "Kettleby [1]", "local", (), ())
    >>> used_sentence("Ada was a painter. Ada was born in Kettleby. She left.", a, None)
    'Ada was born in Kettleby.'
    """
    short = " ".join(CITATION.sub(" ", answer.text).split()).casefold()
    if answer.mode != "extractive" and short:
        for sentence in SENTENCE_END.split(text):
            if short in " ".join(sentence.split()).casefold():
                return sentence
    return source.sentence if source is not None else ""


def show_cited(answer: hippo.Answer) -> set[str]:
    """The passages the answer cites, numbered as its ``[n]`` marks, the sentence used marked; return their ids."""
    used: dict[str, list[hippo.Source]] = {}
    for source in answer.sources:
        used.setdefault(source.passage_id, []).append(source)
    if not used:
        return set()
    ranks = {h.passage_id: (rank, h) for rank, h in enumerate(answer.hits, start=1)}
    top = answer.hits[0].score if answer.hits else 0.0
    st.subheader(f"Cited passages · {len(used)}")
    for number, (passage_id, sources) in enumerate(used.items(), start=1):
        rank, hit = ranks.get(passage_id, (None, None))
        with st.container(border=True):
            if hit is None:  # cited but not among the hits (should not happen): show the sentences alone
                st.markdown(f"**[{number}]** " + "\n".join(f"> {common.escape_md(s.sentence)}" for s in sources))
                continue
            st.html(score_bar(rank, hit, top, cite=number if answer.mode != "extractive" else None))
            marked = highlight(hit.text, used_sentence(hit.text, answer, sources[0]))
            for source in sources[1:]:
                marked = _highlight_more(marked, source.sentence)
            st.markdown(marked)
            st.caption(f"document `{hit.doc_id}` · passage `{hit.passage_id}` · {common.escape_md(hit.source)}")
            with st.expander("Why this passage was retrieved"):
                show_why(hit, key=f"cited-{rank}")
    return set(used)


def _highlight_more(marked: str, sentence: str) -> str:
    """Mark one more sentence in already escaped and marked text (the escaped forms match)."""
    escaped = common.escape_md(" ".join(sentence.split()))
    return marked.replace(escaped, f":orange-background[{escaped}]", 1) if escaped in marked else marked


def score_bar(rank: int, hit: hippo.Hit, top: float, cite: int | None = None) -> str:
    """One hit's heading as HTML: rank, a bar of its score relative to the top hit, and its title.

    Raw scores are on different scales by method (cosine, BM25, PageRank mass, fused ranks), so the
    bar shows the share of the best hit's score and the raw value is only in the tooltip. ``cite``
    is the answer's ``[n]`` for this passage, shown before the title.

    >>> "width:50%" in score_bar(2, hippo.Hit("p", "d", "t", 0.25, "dense", "Title"), 0.5)
    True
    """
    share = max(0.0, min(1.0, hit.score / top)) if top > 0 else 0.0
    tip = html.escape(f"raw score {hit.score:.4g} · {methods.score_meaning(hit.method)}", quote=True)
    title = (f"[{cite}] " if cite else "") + html.escape(hit.title or hit.doc_id)
    return (f'<div class="hippo-hit" title="{tip}" style="display:flex;align-items:center;gap:10px;'
            f'font-family:sans-serif">'
            f'<b style="min-width:2.2em">#{rank}</b>'
            f'<span style="display:inline-block;width:110px;height:9px;border-radius:5px;background:#e4e6eb">'
            f'<span style="display:block;width:{share:.0%};height:100%;border-radius:5px;background:#1c83e1">'
            f'</span></span><span style="color:#5b6570;font-size:.85em;min-width:7.5em">{share:.0%} of top hit'
            f'</span><b>{title}</b></div>')


def show_why(hit: hippo.Hit, key: str) -> None:
    """What led to one hit: seed entities (click to explore), facts, memory units, probe, fallback."""
    why = hit.why
    if why.seed_entities:
        st.markdown("**Seed entities**")
        with st.container(horizontal=True):
            for i, name in enumerate(why.seed_entities):
                if st.button(common.escape_md(name), key=f"{key}-seed-{i}", icon=":material/hub:", type="tertiary"):
                    common.open_entity(name)
    if why.facts:
        st.markdown("**Facts**\n" + "\n".join(f"- {common.escape_md(f)}" for f in why.facts))
    if why.units:
        st.markdown("**Memory units**\n" + "\n".join(f"- {common.escape_md(u)}" for u in why.units))
    if why.probe:
        st.markdown(f"**Found by probe:** {common.escape_md(why.probe)}")
    if why.fallback:
        st.caption(f":orange[fallback] {common.escape_md(why.fallback)}")
    if not (why.seed_entities or why.facts or why.units or why.probe or why.fallback):
        st.caption(f"Ranked by {methods.label(hit.method)} alone (this method does not use the graph).")


def show_evidence(answer: hippo.Answer, method: str, skip: set[str]) -> None:
    """The hits not cited by the answer, best first, each with its rank, bar, text and reasons."""
    hits = answer.hits
    rest = [(rank, h) for rank, h in enumerate(hits, start=1) if h.passage_id not in skip]
    title = "More evidence" if skip else "Evidence"
    st.subheader(f"{title} · {len(rest)} passage(s)")
    if not hits:
        st.info("No passage was retrieved.")
        return
    st.caption(f"Bars compare each passage with the best one; hover for the raw score "
               f"({methods.score_meaning(method)}).")
    top = hits[0].score
    for rank, hit in rest:
        st.html(score_bar(rank, hit, top))
        with st.expander(f"{hit.title or hit.doc_id} — text and why", expanded=rank <= 3 and not skip):
            st.caption(f"document `{hit.doc_id}` · passage `{hit.passage_id}` · {common.escape_md(hit.source)}")
            st.markdown(common.escape_md(hit.text))
            show_why(hit, key=f"hit-{rank}")


PROBING_METHOD = "comorag"


def show_trace(hits: Sequence[hippo.Hit]) -> None:
    """Cycle by cycle, which probe found which passages (only when the method probes).

    Shown for every probing answer, even when no probe's passage reached the top: that the question alone
    found everything shown is part of how the answer was made.
    """
    if not hits or not (hits[0].method == PROBING_METHOD or any(h.why.probe for h in hits)):
        return
    cycles: dict[str | None, list[tuple[int, hippo.Hit]]] = {}
    for rank, hit in enumerate(hits, start=1):
        cycles.setdefault(hit.why.probe, []).append((rank, hit))
    st.subheader("Reasoning trace")
    ordered = sorted(cycles.items(), key=lambda item: item[0] is not None)  # the question itself first
    for cycle, (probe, found) in enumerate(ordered, start=1):
        asked = common.escape_md(probe) if probe else "the question itself"
        ranks = ", ".join(f"#{rank} {common.escape_md(hit.title or hit.doc_id)}" for rank, hit in found)
        st.markdown(f"**Cycle {cycle}** · probe: {asked}  \n→ {ranks}")
    if list(cycles) == [None]:
        st.caption("No follow-up probe found a passage that ranks among these; `hippo probe` shows every cycle.")

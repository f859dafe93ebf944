"""Ask: a question, a method and k; the answer, its evidence and why each passage was chosen.

The last result is kept in session state, so it stays on screen while the next question is typed.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

import hippo
from hippo.retrieval import METHODS
from hippo.ui import common
from hippo.ui.graph import graph_picture, legend

RESULT_KEY = "ask_result"
PASSAGE_KEY = "ask_passage"
GRAPH_PASSAGES = 5
GRAPH_NODES = 40


def method_help(names: Sequence[str]) -> str:
    """One line per retrieval method, from the first line of its docstring."""
    lines = []
    for name in names:
        doc = (METHODS[name].__doc__ or "").strip().splitlines()
        lines.append(f"- **{name}**: {doc[0]}" if doc else f"- **{name}**")
    return "\n".join(lines)


def ask_form(kg: hippo.KnowledgeGraph) -> None:
    """The question box; a submitted question replaces the kept result."""
    names, default = common.method_choices(kg)
    with st.form("ask"):
        question = st.text_input("Question", key="ask_question",
                                 placeholder="In which village was the founder of the Marren Observatory born?")
        left, right, _ = st.columns([2, 1, 3])
        method = left.selectbox("Method", names, index=default, key="ask_method", help=method_help(names))
        k = right.number_input("Passages (top k)", min_value=1, max_value=50, value=kg.settings.top_k, key="ask_k")
        submitted = st.form_submit_button("Ask", type="primary", icon=":material/search:")
    if not submitted:
        return
    if not question.strip():
        st.warning("Type a question first.")
        return
    with st.spinner("Retrieving and answering…"):
        answer = kg.ask(question.strip(), k=int(k), method=method)
    st.session_state[RESULT_KEY] = {"answer": answer, "method": method, "k": int(k)}
    st.session_state.pop(PASSAGE_KEY, None)


def show_answer(answer: hippo.Answer, method: str, k: int) -> None:
    st.subheader("Answer")
    st.markdown(f"**Q:** {common.escape_md(answer.question)}")
    if answer.mode == "extractive":
        badge = ":green-badge[extractive] quoted from the passages, no LLM"
    else:
        badge = f":violet-badge[LLM] written by the LLM from the passages (mode `{answer.mode}`)"
    st.markdown(f"{badge} · method `{method}` · top {k}")
    if answer.text:
        with st.container(border=True):
            st.markdown(common.escape_md(answer.text))
    else:
        st.warning("No answer: no retrieved passage has a sentence that matches the question.")
    if answer.sources:
        st.markdown("\n".join(
            f"{n}. {common.escape_md(s.sentence)} — *{common.escape_md(s.title or s.doc_id)}* `{s.passage_id}`"
            for n, s in enumerate(answer.sources, start=1)))


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
        st.caption(f"Ranked by `{hit.method}` similarity alone (this method does not use the graph).")


def show_evidence(hits: Sequence[hippo.Hit]) -> None:
    st.subheader(f"Evidence · {len(hits)} passage(s)")
    if not hits:
        st.info("No passage was retrieved.")
    for rank, hit in enumerate(hits, start=1):
        with st.expander(f"{rank}. {hit.title or hit.doc_id} — score {hit.score:.4f}", expanded=rank <= 3):
            st.caption(f"document `{hit.doc_id}` · passage `{hit.passage_id}` · {common.escape_md(hit.source)}")
            st.markdown(common.escape_md(hit.text))
            show_why(hit, key=f"hit-{rank}")


def show_trace(hits: Sequence[hippo.Hit]) -> None:
    """Cycle by cycle, which probe found which passages (only when the method probes)."""
    if not any(h.why.probe for h in hits):
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


def show_answer_graph(kg: hippo.KnowledgeGraph, hits: Sequence[hippo.Hit]) -> None:
    """The subgraph around the answer's seed entities and top passages."""
    st.subheader("Graph behind the answer")
    if not kg.stats()["counts"].get("entities"):
        st.info("No graph to draw: this store has no entities (it was indexed without an extractor). "
                "Index with the spaCy extractor to see the entities and facts behind an answer.")
        return
    seeds = list(dict.fromkeys(name for h in hits for name in h.why.seed_entities))
    top = [h.passage_id for h in hits[:GRAPH_PASSAGES]]
    picture = kg.subgraph(seeds + top, depth=1, max_nodes=GRAPH_NODES)
    focus = set(top) | {n for n, d in picture.nodes(data=True) if d.get("kind") == "entity" and d.get("label") in seeds}
    clicked = graph_picture(picture, key="answer-graph", focus=focus, height=420)
    st.caption(legend(picture) + " · :red[focus] = seed entities and top passages")
    if clicked and picture.nodes[clicked].get("kind") == "entity":
        common.open_entity(clicked)
    if clicked:
        st.session_state[PASSAGE_KEY] = clicked
    shown = st.session_state.get(PASSAGE_KEY)
    if shown in picture and picture.nodes[shown].get("kind") == "passage":
        with st.container(border=True):
            st.markdown(f"**{common.escape_md(picture.nodes[shown]['label'])}** `{shown}`")
            st.markdown(common.escape_md(picture.nodes[shown].get("text", "")))


def render(kg: hippo.KnowledgeGraph) -> None:
    st.title("Ask")
    if not kg.stats()["counts"].get("passages"):
        st.info("The store is empty: add documents on the Documents page (or run `hippo index PATH --store "
                f"{kg.store.location}`), then ask.")
        return
    ask_form(kg)
    result = st.session_state.get(RESULT_KEY)
    if not result:
        st.caption("Answers are quoted from your documents unless an LLM is configured; every passage shows why "
                   "it was chosen.")
        return
    answer = result["answer"]
    show_answer(answer, result["method"], result["k"])
    show_evidence(answer.hits)
    show_trace(answer.hits)
    with common.errors_shown():
        show_answer_graph(kg, answer.hits)


def main() -> None:
    kg = common.graph()
    with common.errors_shown():
        render(kg)


if __name__ == "__main__":  # Streamlit runs a page as __main__
    main()

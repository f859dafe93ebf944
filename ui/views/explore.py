"""Explore: find entities by name; an entity's facts, passages, synonyms and neighbourhood picture.

The entity shown is the one in the URL (``?entity=NAME``): a page can be bookmarked, other pages
open one that way, and every entity opened is a browser history entry, so back and forward move
between them. The last one shown is also kept in the session (``common.ENTITY_KEY``), for coming
back from another page.
"""

from __future__ import annotations

import streamlit as st

import hippo
from hippo.ui import common
from hippo.ui.graph import graph_picture, legend

PASSAGE_KEY = "explore_passage"
SEARCH_RESULTS = 30


def current_entity() -> str | None:
    """The entity to show: the one in the URL, else the last one shown in this session."""
    return st.query_params.get("entity") or st.session_state.get(common.ENTITY_KEY)


def choose(name: str) -> None:
    """Show entity ``name`` (its display name, which the URL shows); a new browser history entry."""
    st.session_state[common.ENTITY_KEY] = name
    st.query_params["entity"] = name
    st.session_state.pop(PASSAGE_KEY, None)


def search(kg: hippo.KnowledgeGraph) -> None:
    """The name search; a click on a result shows that entity."""
    like = st.text_input("Find entities by name", key="explore_like", placeholder="Part of a name",
                         persist_state="session")
    found = kg.entities(like.strip(), limit=SEARCH_RESULTS)
    if like.strip() and not found:
        st.warning(f"No entity name contains “{like.strip()}”.")
        return
    st.caption(f"{len(found)} match(es)" if like.strip() else "Most mentioned entities")
    with st.container(horizontal=True):
        for entity in found:
            if st.button(common.escape_md(entity.display), key=f"find-{entity.id}", help=entity.label or None):
                choose(entity.display)
                st.rerun()


def neighbourhood(kg: hippo.KnowledgeGraph, entity_id: str) -> None:
    """The bounded subgraph around the entity, with its controls."""
    left, middle, right = st.columns([1, 1, 1])
    depth = left.slider("Depth (hops)", min_value=1, max_value=3, value=1, key="explore_depth",
                         persist_state="session")
    max_nodes = middle.number_input("Node cap", min_value=10, max_value=500, value=80, step=10, key="explore_nodes",
                                   persist_state="session")
    passages = right.toggle("Show passages", value=True, key="explore_passages", persist_state="session")
    picture = kg.subgraph([entity_id], depth=depth, max_nodes=int(max_nodes), passages=passages)
    clicked = graph_picture(picture, key="entity-graph", focus={entity_id})
    st.caption(legend(picture))
    if clicked and clicked in picture:
        if picture.nodes[clicked].get("kind") == "entity":
            choose(picture.nodes[clicked]["label"])
            st.rerun()
        st.session_state[PASSAGE_KEY] = clicked
    shown = st.session_state.get(PASSAGE_KEY)
    if shown in picture:
        with st.container(border=True):
            st.markdown(f"**{common.escape_md(picture.nodes[shown]['label'])}** `{shown}`")
            st.markdown(common.escape_md(picture.nodes[shown].get("text", "")))


def entity_page(kg: hippo.KnowledgeGraph, ref: str) -> None:
    entity_id = common.find_entity_id(kg, ref) or ref
    try:
        view = kg.entity(entity_id)
    except hippo.StoreError:
        st.warning(f"No entity called “{common.escape_md(ref)}” in this store. Search for it by name above; the "
                   "most mentioned entities are listed there.", icon=":material/search_off:")
        return
    entity = view.entity
    st.session_state[common.ENTITY_KEY] = entity.display
    if st.query_params.get("entity") != entity.display:
        st.query_params["entity"] = entity.display
    st.header(common.escape_md(entity.display))
    st.caption(" · ".join(x for x in (common.escape_md(entity.label or ""), f"`{entity.id}`") if x))
    counts = st.columns(3)
    counts[0].metric("Facts", len(view.facts))
    counts[1].metric("Passages", len(view.passages))
    counts[2].metric("Synonyms", len(view.synonyms))
    with common.errors_shown():
        neighbourhood(kg, entity.id)
    facts, passages, synonyms, related = st.tabs(["Facts", "Passages", "Synonyms", "Related entities"])
    with facts:
        if view.facts:
            st.dataframe([{"subject": f.subject, "predicate": f.predicate, "object": f.object,
                           "passages": len(f.passage_ids)} for f in view.facts], hide_index=True, width="stretch")
        else:
            st.caption("No facts name this entity.")
    with passages:
        for passage in view.passages:
            with st.expander(passage.title or passage.doc_id):
                st.caption(f"passage `{passage.passage_id}` · {common.escape_md(passage.source)}")
                st.markdown(common.escape_md(passage.text))
        if not view.passages:
            st.caption("No passage mentions this entity.")
    with synonyms:
        with st.container(horizontal=True):
            for other, score in view.synonyms:
                if st.button(f"{common.escape_md(other.display)} ({score:.2f})", key=f"syn-{other.id}"):
                    choose(other.display)
                    st.rerun()
        if not view.synonyms:
            st.caption("No synonyms (entities whose embeddings are at least the synonym threshold apart).")
    with related, common.errors_shown():
        near = kg.neighbors(entity.id, depth=1, limit=40)
        with st.container(horizontal=True):
            for other, _distance in near:
                if st.button(common.escape_md(other.display), key=f"near-{other.id}"):
                    choose(other.display)
                    st.rerun()
        if not near:
            st.caption("No entity is linked to this one by a fact or a synonym.")


def empty_graph_message(extractor: str, passages: int) -> str:
    """Why there is no graph to explore, and the way to one, for a store with no entities."""
    if not passages:
        return "The graph is empty because the store is: add documents on the Documents page, then come back."
    if extractor == "none":
        return ("The graph is empty: this store was created without fact extraction, so its passages are found "
                "by meaning and keywords only. A store created by `hippo index PATH --store NEW_FOLDER` extracts "
                "entities and facts (spaCy, offline) and fills the graph.")
    return (f"The graph is empty: the {passages:,} passage(s) indexed so far name no entity the {extractor} "
            "extractor recognises.")


def render(kg: hippo.KnowledgeGraph) -> None:
    st.title("Explore")
    counts = kg.stats()["counts"]
    if not counts.get("entities"):
        st.info(empty_graph_message(kg.settings.extractor, counts.get("passages", 0)), icon=":material/hub:")
        return
    search(kg)
    ref = current_entity()
    if ref:
        entity_page(kg, ref)
    else:
        st.caption("Pick an entity above, or click a seed entity on the Ask page.")


def main() -> None:
    kg = common.graph()
    with common.errors_shown():
        render(kg)


if __name__ == "__main__":  # Streamlit runs a page as __main__
    main()

"""The graph picture: a bounded ``networkx`` subgraph drawn by vis-network, clickable, offline.

vis-network (MIT/Apache-2.0) ships inside the package (``graph_component/``), and Streamlit
serves that folder itself, so the picture needs no CDN or internet. Nodes are coloured by kind
(entity, passage; the focused ones stand out) and sized by their degree in the whole graph;
fact edges are labelled with their predicates, synonym edges dashed, the edges of an answer's
chain drawn thick in the focus colour.

Node positions come from a seeded spring layout computed here (:func:`layout`), not from physics
in the browser: the same subgraph is drawn the same way on every rerun, and nothing moves after
the picture appears.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import networkx as nx
import streamlit as st
import streamlit.components.v1 as components

__all__ = ["COLOURS", "DEFAULT_HEIGHT", "graph_picture", "layout", "legend", "vis_data"]

COMPONENT_DIR = Path(__file__).resolve().parent / "graph_component"
_draw = components.declare_component("hippo_graph", path=str(COMPONENT_DIR))

COLOURS = {"entity": "#1c83e1", "passage": "#ffa421", "focus": "#e4572e", "edge": "#9aa3ad", "mention": "#d5d9de"}
"""Node and edge colours (close to Streamlit's ``:blue``, ``:orange`` and ``:red`` so the legend matches)."""
LABEL_CHARS = 28
LAYOUT_SEED = 7
DEFAULT_HEIGHT = 560
SPREAD_PX = 50
"""Roughly the pixels between neighbours in :func:`layout` (labels of 16 px stay readable when fitted)."""
ASPECT = 1.6
"""Horizontal stretch of the layout: the picture is wider than high."""
KAMADA_KAWAI_NODES = 120
"""Up to this many nodes the layout is Kamada-Kawai (evenly spread, deterministic); above, a seeded spring layout."""


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def layout(graph: nx.Graph, seed: int = LAYOUT_SEED) -> dict[str, tuple[float, float]]:
    """Pixel positions of the nodes of ``graph``: a spring layout with a fixed seed.

    The same graph (same nodes and edges, in the same order) always gets the same positions, so a
    rerun does not reshuffle the picture. A small connected graph is laid out by Kamada-Kawai,
    which spreads nodes evenly (labels overlap less than in a spring layout); it starts from the
    seeded spring layout, so it is deterministic too. The spread grows with the square root of the node count,
    so the view fitted to 40 nodes is not zoomed out so far that labels become unreadable.
    """
    if graph.number_of_nodes() == 0:
        return {}
    scale = SPREAD_PX * max(graph.number_of_nodes(), 1) ** 0.5
    start = nx.spring_layout(graph, seed=seed, iterations=30)
    if graph.number_of_nodes() <= KAMADA_KAWAI_NODES and nx.is_connected(graph):
        positions = nx.kamada_kawai_layout(graph, pos=start, scale=scale)
    else:
        positions = nx.spring_layout(graph, pos=start, seed=seed, scale=scale, iterations=60)
    return {node: (round(float(x) * ASPECT, 1), round(float(y), 1)) for node, (x, y) in positions.items()}


def vis_data(graph: nx.Graph, focus: Collection[str] = (), path: Collection[tuple[str, str]] = ()
             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The nodes and edges of ``graph`` as vis-network records, placed by :func:`layout`.

    ``focus`` names nodes drawn in the focus colour (the entity shown, or an answer's chain and
    cited passages); ``path`` names edges (either direction) drawn thick in that colour (the chain
    of facts behind an answer). Tooltips are plain text (vis-network does not parse them as HTML).
    """
    positions = layout(graph)
    on_path = {frozenset(pair) for pair in path}
    nodes = []
    for node, data in graph.nodes(data=True):
        kind = data.get("kind", "entity")
        label = data.get("label") or str(node)
        degree = int(data.get("degree", 1))
        if kind == "passage":
            tip = f"passage · {label}\n{_shorten(data.get('text', ''), 300)}"
        else:
            tip = f"entity · {label}" + (f" ({data['ner']})" if data.get("ner") else "") + f"\n{degree} link(s)"
        nodes.append({
            "id": node, "label": _shorten(label, LABEL_CHARS), "name": label, "title": tip, "value": max(degree, 1),
            "kind": kind,
            "shape": "square" if kind == "passage" else "dot",
            "color": COLOURS["focus"] if node in focus else COLOURS.get(kind, COLOURS["entity"]),
            "x": positions[node][0], "y": positions[node][1],
        })
    edges = []
    for a, b, data in graph.edges(data=True):
        kind = data.get("kind", "fact")
        predicates = data.get("predicates", "")
        edge = {"from": a, "to": b, "value": float(data.get("weight", 1.0)), "title": predicates or kind}
        if kind == "fact" and predicates:
            edge["label"] = _shorten(predicates, 24)
        if kind == "synonym":
            edge["dashes"] = True
        if kind == "mention":
            edge["color"] = {"color": COLOURS["mention"]}
            edge["value"] = 1.0
        if frozenset((a, b)) in on_path:
            edge.update(color={"color": COLOURS["focus"]}, width=5, value=6.0, chain=True)
        edges.append(edge)
    return nodes, edges


def graph_picture(graph: nx.Graph, *, key: str, focus: Collection[str] = (),
                  path: Collection[tuple[str, str]] = (), height: int = DEFAULT_HEIGHT) -> str | None:
    """Draw ``graph``; return the id of a node the user has just clicked, else None.

    A click is reported once: the component sends a fresh token with every click, and the last
    token seen is kept in session state under ``key``. The picture has a full-screen button.
    """
    nodes, edges = vis_data(graph, focus, path)
    clicked = _draw(nodes=nodes, edges=edges, height=height, key=key, default=None)
    seen_key = f"{key}-seen"
    if not clicked or clicked == st.session_state.get(seen_key):
        return None
    st.session_state[seen_key] = clicked
    return str(clicked.get("node"))


def legend(graph: nx.Graph) -> str:
    """A one-line markdown legend with the node and edge counts."""
    kinds = nx.get_node_attributes(graph, "kind")
    n_entities = sum(1 for k in kinds.values() if k == "entity")
    return (f":blue[●] entity ({n_entities})  ·  :orange[■] passage ({len(kinds) - n_entities})  ·  "
            f":red[●] focus  ·  {graph.number_of_edges()} edge(s); size = degree, dashed = synonym; "
            "click a node to open it")

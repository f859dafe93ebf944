"""Looking around the graph: an entity's page, its neighbourhood, evidence paths, bounded subgraphs.

Which library where:
- igraph runs the searches over the whole graph (neighbourhoods, shortest paths): its C
  breadth-first search over a graph built once per store version is fast at any size;
- networkx holds the bounded subgraphs handed to users (``kg.subgraph``, ``kg.to_networkx``)
  and writes GraphML, because it is the graph object Python users already know and its
  attributes survive export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import igraph as ig
import networkx as nx
import numpy as np

from hippo.errors import StoreError
from hippo.model import Entity, Fact
from hippo.retrieval.hipporag import GraphState
from hippo.stores.base import GraphStore, PassageContext

__all__ = ["EntityView", "PathStep", "EvidencePath", "resolve_entity", "entity_view", "search_graph",
           "neighbors", "evidence_path", "subgraph", "whole_graph"]


@dataclass(frozen=True)
class EntityView:
    """Everything the graph holds about one entity."""

    entity: Entity
    facts: tuple[Fact, ...]
    passages: tuple[PassageContext, ...]
    synonyms: tuple[tuple[Entity, float], ...]


@dataclass(frozen=True)
class PathStep:
    """One hop of an evidence path: the facts linking two entities, a synonymy edge, or a shared passage."""

    source: Entity
    target: Entity
    facts: tuple[Fact, ...] = ()
    synonym: float | None = None
    passage: PassageContext | None = None


@dataclass(frozen=True)
class EvidencePath:
    """The shortest chain of evidence between two entities."""

    entities: tuple[Entity, ...]
    steps: tuple[PathStep, ...]


def resolve_entity(store: GraphStore, ref: str) -> Entity:
    """The entity with id ``ref``, else the best match of ``ref`` as a name; a clear error otherwise."""
    found = store.entities([ref]).get(ref)
    if found:
        return found
    matches = store.find_entities(ref, limit=5)
    if matches:
        return matches[0]
    raise StoreError(f"no entity matches {ref!r}; `hippo entities --like TEXT` lists entity names.")


def entity_view(store: GraphStore, ref: str, *, limit: int = 50) -> EntityView:
    entity = resolve_entity(store, ref)
    return EntityView(entity, tuple(store.facts_of_entity(entity.id, limit=limit * 4)),
                      tuple(store.passages_of_entity(entity.id, limit=limit)), tuple(store.synonyms_of(entity.id)))


def search_graph(state: GraphState) -> ig.Graph:
    """The whole graph as an unweighted igraph (entity rows, then passage rows); build once per version."""
    upper = state.graph.adjacency.tocoo()
    keep = upper.row < upper.col
    return ig.Graph(n=state.graph.size, edges=np.column_stack([upper.row[keep], upper.col[keep]]).tolist())


def _row(state: GraphState, entity: Entity) -> int:
    rows = np.flatnonzero(state.entities.ids == entity.id)
    if rows.size == 0:
        raise StoreError(f"entity {entity.display!r} is not in the graph matrix; the store changed, retry.")
    return int(rows[0])


def neighbors(store: GraphStore, state: GraphState, graph: ig.Graph, ref: str, depth: int = 1,
              limit: int = 100) -> list[tuple[Entity, int]]:
    """Entities within ``depth`` entity-to-entity hops (facts or synonyms) of ``ref``, nearest first."""
    if depth < 1:
        raise ValueError(f"depth={depth} must be at least 1.")
    start = _row(state, resolve_entity(store, ref))
    entity_graph = graph.subgraph(range(state.graph.n_entities)) if depth > 1 else None
    found: list[tuple[int, int]] = []
    if entity_graph is None:
        found = [(v, 1) for v in graph.neighbors(start) if v < state.graph.n_entities]
    else:
        for order in range(1, depth + 1):
            ring = entity_graph.neighborhood(start, order=order, mindist=order)
            found.extend((v, order) for v in ring)
    found = found[:limit]
    ids = state.entities.ids[[v for v, _ in found]].tolist() if found else []
    entities = store.entities(ids)
    return [(entities[i], d) for i, (_, d) in zip(ids, found) if i in entities]


def evidence_path(store: GraphStore, state: GraphState, graph: ig.Graph, a: str, b: str) -> EvidencePath | None:
    """The shortest path from entity ``a`` to entity ``b``; hops through a passage count double."""
    source, target = resolve_entity(store, a), resolve_entity(store, b)
    vertices = graph.get_shortest_path(_row(state, source), to=_row(state, target), output="vpath")
    if not vertices:
        return None
    n_e = state.graph.n_entities
    entity_rows = [v for v in vertices if v < n_e]
    entities_by_id = store.entities(state.entities.ids[entity_rows].tolist())
    chain = [entities_by_id[i] for i in state.entities.ids[entity_rows].tolist()]
    steps: list[PathStep] = []
    position = 0
    for left, right in pairwise(chain):
        position = vertices.index(_row(state, right), position + 1)
        between = vertices[position - 1]
        if between >= n_e:
            pid = state.passages.ids[between - n_e]
            steps.append(PathStep(left, right, passage=store.passage_context([pid]).get(pid)))
            continue
        facts = tuple(store.facts_between(left.id, right.id))
        synonym = None if facts else next((s for e, s in store.synonyms_of(left.id) if e.id == right.id), None)
        steps.append(PathStep(left, right, facts=facts, synonym=synonym))
    return EvidencePath(tuple(chain), tuple(steps))


def subgraph(store: GraphStore, state: GraphState, graph: ig.Graph, refs: Sequence[str], depth: int = 1,
             max_nodes: int = 200, passages: bool = True) -> nx.Graph:
    """A bounded networkx subgraph around ``refs`` (entity names or ids, or passage ids).

    Breadth-first from the given nodes up to ``depth`` hops, stopping at ``max_nodes`` nodes.
    Nodes carry ``kind`` ("entity" or "passage"), ``label`` (display text) and ``degree`` in the
    whole graph; edges carry ``kind`` ("fact", "synonym" or "mention"), ``weight`` and, for facts,
    ``predicates``.
    """
    n_e = state.graph.n_entities
    starts = []
    passage_rows = {pid: row for row, pid in enumerate(state.passages.ids.tolist()) if pid}
    for ref in refs:
        if ref in passage_rows:
            starts.append(n_e + passage_rows[ref])
        else:
            starts.append(_row(state, resolve_entity(store, ref)))
    order: list[int] = list(dict.fromkeys(starts))
    frontier = list(order)
    for _ in range(depth):
        if len(order) >= max_nodes:
            break
        nxt = []
        for v in frontier:
            for u in graph.neighbors(v):
                if (passages or u < n_e) and u not in order and u not in nxt:
                    nxt.append(u)
        order.extend(nxt[: max_nodes - len(order)])
        frontier = nxt
    return _to_networkx(store, state, order)


def whole_graph(store: GraphStore, state: GraphState, max_nodes: int = 5000) -> nx.Graph:
    """Every live node (entities first, then passages) up to ``max_nodes``, as networkx."""
    rows = np.concatenate([np.flatnonzero(state.entities.live),
                           state.graph.n_entities + np.flatnonzero(state.passages.live)])
    if rows.size > max_nodes:
        raise ValueError(f"the graph has {rows.size:,} nodes, over max_nodes={max_nodes:,}; "
                         "pass a larger max_nodes or take a subgraph around some entities.")
    return _to_networkx(store, state, rows.tolist())


def _to_networkx(store: GraphStore, state: GraphState, rows: list[int]) -> nx.Graph:
    n_e = state.graph.n_entities
    keep = np.array(sorted(rows), dtype=np.int64)
    block = state.graph.adjacency[keep][:, keep].tocoo()
    degree = np.diff(state.graph.adjacency.indptr)
    entity_ids = [state.entities.ids[r] for r in keep if r < n_e]
    passage_ids = [state.passages.ids[r - n_e] for r in keep if r >= n_e]
    entities = store.entities(entity_ids)
    contexts = store.passage_context(passage_ids)
    out = nx.Graph()
    node_of: dict[int, str] = {}
    for r in keep.tolist():
        if r < n_e:
            e = entities.get(state.entities.ids[r])
            if e:
                node_of[r] = e.id
                out.add_node(e.id, kind="entity", label=e.display, ner=e.label or "", degree=int(degree[r]))
        else:
            c = contexts.get(state.passages.ids[r - n_e])
            if c:
                node_of[r] = c.passage_id
                out.add_node(c.passage_id, kind="passage", label=c.title, text=c.text, doc_id=c.doc_id,
                             degree=int(degree[r]))
    for i, j, w in zip(block.row, block.col, block.data):
        a, b = int(keep[i]), int(keep[j])
        if a < b and a in node_of and b in node_of:
            kind = "mention" if b >= n_e else "relation"
            out.add_edge(node_of[a], node_of[b], kind=kind, weight=float(w))
    for a, b, data in out.edges(data=True):
        if data["kind"] == "relation":
            facts = store.facts_between(a, b)
            data["kind"] = "fact" if facts else "synonym"
            data["predicates"] = "; ".join(sorted({f.predicate for f in facts}))
    return out

"""The graph as one sparse matrix: entity nodes, then passage nodes, rows fixed by the vector files.

Node ``i < n_entities`` is entity vector row ``i``; node ``n_entities + j`` is passage vector
row ``j``. Rows freed by deletions stay as isolated nodes that never get seed mass, so a
query maps a vector row to a graph node with an addition instead of a lookup, and the
matrix is rebuilt only when the store changes (it is cached by store version).

Edge weights (undirected, summed over both stored directions):
- RELATES: the number of (fact, passage) pairs linking two entities, whatever the predicate;
- SYNONYM: the embedding cosine (kept once per pair even when both directions were found);
- MENTIONS: 1.0 between a passage and each entity it mentions (``title_weight`` to its title's entity).
HippoRAG 2 inserts every entity edge twice into an undirected igraph, which doubles fact and
synonym weights against passage edges by accident; hippo keeps the weights as defined above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hippo.graph.ppr import transition_matrix
from hippo.stores.base import GraphEdges
from hippo.stores.vectors import VectorTable

__all__ = ["GraphMatrix", "build_graph", "strongest_per_row"]


@dataclass(frozen=True)
class GraphMatrix:
    """The graph of one store version, ready for PageRank.

    Attributes
    ----------
    n_entities, n_passages : rows of the entity and passage vector files (node counts per kind).
    adjacency : csr_array (n, n), symmetric edge weights.
    transition : csr_array (n, n), column-stochastic, float32, from :func:`hippo.graph.ppr.transition_matrix`
        (PageRank on 2Wiki's graph, 67k nodes: 18.9 ms a question in float64 to 1e-8, 11.6 ms in float32 to
        1e-6, the same top-10 passages for 30 of 30 seed sets; a step reads half the memory).
    dangling : bool array (n,), nodes without edges.
    entity_passages : int array (n_entities,), passages mentioning each entity.
    passage_entities : csr_array (n_passages, n_entities), 1 where a passage mentions an entity.
    fact_subject, fact_object : int arrays indexed by fact vector row, the entity rows of each fact (-1 if dead).
    """

    n_entities: int
    n_passages: int
    adjacency: sp.csr_array
    transition: sp.csr_array
    dangling: np.ndarray
    entity_passages: np.ndarray
    passage_entities: sp.csr_array
    fact_subject: np.ndarray
    fact_object: np.ndarray

    @property
    def size(self) -> int:
        return self.n_entities + self.n_passages

    def edge_counts(self) -> dict[str, int]:
        """Undirected edges by kind: entity-entity and passage-entity."""
        upper = sp.triu(self.adjacency, k=1).tocoo()
        is_entity = (upper.row < self.n_entities) & (upper.col < self.n_entities)
        return {"entity_entity": int(is_entity.sum()), "passage_entity": int((~is_entity).sum())}


def _rows(table: VectorTable) -> dict[str, int]:
    live = np.flatnonzero(table.live)
    return dict(zip(table.ids[live].tolist(), live.tolist()))


def _lookup(rows: dict[str, int], ids: list[str]) -> np.ndarray:
    return np.fromiter((rows.get(i, -1) for i in ids), dtype=np.int64, count=len(ids))


def _mention_weights(p: np.ndarray, e: np.ndarray, passages: VectorTable, entity_rows: dict[str, int],
                     titles: dict[str, str] | None, title_weight: float) -> np.ndarray:
    """1.0 per MENTIONS edge, ``title_weight`` for a passage's edge to its title entity."""
    weights = np.ones(len(p))
    if not titles or title_weight == 1.0:
        return weights
    passage_ids = list(titles)
    title_p = _lookup(_rows(passages), passage_ids)
    title_e = _lookup(entity_rows, [titles[i] for i in passage_ids])
    ok = (title_p >= 0) & (title_e >= 0)
    n_e = max(len(entity_rows), int(e.max(initial=0)) + 1, int(title_e.max(initial=0)) + 1)
    weights[np.isin(p * n_e + e, title_p[ok] * n_e + title_e[ok])] = title_weight
    return weights


def build_graph(edges: GraphEdges, entities: VectorTable, passages: VectorTable, facts: VectorTable,
                synonym_threshold: float = 0.0, titles: dict[str, str] | None = None,
                title_weight: float = 1.0, no_synonyms: np.ndarray | None = None,
                synonym_max: int | None = None) -> GraphMatrix:
    """Assemble the sparse graph from the store's edges and the row owners of each vector file.

    Synonymy edges scoring below ``synonym_threshold`` are left out, so raising the setting takes
    effect without re-indexing (lowering it below the value used at ingest cannot add edges).
    ``titles`` maps passage ids to the entity id of their document's title: that MENTIONS edge, when
    the passage has it, weighs ``title_weight`` (a passage is about its title's subject, so the walk
    that reaches the subject goes on to its article rather than to every passage naming it).
    ``no_synonyms`` marks entity rows (a boolean mask over ``entities``) whose synonymy edges are left out.
    ``synonym_max`` keeps a synonymy edge only when it is among the ``synonym_max`` strongest of one of its
    two entities (:func:`strongest_per_row`): ingest caps each new entity's list, but an entity stored
    earlier gains an edge from every similar entity that comes after it.
    """
    n_e, n_p = len(entities.ids), len(passages.ids)
    n = n_e + n_p
    entity_rows = _rows(entities)
    subj, obj, count = edges.relations
    a, b = _lookup(entity_rows, subj), _lookup(entity_rows, obj)
    keep = (a >= 0) & (b >= 0) & (a != b)
    relates = sp.coo_array((np.asarray(count, dtype=np.float64)[keep], (a[keep], b[keep])), shape=(n, n))
    s1, s2, score = edges.synonyms
    a, b = _lookup(entity_rows, s1), _lookup(entity_rows, s2)
    score = np.asarray(score, dtype=np.float64)
    keep = (a >= 0) & (b >= 0) & (a != b) & (score >= synonym_threshold)
    if no_synonyms is not None:
        keep &= ~(no_synonyms[np.clip(a, 0, None)] | no_synonyms[np.clip(b, 0, None)])
    synonyms = sp.coo_array((score[keep], (a[keep], b[keep])), shape=(n, n)).tocsr()
    synonyms = synonyms.maximum(synonyms.T)
    if synonym_max is not None:
        strongest = strongest_per_row(synonyms, synonym_max)
        synonyms = strongest.maximum(strongest.T)
    m_passage, m_entity = edges.mentions
    p = _lookup(_rows(passages), m_passage)
    e = _lookup(entity_rows, m_entity)
    keep = (p >= 0) & (e >= 0)
    p, e = p[keep], e[keep]
    incidence = sp.csr_array((np.ones(len(p)), (p, e)), shape=(n_p, n_e))
    mentions = sp.coo_array((_mention_weights(p, e, passages, entity_rows, titles, title_weight), (p + n_e, e)),
                            shape=(n, n))
    adjacency = sp.csr_array(relates + relates.T + synonyms + mentions + mentions.T)
    adjacency.sum_duplicates()
    transition, dangling = transition_matrix(adjacency, dtype=np.float32)
    fact_rows = np.flatnonzero(facts.live)
    fact_row_of = dict(zip(facts.ids[fact_rows].tolist(), fact_rows.tolist()))
    f_ids, f_subj, f_obj = edges.facts
    f_row = _lookup(fact_row_of, f_ids)
    fact_subject = np.full(len(facts.ids), -1, dtype=np.int64)
    fact_object = np.full(len(facts.ids), -1, dtype=np.int64)
    ok = f_row >= 0
    fact_subject[f_row[ok]] = _lookup(entity_rows, f_subj)[ok]
    fact_object[f_row[ok]] = _lookup(entity_rows, f_obj)[ok]
    return GraphMatrix(
        n_entities=n_e, n_passages=n_p, adjacency=adjacency, transition=transition, dangling=dangling,
        entity_passages=np.asarray((incidence > 0).sum(axis=0)).ravel().astype(np.int64),
        passage_entities=incidence, fact_subject=fact_subject, fact_object=fact_object,
    )


def strongest_per_row(matrix: sp.csr_array, most: int) -> sp.csr_array:
    """Each row's ``most`` largest entries, the others dropped (ties: the lower column first).

    >>> m = sp.csr_array(np.array([[0, 0.9, 0.8, 0.85], [0.9, 0, 0, 0], [0.8, 0, 0, 0], [0.85, 0, 0, 0]]))
    >>> strongest_per_row(m, 2).toarray()[0].tolist()
    [0.0, 0.9, 0.0, 0.85]
    """
    matrix = sp.csr_array(matrix)
    matrix.sum_duplicates()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, -matrix.data, rows))  # by row, strongest first
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - matrix.indptr[rows[order]]
    keep = rank < most
    return sp.csr_array((matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape)

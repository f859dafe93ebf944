"""The MemGAS memory joined to the passage graph: one sparse matrix over entities, passages and units.

Node ``i < n_entities`` is entity vector row ``i``, node ``n_entities + j`` is passage vector row
``j`` (as in :mod:`hippo.graph.matrix`), and node ``n_entities + n_passages + r`` is unit vector
row ``r``. Edges, undirected:

- the entity/passage graph of :func:`hippo.graph.matrix.build_graph`, unchanged;
- ASSOCIATED: between two units, weight 1 (MemGAS's graph is unweighted; the stored cosine is
  only what the mixture accepted);
- MEMBER: a ``passage`` unit to its passage, and a ``document``, ``summary`` or ``keywords`` unit to
  every passage of its document, weight 1. MemGAS has no passages in its graph; these edges let
  a walk that starts at a session's summary reach the session's turns, and a turn reach its session.

Rows of deleted units stay as isolated nodes, as in the passage graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hippo.graph.matrix import GraphMatrix
from hippo.graph.ppr import transition_matrix
from hippo.model import GRANULARITIES
from hippo.stores.base import MemoryEdges
from hippo.stores.vectors import VectorTable

__all__ = ["MemoryGraph", "build_memory_graph"]


@dataclass(frozen=True)
class MemoryGraph:
    """The joined graph of one store version, ready for PageRank.

    Attributes
    ----------
    n_entities, n_passages, n_units : rows of the entity, passage and unit vector files.
    transition : csr_array (n, n), column-stochastic; dangling : bool array (n,).
    associations : csr_array (n_units, n_units), 1 where two units are ASSOCIATED.
    unit_granularity : int array (n_units,), index into :data:`hippo.model.GRANULARITIES`, -1 for dead rows.
    unit_doc, passage_doc : int arrays, the document index (into ``doc_ids``) of each unit and passage row, or -1.
    unit_passage : int array (n_units,), the passage row of a ``passage`` unit, else -1.
    passage_unit : int array (n_passages,), the row of a passage's ``passage`` unit, else -1.
    doc_ids : object array (n_docs,), the document id of each document index.
    """

    n_entities: int
    n_passages: int
    n_units: int
    transition: sp.csr_array
    dangling: np.ndarray
    associations: sp.csr_array
    unit_granularity: np.ndarray
    unit_doc: np.ndarray
    passage_doc: np.ndarray
    unit_passage: np.ndarray
    passage_unit: np.ndarray
    doc_ids: np.ndarray

    @property
    def unit_base(self) -> int:
        """The node of unit row 0."""
        return self.n_entities + self.n_passages

    @property
    def size(self) -> int:
        return self.unit_base + self.n_units


def _rows(table: VectorTable) -> dict[str, int]:
    live = np.flatnonzero(table.live)
    return dict(zip(table.ids[live].tolist(), live.tolist()))


def _lookup(rows: dict, keys: list) -> np.ndarray:
    return np.fromiter((rows.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))


def build_memory_graph(base: GraphMatrix, passages: VectorTable, units: VectorTable, edges: MemoryEdges
                       ) -> MemoryGraph:
    """Join the unit nodes, their ASSOCIATED edges and their MEMBER edges to the passage graph ``base``."""
    n_e, n_p, n_u = base.n_entities, base.n_passages, len(units.ids)
    n_b = n_e + n_p
    n = n_b + n_u
    unit_ids, unit_docs, unit_grans, unit_passages = edges.units
    passage_ids, passage_docs = edges.passages
    doc_ids = np.array(list(dict.fromkeys([*passage_docs, *unit_docs])), dtype=object)
    doc_index = {d: i for i, d in enumerate(doc_ids.tolist())}
    unit_row = _lookup(_rows(units), unit_ids)
    passage_row_of = _rows(passages)
    ok = unit_row >= 0
    unit_granularity = np.full(n_u, -1, dtype=np.int64)
    unit_doc = np.full(n_u, -1, dtype=np.int64)
    unit_passage = np.full(n_u, -1, dtype=np.int64)
    codes = {g: i for i, g in enumerate(GRANULARITIES)}
    unit_granularity[unit_row[ok]] = _lookup(codes, unit_grans)[ok]
    unit_doc[unit_row[ok]] = _lookup(doc_index, unit_docs)[ok]
    unit_passage[unit_row[ok]] = _lookup(passage_row_of, unit_passages)[ok]
    passage_doc = np.full(n_p, -1, dtype=np.int64)
    p_rows = _lookup(passage_row_of, passage_ids)
    p_ok = p_rows >= 0
    passage_doc[p_rows[p_ok]] = _lookup(doc_index, passage_docs)[p_ok]
    passage_unit = np.full(n_p, -1, dtype=np.int64)
    own = np.flatnonzero(unit_passage >= 0)
    passage_unit[unit_passage[own]] = own

    a_ids, b_ids, _ = edges.associations
    row_of = dict(zip(np.asarray(unit_ids, dtype=object)[ok].tolist(), unit_row[ok].tolist()))
    a, b = _lookup(row_of, a_ids), _lookup(row_of, b_ids)
    keep = (a >= 0) & (b >= 0) & (a != b)
    assoc = sp.coo_array((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n_u, n_u)).tocsr()
    assoc = sp.csr_array((assoc + assoc.T) > 0, dtype=np.float64)

    # MEMBER edges: a passage unit to its passage; document-level units to every passage of their document.
    whole = np.flatnonzero((unit_granularity >= 0) & (unit_passage < 0) & (unit_doc >= 0))
    n_docs = len(doc_ids)
    live_p = np.flatnonzero(passage_doc >= 0)
    docs_of_units = sp.csr_array((np.ones(whole.size), (whole, unit_doc[whole])), shape=(n_u, n_docs))
    docs_of_passages = sp.csr_array((np.ones(live_p.size), (live_p, passage_doc[live_p])), shape=(n_p, n_docs))
    member = sp.csr_array(docs_of_units @ docs_of_passages.T)
    member = member + sp.csr_array((np.ones(own.size), (own, unit_passage[own])), shape=(n_u, n_p))
    member = sp.csr_array(member > 0, dtype=np.float64)

    parts = [base.adjacency.tocoo(), member.tocoo(), assoc.tocoo()]
    offsets = [(0, 0), (n_b, n_e), (n_b, n_b)]
    rows = [part.row + r0 for part, (r0, _) in zip(parts, offsets)]
    cols = [part.col + c0 for part, (_, c0) in zip(parts, offsets)]
    data = [part.data for part in parts]
    rows.append(cols[1])  # MEMBER edges both ways
    cols.append(rows[1])
    data.append(parts[1].data)
    adjacency = sp.csr_array(sp.coo_array((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                                          shape=(n, n)))
    adjacency.sum_duplicates()
    transition, dangling = transition_matrix(adjacency)
    return MemoryGraph(n_entities=n_e, n_passages=n_p, n_units=n_u, transition=transition, dangling=dangling,
                       associations=assoc, unit_granularity=unit_granularity, unit_doc=unit_doc,
                       passage_doc=passage_doc, unit_passage=unit_passage, passage_unit=passage_unit,
                       doc_ids=doc_ids)

"""Synonymy edges for new entities only: each new entity against every entity, never all-against-all.

HippoRAG 2 recomputes the k-nearest-neighbour search over all entities on every insert, so
its cost grows quadratically with repeated ingests (and duplicate edges pile up). Here each
ingest batch scores only its new entities, in blocks, against the stored matrix plus the
batch itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hippo.model import Matrix
from hippo.text import ALNUM

__all__ = ["synonym_pairs"]

BLOCK = 1024


def synonym_pairs(new_ids: Sequence[str], new_names: Sequence[str], new_vectors: Matrix,
                  old_ids: np.ndarray, old_vectors: Matrix, old_live: np.ndarray, *,
                  threshold: float = 0.8, max_per_entity: int = 100) -> list[tuple[str, str, float]]:
    """(new id, neighbour id, cosine) for every neighbour at or above ``threshold``, best first.

    Parameters
    ----------
    new_ids, new_names, new_vectors : the batch's new entities (ids, normalised names, unit vectors (m, d)).
    old_ids, old_vectors, old_live : the stored entity matrix (n, d) with its row owners and live mask.
    threshold : minimum cosine (HippoRAG 2: 0.8).
    max_per_entity : neighbours kept per new entity (HippoRAG 2: about 100).

    A new entity whose name has at most 2 letters or digits gets no synonyms (as in HippoRAG 2),
    since short strings embed close to many unrelated ones; as a neighbour, any entity counts.
    """
    names_ok = np.array([len(ALNUM.findall(name)) > 2 for name in new_names], dtype=bool)
    if not names_ok.any():
        return []
    candidates_ids = np.concatenate([np.asarray(old_ids, dtype=object), np.asarray(new_ids, dtype=object)])
    old = np.asarray(old_vectors, dtype=np.float32)
    candidates = np.concatenate([old, new_vectors]) if len(old_ids) else new_vectors
    unusable = ~np.concatenate([np.asarray(old_live, dtype=bool), np.ones(len(new_ids), dtype=bool)])
    new_ids = np.asarray(new_ids, dtype=object)
    pairs: list[tuple[str, str, float]] = []
    queries = np.flatnonzero(names_ok)
    for start in range(0, len(queries), BLOCK):
        block = queries[start:start + BLOCK]
        scores = new_vectors[block] @ candidates.T
        scores[:, unusable] = -1.0
        scores[np.arange(len(block)), len(old_ids) + block] = -1.0  # not its own synonym
        rows, cols = np.nonzero(scores >= threshold)
        values = scores[rows, cols]
        order = np.lexsort((cols, -values, rows))  # by query, best first, ties by position
        rows, cols, values = rows[order], cols[order], values[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows)  # place within its query's hits
        keep = rank < max_per_entity
        pairs.extend(zip(new_ids[block[rows[keep]]].tolist(), candidates_ids[cols[keep]].tolist(),
                         values[keep].astype(float).tolist()))
    return pairs

"""Soft Gaussian-mixture clustering of embeddings, the algorithm of ComoRAG's semantic layer.

RAPTOR-style, as ComoRAG's ``cluster_utils.py`` does it, with three changes (see Notes of
:func:`soft_clusters`): PCA instead of UMAP, a grid search over the number of components
instead of trying every k, and a fit on a sample for large inputs.

1. reduce the (unit-length) vectors to ``dim`` dimensions with PCA;
2. **global** mixture: the number of components k minimises the BIC (full covariances);
   every row joins each component whose posterior is at least ``threshold`` (soft membership:
   a row may sit in several clusters, and always sits in its most likely one);
3. **local** mixture: each global cluster with more than ``dim + 1`` members is reduced and
   clustered again the same way; a smaller one is kept whole. The local clusters are the result,
   a row's weight in one being its global posterior times its local posterior;
4. **size cap** (optional, RAPTOR's re-clustering of clusters too long to summarise): a local
   cluster above ``max_size`` members is split again, forcing enough components if the BIC would not.

PCA keeps far less structure than UMAP (10 components hold about a quarter of the variance of
all-MiniLM-L6-v2 passage vectors), so on a store like 2WikiMultihopQA the BIC alone picks a few
large clusters (10 for 6,623 passages); the size cap is what makes them summarisable.

Everything is deterministic for a fixed ``seed``: the PCA is an exact SVD, the mixtures start
from a seeded k-means, and the sample is drawn with a seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["SoftClustering", "bic_components", "reduce_dimensions", "soft_clusters"]

DEFAULT_SEED = 224
"""ComoRAG's ``RANDOM_SEED``."""
_MAX_SPLITS = 4
"""Times a cluster above ``max_size`` is split again at most."""
_GRID = (1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 64, 80, 100)


@dataclass(frozen=True)
class SoftClustering:
    """Soft clusters of ``n`` rows.

    Attributes
    ----------
    membership : scipy.sparse.csr_array, shape (n_clusters, n)
        Weight of row j in cluster i (in (0, 1]); every row has at least one cluster.
    global_k : int
        Components chosen by the BIC for the global mixture.
    fitted : int
        Rows the mixtures were fitted on (the rest were assigned with the fitted model).
    """

    membership: sp.csr_array
    global_k: int
    fitted: int

    @property
    def n_clusters(self) -> int:
        return int(self.membership.shape[0])


def reduce_dimensions(vectors: np.ndarray, dim: int, *, fit_rows: np.ndarray | None = None) -> np.ndarray:
    """The rows of ``vectors`` projected on their first ``dim`` principal components.

    Parameters
    ----------
    vectors : numpy.ndarray, shape (n, d)
    dim : int
        Wanted dimensions; capped at ``min(d, n_fit - 2)`` (ComoRAG's ``min(10, N - 2)``) and at least 1.
    fit_rows : numpy.ndarray of int, optional
        Rows the components are computed from (a sample); every row when omitted.

    Returns
    -------
    numpy.ndarray, shape (n, dim'), float64

    Examples
    --------
    >>> x = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.1]])
    >>> reduce_dimensions(x, 1).shape
    (4, 1)
    """
    from sklearn.decomposition import PCA

    x = np.asarray(vectors, dtype=np.float64)
    fit = x if fit_rows is None else x[fit_rows]
    dim = max(1, min(dim, x.shape[1], len(fit) - 2))
    pca = PCA(n_components=dim, svd_solver="full").fit(fit)
    return pca.transform(x)


def bic_components(x: np.ndarray, max_components: int, *, seed: int = DEFAULT_SEED) -> tuple[int, dict[int, float]]:
    """The number of Gaussian-mixture components that minimises the BIC on ``x``, and the BIC of each k tried.

    Trying every k from 1 to 50 (ComoRAG) costs about 100 s on 2,000 rows of a shared core, so
    the search tries a grid (1-6, then roughly x1.25 steps) and then every k between the best grid
    point's neighbours. Ties go to the smaller k.

    Parameters
    ----------
    x : numpy.ndarray, shape (n, dim)
    max_components : int
        Largest k tried; capped at ``n - 1`` (a component per row says nothing).
    seed : int
        Random state of every mixture.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> blobs = np.concatenate([rng.normal(c, 0.05, size=(40, 2)) for c in (0.0, 3.0, 6.0)])
    >>> bic_components(blobs, 8)[0]
    3
    """
    from sklearn.mixture import GaussianMixture

    n = len(x)
    top = max(1, min(max_components, n - 1))
    bics: dict[int, float] = {}

    def bic(k: int) -> float:
        if k not in bics:
            bics[k] = float(GaussianMixture(n_components=k, covariance_type="full", random_state=seed).fit(x).bic(x))
        return bics[k]

    grid = [k for k in _GRID if k <= top]
    if grid[-1] != top:
        grid.append(top)
    best = min(grid, key=lambda k: (bic(k), k))
    i = grid.index(best)
    low, high = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    for k in range(low + 1, high):
        bic(k)
    return min(bics, key=lambda k: (bics[k], k)), bics


def _mixture(x: np.ndarray, fit_rows: np.ndarray, max_components: int, seed: int, at_least: int = 1
             ) -> tuple[int, np.ndarray]:
    """(k, posteriors of every row, shape (n, k)) of the BIC-chosen full-covariance mixture fitted on ``fit_rows``.

    ``at_least`` forces a larger k when the BIC chooses fewer (the size cap of :func:`soft_clusters`).
    """
    from sklearn.mixture import GaussianMixture

    fit = x[fit_rows]
    k, _ = bic_components(fit, min(max_components, max(1, len(fit) // (x.shape[1] + 1))), seed=seed)
    k = min(max(k, at_least), max(1, len(fit) - 1))
    model = GaussianMixture(n_components=k, covariance_type="full", random_state=seed).fit(fit)
    return k, model.predict_proba(x)


def _members(posteriors: np.ndarray, threshold: float) -> np.ndarray:
    """Posteriors kept as memberships: those >= ``threshold`` plus each row's most likely component."""
    keep = posteriors >= threshold
    keep[np.arange(len(posteriors)), np.argmax(posteriors, axis=1)] = True
    return np.where(keep, posteriors, 0.0)


def soft_clusters(vectors: np.ndarray, *, dim: int = 10, threshold: float = 0.1, max_components: int = 50,
                  sample: int = 2000, max_size: int | None = None, seed: int = DEFAULT_SEED) -> SoftClustering:
    """Soft two-stage (global, then local) Gaussian-mixture clusters of the rows of ``vectors``.

    Parameters
    ----------
    vectors : numpy.ndarray, shape (n, d)
        Unit-length embeddings.
    dim : int, default 10
        PCA dimensions before each mixture (ComoRAG: 10, by UMAP).
    threshold : float, default 0.1
        A row joins every cluster whose posterior reaches this (RAPTOR: 0.1; ComoRAG: 0.01).
    max_components : int, default 50
        Largest number of components tried by the BIC, per mixture (ComoRAG: 50); also at most one
        component per ``dim + 1`` fitted rows, the fewest that can estimate a full covariance.
    sample : int, default 2000
        Mixtures (and PCA) are fitted on at most this many rows, drawn with ``seed``; the other rows
        are assigned by the fitted model, so the cost of the fit does not grow with the store.
    max_size : int, optional
        A local cluster with more members is clustered again (RAPTOR re-clusters a cluster whose text
        is too long for one summary), with at least ``ceil(members / max_size)`` components when the
        BIC would keep it whole; at most :data:`_MAX_SPLITS` times. No cap when omitted.
    seed : int, default 224

    Returns
    -------
    SoftClustering
        Clusters in a fixed order (by global component, then local component); empty ones dropped.

    Raises
    ------
    ValueError
        ``vectors`` is not 2-D, or ``threshold`` is outside (0, 1].

    Notes
    -----
    UMAP (what ComoRAG and RAPTOR use) is a heavy optional dependency whose layout varies with
    threads; PCA is exact and cheap. Fewer than 3 rows form one cluster. A row assigned (not
    fitted) gets its posteriors from the model fitted on the sample, with the same threshold.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = np.concatenate([rng.normal(c, 0.02, size=(30, 3)) for c in ([1, 0, 0], [0, 1, 0])])
    >>> soft_clusters(x, dim=2).n_clusters >= 2
    True
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"vectors must be 2-D (rows x dimensions), not shape {x.shape}.")
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold={threshold} must be in (0, 1].")
    n = len(x)
    if n < 3:
        return SoftClustering(sp.csr_array(np.ones((1 if n else 0, n))), 1 if n else 0, n)
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(n, size=sample, replace=False)) if n > sample else np.arange(n)
    reduced = reduce_dimensions(x, dim, fit_rows=fit_rows)
    global_k, posteriors = _mixture(reduced, fit_rows, max_components, seed)
    weights = _members(posteriors, threshold)
    clusters: list[tuple[np.ndarray, np.ndarray]] = []  # (member rows, weights) per cluster
    todo = [(np.flatnonzero(weights[:, c]), weights[weights[:, c] > 0, c], 0) for c in range(global_k)]
    while todo:  # local mixtures: each global cluster, then every piece still above max_size
        members, outer, depth = todo.pop(0)
        if members.size == 0:
            continue
        too_big = max_size is not None and members.size > max_size
        if members.size <= dim + 1 or (depth > 0 and not too_big) or depth > _MAX_SPLITS:
            clusters.append((members, outer))
            continue
        local_fit = np.flatnonzero(np.isin(members, fit_rows))
        if local_fit.size <= dim + 1:
            local_fit = np.arange(min(members.size, sample))
        elif local_fit.size > sample:
            local_fit = np.sort(rng.choice(local_fit, size=sample, replace=False))
        local = reduce_dimensions(x[members], dim, fit_rows=local_fit)
        at_least = -(-members.size // max_size) if too_big else 1
        k, local_posteriors = _mixture(local, local_fit, max_components, seed, at_least)
        inner = _members(local_posteriors, threshold)
        if k == 1:
            clusters.append((members, outer))
            continue
        for sub in range(inner.shape[1]):
            keep = inner[:, sub] > 0
            if keep.any():
                todo.append((members[keep], outer[keep] * inner[keep, sub], depth + 1))
    index = np.concatenate([np.full(len(m), i) for i, (m, _) in enumerate(clusters)])
    membership = sp.csr_array((np.concatenate([w for _, w in clusters]),
                               (index, np.concatenate([m for m, _ in clusters]))), shape=(len(clusters), n))
    return SoftClustering(membership, global_k, int(fit_rows.size))

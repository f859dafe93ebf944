"""MemGAS association: link a new memory unit to the earlier units a Gaussian mixture accepts.

For each new unit (Xu et al. 2025, section 3.2; ``construct_asso.py`` of the MemGAS code):
1. score it against every candidate unit (units of *earlier* documents only: never its own
   document, never a later one) by cosine;
2. keep the top ``top_n`` candidate scores (MemGAS: 30);
3. fit a one-dimensional, two-component Gaussian mixture to those scores;
4. the candidates whose most likely component is the one with the higher mean are ASSOCIATED.
No probability threshold and no BIC: the split is the mixture's hard assignment.

The mixture is fitted by a small EM written here, vectorised over many units at once (one row
of scores per unit) and deterministic: it starts from a two-means split of each row (centres at
the row's minimum and maximum, as k-means++ would settle), then iterates EM as scikit-learn's
``GaussianMixture(n_components=2)`` does (variance floor ``1e-6``, stop when the mean
log-likelihood changes by less than ``1e-3``). The tests check it against scikit-learn.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_CANDIDATES", "associate", "gmm_accept"]

MIN_CANDIDATES = 10
"""A unit with fewer candidate units than this (and than ``top_n``) gets no edges: a mixture of two
components over a handful of scores says nothing (MemGAS starts at its 21st unit for the same reason)."""
_REG = 1e-6
_TOL = 1e-3
_KMEANS_STEPS = 20
_ROW_CHUNK = 512


def gmm_accept(scores: np.ndarray, valid: np.ndarray | None = None, *, max_iter: int = 100) -> np.ndarray:
    """Which scores of each row the higher-mean component of a 1-D two-component Gaussian mixture claims.

    Parameters
    ----------
    scores : numpy.ndarray, shape (m, n)
        One row of candidate scores per new unit.
    valid : numpy.ndarray of bool, shape (m, n), optional
        Which entries are real candidates (rows may have fewer than ``n``); all when omitted.
    max_iter : int, default 100
        EM steps at most (scikit-learn's default).

    Returns
    -------
    numpy.ndarray of bool, shape (m, n)
        True where the candidate is accepted. A row whose valid scores are all equal accepts none.

    Examples
    --------
    >>> gmm_accept(np.array([[0.9, 0.85, 0.88, 0.2, 0.25, 0.22, 0.3]])).astype(int)
    array([[1, 1, 1, 0, 0, 0, 0]])
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"scores must be a 2-D array (units x candidates), not shape {x.shape}.")
    v = np.ones(x.shape, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    if v.shape != x.shape:
        raise ValueError(f"valid has shape {v.shape} but scores has {x.shape}.")
    if x.size == 0:
        return np.zeros(x.shape, dtype=bool)
    x = np.where(v, x, 0.0)
    w = v.astype(np.float64)
    count = w.sum(axis=1, keepdims=True)
    low = np.where(v, x, np.inf).min(axis=1, keepdims=True)
    high = np.where(v, x, -np.inf).max(axis=1, keepdims=True)
    centres = np.concatenate([low, high], axis=1)
    centres[~np.isfinite(centres)] = 0.0
    # Two-means initialisation (what scikit-learn's k-means init converges to in one dimension).
    upper = np.zeros(x.shape, dtype=bool)
    for _ in range(_KMEANS_STEPS):
        new_upper = np.abs(x - centres[:, 1:]) < np.abs(x - centres[:, :1])
        for k, members in enumerate((~new_upper & v, new_upper & v)):
            n_k = members.sum(axis=1)
            mean = np.divide((x * members).sum(axis=1), n_k, out=centres[:, k].copy(), where=n_k > 0)
            centres[:, k] = mean
        if np.array_equal(new_upper, upper):
            break
        upper = new_upper
    resp = np.stack([(~upper & v).astype(np.float64), (upper & v).astype(np.float64)], axis=2)
    bound = np.full(x.shape[0], -np.inf)
    active = np.ones(x.shape[0], dtype=bool)
    log_prob = np.zeros((*x.shape, 2))
    for _ in range(max_iter):
        weights, means, variances = _m_step(x, w, resp, centres)
        new_log_prob = (np.log(weights)[:, None, :] - 0.5 * np.log(2 * np.pi * variances)[:, None, :]
                        - (x[:, :, None] - means[:, None, :]) ** 2 / (2 * variances[:, None, :]))
        top = new_log_prob.max(axis=2, keepdims=True)
        norm = top + np.log(np.exp(new_log_prob - top).sum(axis=2, keepdims=True))
        new_bound = (norm[:, :, 0] * w).sum(axis=1) / np.maximum(count[:, 0], 1)
        # Each row stops at its own convergence, so its result does not depend on the other rows.
        log_prob[active] = new_log_prob[active]
        resp[active] = np.exp(new_log_prob - norm)[active] * w[active][:, :, None]
        active &= np.abs(new_bound - bound) >= _TOL
        bound = new_bound
        if not active.any():
            break
    weights, means, _ = _m_step(x, w, resp, centres)
    higher = np.argmax(means, axis=1)
    label = np.argmax(log_prob, axis=2)
    distinct = means[:, 1] != means[:, 0]
    return (label == higher[:, None]) & v & distinct[:, None] & (high > low)


def _m_step(x: np.ndarray, w: np.ndarray, resp: np.ndarray, centres: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mixture weights, means and variances, shape (m, 2) each; an empty component keeps its centre."""
    n_k = resp.sum(axis=1) + 10 * np.finfo(np.float64).eps
    means = np.where(n_k > 1e-9, (resp * x[:, :, None]).sum(axis=1) / n_k, centres)
    variances = (resp * (x[:, :, None] - means[:, None, :]) ** 2).sum(axis=1) / n_k + _REG
    weights = n_k / n_k.sum(axis=1, keepdims=True)
    return weights, means, variances


def associate(new_vectors: np.ndarray, new_groups: np.ndarray, old_vectors: np.ndarray, *, top_n: int = 30
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ASSOCIATED edges of new units, against the old units and the new units of earlier groups.

    Parameters
    ----------
    new_vectors : numpy.ndarray, shape (b, d)
        Unit-length vectors of the new units.
    new_groups : numpy.ndarray of int, shape (b,)
        The insertion order of each new unit's document: a unit is compared with the new units of
        strictly smaller groups (earlier documents of the same batch), never with its own group.
    old_vectors : numpy.ndarray, shape (s, d)
        Unit-length vectors of the stored units that may be linked to (of other documents only).
    top_n : int, default 30
        Candidates kept per unit before the mixture splits them.

    Returns
    -------
    rows, columns, scores : numpy.ndarray, shape (e,) each
        Edge e links new unit ``rows[e]`` to candidate ``columns[e]`` with cosine ``scores[e]``;
        a column ``c < s`` is old unit ``c``, and ``c >= s`` is new unit ``c - s``.
    """
    new_vectors = np.asarray(new_vectors, dtype=np.float32)
    old_vectors = np.asarray(old_vectors, dtype=np.float32).reshape(-1, new_vectors.shape[1])
    groups = np.asarray(new_groups)
    n_old, n_new = len(old_vectors), len(new_vectors)
    pool = np.concatenate([old_vectors, new_vectors])
    minimum = min(MIN_CANDIDATES, top_n)
    rows_out, cols_out, scores_out = [], [], []
    for start in range(0, n_new, _ROW_CHUNK):
        rows = np.arange(start, min(start + _ROW_CHUNK, n_new))
        scores = new_vectors[rows] @ pool.T
        earlier = np.concatenate([np.ones((len(rows), n_old), dtype=bool),
                                  groups[None, :] < groups[rows, None]], axis=1)
        scores = np.where(earlier, scores, -np.inf)
        keep = min(top_n, scores.shape[1])
        if keep == 0:
            continue
        top = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        top_scores = np.take_along_axis(scores, top, axis=1)
        valid = np.isfinite(top_scores)
        valid &= (valid.sum(axis=1) >= minimum)[:, None]
        accept = gmm_accept(np.where(valid, top_scores, 0.0), valid)
        r, c = np.nonzero(accept)
        rows_out.append(rows[r])
        cols_out.append(top[r, c])
        scores_out.append(top_scores[r, c])
    if not rows_out:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(rows_out), np.concatenate(cols_out), np.concatenate(scores_out).astype(np.float64)

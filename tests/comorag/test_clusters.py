"""Soft Gaussian-mixture clustering: BIC choice of k, soft membership, determinism, the sample cap."""

from __future__ import annotations

import numpy as np
import pytest

from hippo.graph.clusters import bic_components, reduce_dimensions, soft_clusters


def blobs(centres: list[list[float]], size: int = 40, spread: float = 0.05, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(c, spread, size=(size, len(c))) for c in centres])


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_bic_chooses_the_number_of_separable_blobs(k):
    centres = [[3.0 * i, (-1.0) ** i * 2.0, float(i % 2)] for i in range(k)]
    chosen, bics = bic_components(blobs(centres), 12)
    assert chosen == k
    assert min(bics, key=bics.get) == k and 1 in bics


def test_bic_never_tries_more_components_than_rows_allow():
    _, bics = bic_components(blobs([[0.0, 0.0]], size=6), 50)
    assert max(bics) <= 5


def test_points_between_two_clusters_belong_to_both():
    x = blobs([[0.0, 0.0], [1.0, 0.0]], size=60, spread=0.3)
    found = soft_clusters(x, dim=2, threshold=0.1, max_components=2)
    dense = found.membership.toarray()
    assert found.global_k == 2
    shared = (dense > 0).sum(axis=0) >= 2
    assert shared.any()  # soft membership: the overlap sits in both clusters
    between = np.abs(x[:, 0] - 0.5) < 0.15
    assert shared[between].mean() > shared[~between].mean()  # ... and it is the overlap that does
    assert ((dense > 0).sum(axis=0) >= 1).all()  # every row has a cluster
    with_higher_threshold = soft_clusters(x, dim=2, threshold=0.45, max_components=2).membership.toarray()
    assert ((with_higher_threshold > 0).sum(axis=0) >= 2).sum() < shared.sum()


def test_clustering_is_deterministic_for_a_seed():
    x = blobs([[0.0] * 8, [1.0] * 8, [0.0] * 4 + [1.0] * 4], size=50, spread=0.2)
    first = soft_clusters(x, dim=4, seed=3)
    again = soft_clusters(x.copy(), dim=4, seed=3)
    assert first.n_clusters == again.n_clusters
    assert np.array_equal(first.membership.toarray(), again.membership.toarray())


def test_large_inputs_are_fitted_on_a_sample_and_all_rows_assigned():
    x = blobs([[0.0] * 6, [2.0] * 6], size=300, spread=0.3)
    found = soft_clusters(x, dim=3, sample=150, seed=1)
    assert found.fitted == 150
    assert found.membership.shape[1] == 600
    assert (np.asarray(found.membership.sum(axis=0)).ravel() > 0).all()


def test_tiny_inputs_form_one_cluster_and_bad_arguments_are_refused():
    assert soft_clusters(np.ones((2, 4))).membership.toarray().tolist() == [[1.0, 1.0]]
    assert soft_clusters(np.zeros((0, 4))).n_clusters == 0
    with pytest.raises(ValueError, match="threshold"):
        soft_clusters(np.ones((5, 3)), threshold=0.0)
    with pytest.raises(ValueError, match="2-D"):
        soft_clusters(np.ones(5))
    assert reduce_dimensions(np.random.default_rng(0).normal(size=(5, 8)), 10).shape == (5, 3)

"""The one-dimensional two-component Gaussian mixture and the association rule."""

import numpy as np
import pytest

from hippo.memory.association import MIN_CANDIDATES, associate, gmm_accept


def _bimodal(rng: np.random.Generator, n: int = 30) -> np.ndarray:
    high = int(rng.integers(3, 10))
    return np.concatenate([rng.normal(0.3, 0.05, n - high), rng.normal(0.6, 0.05, high)])


def test_the_mixture_agrees_with_scikit_learn_on_two_clusters():
    sklearn = pytest.importorskip("sklearn.mixture")
    rng = np.random.default_rng(7)
    rows = np.array([_bimodal(rng) for _ in range(60)])
    mine = gmm_accept(rows)
    agree = 0
    for row, accepted in zip(rows, mine):
        gmm = sklearn.GaussianMixture(2, random_state=0).fit(row.reshape(-1, 1))
        reference = gmm.predict(row.reshape(-1, 1)) == np.argmax(gmm.means_.ravel())
        agree += np.array_equal(reference, accepted)
    assert agree >= 57


def test_each_row_is_fitted_on_its_own():
    rng = np.random.default_rng(3)
    rows = np.array([_bimodal(rng) for _ in range(20)] + [rng.uniform(0, 1, 30) for _ in range(20)])
    together = gmm_accept(rows)
    assert all(np.array_equal(together[i], gmm_accept(rows[i:i + 1])[0]) for i in range(len(rows)))


def test_flat_rows_and_masked_entries_accept_nothing():
    assert not gmm_accept(np.full((1, 30), 0.4)).any()
    scores = np.array([[0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.95]])
    valid = np.array([[True, True, True, True, True, True, False]])
    accepted = gmm_accept(scores, valid)
    assert accepted.tolist() == [[True, True, False, False, False, False, False]]


def test_associate_links_only_to_earlier_documents():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    groups = np.repeat(np.arange(6), 10)
    rows, columns, scores = associate(vectors[20:], groups[20:], vectors[:20], top_n=30)
    assert rows.size
    pool_groups = np.concatenate([groups[:20], groups[20:]])
    assert (pool_groups[columns] < groups[20:][rows]).all()  # old units, or new units of earlier groups
    pool = np.concatenate([vectors[:20], vectors[20:]])
    assert np.allclose(scores, np.einsum("ij,ij->i", vectors[20:][rows], pool[columns]))


def test_too_few_candidates_give_no_edges():
    vectors = np.eye(4, dtype=np.float32)
    rows, _, _ = associate(vectors[2:], np.array([0, 1]), vectors[:2], top_n=30)
    assert rows.size == 0 and MIN_CANDIDATES > 3

"""The entropy router prefers the granularity whose scores single out one unit."""

import numpy as np

from hippo.memory.router import ROUTER_EPSILON, granularity_weights, normalised_entropy, route


def test_router_prefers_the_granularity_whose_scores_single_out_one_unit():
    rng = np.random.default_rng(0)
    peaked = np.full(20, 0.2) + rng.normal(0, 0.01, 20)
    peaked[7] = 0.8
    flat = 0.5 + rng.normal(0, 0.01, 30)  # higher cosines, but nothing stands out
    scores = np.concatenate([peaked, flat])[None, :]
    codes = np.array([0] * 20 + [1] * 30)
    weights = granularity_weights(scores, codes, 2, temperature=0.05)
    assert weights[0, 0] > 0.8 > 0.2 > weights[0, 1] > 0
    assert np.isclose(weights.sum(), 1.0)
    routed, _ = route(scores, codes, 2, temperature=0.05)
    assert routed[0].argmax() == 7


def test_weights_stay_positive_where_memgas_raw_entropy_would_invert_them():
    # MemGAS's 1 - H with natural-log entropy is negative for every granularity of 25 flat-ish units.
    codes = np.repeat([0, 1], 25)
    scores = np.concatenate([np.linspace(0.2, 0.4, 25), np.linspace(0.2, 0.6, 25)])[None, :]
    raw_entropy = normalised_entropy(scores[:, :25], 0.1) * np.log(25)
    assert (1 - raw_entropy < 0).all()
    weights = granularity_weights(scores, codes, 2, temperature=0.1)
    assert (weights > 0).all() and weights[0, 1] > weights[0, 0]  # the wider spread is the more peaked


def test_missing_and_single_unit_granularities():
    scores = np.array([[0.9, 0.1, 0.1, 0.5]])
    weights = granularity_weights(scores, np.array([0, 0, 0, 2]), 4, temperature=0.1)
    assert weights[0, 1] == weights[0, 3] == 0.0  # no units: no weight
    focus = 1 - normalised_entropy(scores[:, :3], 0.1)[0]
    assert np.isclose(weights[0, 2] / weights[0, 0], ROUTER_EPSILON / (focus + ROUTER_EPSILON))


def test_dead_rows_get_no_routed_score():
    routed, weights = route(np.array([[0.9, 0.3, 0.7]]), np.array([0, -1, 0]), 1, temperature=0.1)
    assert routed[0, 1] == 0 and np.isclose(routed[0, [0, 2]].sum(), 2 * weights[0, 0])

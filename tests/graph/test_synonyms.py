"""Synonymy pairs of a batch's new entities: every live neighbour at or above the threshold, best first, at
most ``max_per_entity`` each, as a plain loop over every pair would find them."""

from __future__ import annotations

import numpy as np
import pytest

from hippo.graph.synonyms import BLOCK, synonym_pairs


def unit_rows(rng: np.random.Generator, centres: np.ndarray, n: int) -> np.ndarray:
    """Rows scattered around ``centres``, so many pairs pass a 0.8 cosine."""
    rows = centres[rng.integers(0, len(centres), n)] + 0.4 * rng.standard_normal((n, centres.shape[1]))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def pairs_by_loop(new_ids, names, new, old_ids, old, live, threshold, most):
    """The definition, one pair at a time: ties broken by position, stored rows before the batch's."""
    ids = [*old_ids, *new_ids]
    vectors = np.concatenate([old, new])
    usable = [*live, *[True] * len(new_ids)]
    out = []
    for i, name in enumerate(names):
        if sum(ch.isalnum() for ch in name) <= 2:
            continue
        scores = vectors @ new[i]
        hits = [(-float(scores[j]), j) for j in range(len(ids))
                if usable[j] and j != len(old_ids) + i and scores[j] >= threshold]
        out.extend((new_ids[i], ids[j], -score) for score, j in sorted(hits)[:most])
    return out


@pytest.mark.parametrize("stored", [0, 40, 300])
@pytest.mark.parametrize("most", [100, 3])
def test_pairs_equal_the_pairwise_definition(stored, most):
    rng = np.random.default_rng(stored + most)
    centres = rng.standard_normal((12, 36))
    old, new = unit_rows(rng, centres, stored), unit_rows(rng, centres, 90)
    old_ids = np.array([f"e{i}" for i in range(stored)], dtype=object)
    new_ids = [f"n{i}" for i in range(90)]
    names = ["ab" if i % 9 == 0 else f"name {i}" for i in range(90)]  # 2 letters: no synonyms of its own
    live = rng.random(stored) > 0.2
    got = synonym_pairs(new_ids, names, new, old_ids, old.reshape(stored, 36), live, threshold=0.8,
                        max_per_entity=most)
    want = pairs_by_loop(new_ids, names, new, list(old_ids), old.reshape(stored, 36), list(live), 0.8, most)
    assert [(a, b) for a, b, _ in got] == [(a, b) for a, b, _ in want]
    np.testing.assert_allclose([s for *_, s in got], [s for *_, s in want], atol=1e-5)
    assert len(got) > 90, "the rows are close enough for many pairs"


def test_blocks_of_queries_give_the_same_pairs_as_one(monkeypatch):
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((8, 24))
    old, new = unit_rows(rng, centres, 50), unit_rows(rng, centres, 40)
    args = ([f"n{i}" for i in range(40)], ["name"] * 40, new, np.array([f"e{i}" for i in range(50)], dtype=object),
            old, np.ones(50, dtype=bool))
    whole = synonym_pairs(*args)
    monkeypatch.setattr("hippo.graph.synonyms.BLOCK", 7)
    assert synonym_pairs(*args) == whole and BLOCK == 1024

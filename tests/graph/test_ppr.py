import igraph as ig
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from hippo.errors import ConvergenceError, NoSeedsError
from hippo.graph.ppr import _ppr_dense, personalized_pagerank, transition_matrix


def random_graph(n: int, edges: int, seed: int, isolated: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    adjacency = np.zeros((n, n))
    for _ in range(edges):
        a, b = rng.integers(0, n - isolated, size=2)
        if a != b:
            w = rng.uniform(0.5, 3.0)
            adjacency[a, b] += w
            adjacency[b, a] += w
    return adjacency


def fast(adjacency: np.ndarray, seeds: np.ndarray, damping: float) -> np.ndarray:
    transition, dangling = transition_matrix(sp.csr_array(adjacency))
    return personalized_pagerank(transition, seeds, dangling=dangling, damping=damping, tol=1e-12)


def networkx_ppr(adjacency: np.ndarray, seeds: np.ndarray, damping: float) -> np.ndarray:
    graph = nx.from_numpy_array(adjacency)
    personalization = {i: float(w) for i, w in enumerate(seeds)}
    scores = nx.pagerank(graph, alpha=damping, personalization=personalization, weight="weight", tol=1e-13,
                         max_iter=1000)
    return np.array([scores[i] for i in range(len(seeds))])


def igraph_ppr(adjacency: np.ndarray, seeds: np.ndarray, damping: float) -> np.ndarray:
    rows, cols = np.nonzero(np.triu(adjacency, k=1))
    graph = ig.Graph(n=len(seeds), edges=list(zip(rows.tolist(), cols.tolist())), directed=False)
    graph.es["weight"] = adjacency[rows, cols].tolist()
    return np.array(graph.personalized_pagerank(damping=damping, directed=False, weights="weight",
                                                reset=seeds.tolist(), implementation="prpack"))


@pytest.mark.parametrize("reference", [_ppr_dense, networkx_ppr, igraph_ppr], ids=["dense", "networkx", "igraph"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("damping", [0.5, 0.85])
def test_agrees_with_references_to_1e6(reference, seed, damping):
    adjacency = random_graph(40, 90, seed)
    rng = np.random.default_rng(seed + 100)
    seeds = np.where(rng.random(40) < 0.2, rng.random(40), 0.0)
    seeds[0] = 0.3
    ours = fast(adjacency, seeds, damping)
    np.testing.assert_allclose(ours, reference(adjacency, seeds, damping), atol=1e-6)
    assert ours.sum() == pytest.approx(1.0)


def test_batched_columns_equal_single_runs():
    adjacency = random_graph(30, 60, 7)
    transition, dangling = transition_matrix(sp.csr_array(adjacency))
    seeds = np.random.default_rng(3).random((30, 4))
    batched = personalized_pagerank(transition, seeds, dangling=dangling)
    for column in range(4):
        single = personalized_pagerank(transition, seeds[:, column], dangling=dangling)
        np.testing.assert_allclose(batched[:, column], single, atol=1e-12)


def test_bad_seeds_raise_named_errors():
    transition, _ = transition_matrix(sp.csr_array(random_graph(5, 6, 1, isolated=0)))
    with pytest.raises(NoSeedsError, match="no seed weight"):
        personalized_pagerank(transition, np.zeros(5))
    with pytest.raises(ValueError, match="non-negative"):
        personalized_pagerank(transition, np.array([1, -1, 0, 0, 0.0]))
    with pytest.raises(ValueError, match="seeds has 4 entries but the graph has 5 nodes"):
        personalized_pagerank(transition, np.ones(4))
    with pytest.raises(ValueError, match="damping"):
        personalized_pagerank(transition, np.ones(5), damping=1.0)
    with pytest.raises(ConvergenceError, match="did not converge in 2 steps"):
        personalized_pagerank(transition, np.arange(5.0), damping=0.99, max_iter=2)

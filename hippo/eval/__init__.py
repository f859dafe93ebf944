"""Evaluation: retrieval metrics and the one JSON shape every benchmark writes."""

from hippo.eval.metrics import all_gold_at_k, percentile_ms, recall_at_k
from hippo.eval.results import machine_info, write_results

__all__ = ["recall_at_k", "all_gold_at_k", "percentile_ms", "write_results", "machine_info"]

"""MemGAS memory: association of units by a Gaussian mixture, the entropy router, offline summaries and keywords."""

from hippo.memory.association import associate, gmm_accept
from hippo.memory.extractive import extract_keywords, extractive_summary
from hippo.memory.router import granularity_weights, route

__all__ = ["associate", "extract_keywords", "extractive_summary", "gmm_accept", "granularity_weights", "route"]

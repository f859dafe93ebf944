"""Where a Neo4j store lives: the URI from ``--store`` plus credentials and database from the environment.

Credentials never travel in the URI (it is shown in messages, ``hippo stats`` and the UI), so
``neo4j://user:pass@host`` is refused; the password is held as a :class:`~hippo.llm.config.Secret`
that never shows itself in reprs, logs or tracebacks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hippo.errors import ConfigError

if TYPE_CHECKING:
    from hippo.llm.config import Secret

__all__ = [
    "NEO4J_SCHEMES",
    "USER_ENV",
    "PASSWORD_ENV",
    "DATABASE_ENV",
    "Neo4jTarget",
    "is_neo4j_location",
    "neo4j_target",
]

NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
"""URI schemes the official driver accepts: ``neo4j`` routes (cluster, Aura), ``bolt`` talks to one server."""
USER_ENV = "HIPPO_NEO4J_USER"
PASSWORD_ENV = "HIPPO_NEO4J_PASSWORD"
DATABASE_ENV = "HIPPO_NEO4J_DATABASE"
DEFAULT_USER = "neo4j"
DEFAULT_PORT = 7687


@dataclass(frozen=True)
class Neo4jTarget:
    """A Neo4j database to keep a store in.

    ``password`` is None when ``HIPPO_NEO4J_PASSWORD`` is unset (then no credentials are sent, for a
    server with authentication off); ``database`` None means the server's default database.
    """

    uri: str
    user: str
    password: Secret | None
    database: str | None

    @property
    def auth(self) -> tuple[str, str] | None:
        """What the driver's ``auth=`` takes."""
        return (self.user, self.password.reveal()) if self.password is not None else None

    def describe(self) -> str:
        """The URI and database, for messages (never the password)."""
        return f"{self.uri} (database {self.database!r})" if self.database else self.uri


def is_neo4j_location(location: str) -> bool:
    """True when ``location`` is a ``neo4j://`` or ``bolt://`` URI rather than a store folder.

    >>> is_neo4j_location("bolt://localhost:7687"), is_neo4j_location("./kg"), is_neo4j_location("NEO4J+S://db")
    (True, False, True)
    """
    scheme, sep, _ = location.partition("://")
    return bool(sep) and scheme.lower() in NEO4J_SCHEMES


def neo4j_target(location: str, env: Mapping[str, str] | None = None) -> Neo4jTarget:
    """Parse ``location`` and read ``HIPPO_NEO4J_USER``, ``HIPPO_NEO4J_PASSWORD`` and ``HIPPO_NEO4J_DATABASE``.

    Raises :class:`ConfigError` for a URI without a host, with a bad port, with a path, or with
    credentials in it.

    >>> t = neo4j_target("neo4j://db.example:7688", {"HIPPO_NEO4J_PASSWORD": "s3cret"})
    >>> t.uri, t.user, t.database, t.password
    ('neo4j://db.example:7688', 'neo4j', None, Secret('***'))
    """
    from hippo.llm.config import Secret  # here, so that recognising a URI does not import the LLM client

    env = os.environ if env is None else env
    if not is_neo4j_location(location):
        raise ConfigError(f"{location!r} is not a Neo4j URI; use neo4j://host:7687 or bolt://host:7687.")
    parts = urlsplit(location.strip())
    scheme = parts.scheme.lower()
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"the Neo4j URI {scheme}://{parts.hostname or ''}... carries credentials; put the user in "
            f"{USER_ENV} and the password in {PASSWORD_ENV} instead, so they never show in messages."
        )
    if not parts.hostname:
        raise ConfigError(f"the Neo4j URI {location!r} names no host; use {scheme}://host:{DEFAULT_PORT}.")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(
            f"the Neo4j URI {location!r} has an invalid port; use {scheme}://host:{DEFAULT_PORT}."
        ) from None
    if parts.path not in ("", "/"):
        raise ConfigError(
            f"the Neo4j URI {location!r} has a path ({parts.path}); name the database with {DATABASE_ENV} instead."
        )
    if parts.query and not scheme.startswith("neo4j"):
        raise ConfigError(
            f"the Neo4j URI {location!r} has a routing context (?{parts.query}), which only "
            "neo4j:// URIs take; drop it or use neo4j://."
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    uri = f"{scheme}://{host}:{port or DEFAULT_PORT}" + (f"?{parts.query}" if parts.query else "")
    password = env.get(PASSWORD_ENV)
    return Neo4jTarget(
        uri=uri,
        user=env.get(USER_ENV) or DEFAULT_USER,
        password=Secret(password) if password else None,
        database=env.get(DATABASE_ENV) or None,
    )

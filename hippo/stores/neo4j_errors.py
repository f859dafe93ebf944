"""Driver failures turned into :class:`~hippo.errors.StoreError` messages that name the server and say what to do.

The driver's own exceptions mention sockets and routing tables; a user needs to know which server,
whether the batch in flight landed, and whether what was committed before is safe (it is: every
batch is one transaction). Messages never contain the password: the target's ``describe()`` shows
the URI and database only, and the driver's messages carry no credentials.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hippo.errors import ConfigError, StoreError
from hippo.stores.neo4j_target import PASSWORD_ENV, USER_ENV, Neo4jTarget

__all__ = ["DRIVER_MISSING", "driver_errors", "require_driver"]

DRIVER_MISSING = (
    "the Neo4j store needs the official neo4j driver, which is not installed; "
    "run `pip install 'hippo[neo4j]'` (or `pip install 'neo4j>=6' neo4j-rust-ext`)."
)
DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"


def require_driver() -> Any:
    """The ``neo4j`` driver module, or a :class:`ConfigError` naming the extra to install."""
    if importlib.util.find_spec("neo4j") is None:
        raise ConfigError(DRIVER_MISSING)
    import neo4j

    return neo4j


@contextmanager
def driver_errors(target: Neo4jTarget, action: str) -> Iterator[None]:
    """Translate driver exceptions raised inside the block; ``action`` is ``"read"``, ``"write"`` or ``"commit"``.

    A lost connection during a write says the batch was rolled back and earlier batches are kept;
    during a commit it says the batch may or may not have landed (re-running is safe: indexing
    skips what is already stored).
    """
    from neo4j import exceptions as ex

    where = target.describe()
    try:
        yield
    except ex.AuthError as exc:
        unset = f" ({PASSWORD_ENV} is not set)" if target.password is None else ""
        raise StoreError(
            f"the Neo4j server at {where} refused user {target.user!r}{unset}: {_message(exc)}. "
            f"Check {USER_ENV} and {PASSWORD_ENV}."
        ) from None
    except ex.IncompleteCommit:
        raise StoreError(
            f"the connection to the Neo4j server at {where} broke while a batch was committing, so that batch "
            "may or may not have landed; batches before it are kept. Run the same command again once the server "
            "is reachable: what is already stored is skipped."
        ) from None
    except (ex.ServiceUnavailable, ex.SessionExpired, ex.ConnectionAcquisitionTimeoutError) as exc:
        if action == "read":
            raise StoreError(
                f"cannot reach the Neo4j server at {where}: {_message(exc)}. Is it running, and is "
                "the URI right? `docker compose up -d neo4j` starts one (see README, Neo4j)."
            ) from None
        raise StoreError(
            f"lost the connection to the Neo4j server at {where} during a {action}: {_message(exc)}. This batch "
            "was rolled back and the batches committed before it are kept; run the same command again once the "
            "server is reachable, and it resumes where it stopped."
        ) from None
    except ex.Neo4jError as exc:
        if exc.code == DATABASE_NOT_FOUND:
            raise StoreError(
                f"database {target.database!r} does not exist on the Neo4j server at {target.uri}; "
                "set HIPPO_NEO4J_DATABASE to an existing database (Community edition has one, "
                "'neo4j')."
            ) from None
        raise StoreError(f"the Neo4j server at {where} refused a {action}: {exc.code}: {_message(exc)}") from None
    except ex.DriverError as exc:
        raise StoreError(f"the Neo4j driver failed talking to {where} during a {action}: {_message(exc)}") from None


def _message(exc: BaseException) -> str:
    """The exception's own words on one line, without a trailing full stop."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split()).rstrip(".")

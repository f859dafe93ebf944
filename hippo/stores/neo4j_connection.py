"""One connection to a Neo4j database: sessions, reads, and the one explicit write transaction per batch.

Why a class apart from the store: the store maps hippo's records to Cypher; this owns the driver
and the rules of talking to it. A read runs inside the calling thread's open write transaction
when there is one (so a batch reads its own writes, as with SQLite), else in a read transaction
of its own; every write must run in the open transaction; every driver failure becomes a
:class:`~hippo.errors.StoreError` naming the server (see :mod:`hippo.stores.neo4j_errors`).
Sessions share one bookmark manager, so a read after a commit sees it even on a cluster.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hippo.errors import StoreError
from hippo.stores.neo4j_errors import driver_errors, require_driver
from hippo.stores.neo4j_target import Neo4jTarget

__all__ = ["WRITE_CHUNK", "Deferred", "Neo4jConnection", "Run", "driver_options", "has_rust_extension"]

logger = logging.getLogger(__name__)
logging.getLogger("neo4j").addHandler(logging.NullHandler())
"""The driver logs failed connections itself; hippo reports them once, as a StoreError that names the server,
so without an application's logging set up, the driver's lines are not printed as well."""

WRITE_CHUNK = 1000
"""Rows per ``UNWIND`` statement (vectors included, so one statement stays a few megabytes)."""

Run = Callable[..., list[list[Any]]]
"""``run(query, **params) -> rows``: one statement in the current transaction."""

NOTIFICATIONS = {"notifications_min_severity": "WARNING", "notifications_disabled_classifications": ["UNRECOGNIZED"]}
"""What the server may tell the driver, which logs it: warnings only (deprecations, performance), and not
"label/property/relationship type does not exist" (UNRECOGNIZED), which every read of a kind the store
does not hold yet (clusters before ``hippo cluster``, a document's absent ``timestamp``) would raise."""
RUST_EXTENSION = "neo4j._rust"
"""The driver's compiled codec (package ``neo4j-rust-ext``): without it each vector float is packed and
unpacked in Python, measured at about 2 s per 1,000 384-wide vectors written and 1 s per 1,000 read."""


def driver_options() -> dict[str, Any]:
    """Keyword arguments for ``GraphDatabase.driver`` beyond URI and auth (one place for the store and drop_store)."""
    return {"user_agent": "hippo", **NOTIFICATIONS}


def has_rust_extension() -> bool:
    """True when the driver packs values with its compiled codec (``pip install neo4j-rust-ext``)."""
    return importlib.util.find_spec(RUST_EXTENSION) is not None


class Deferred:
    """Rows queued for ``UNWIND $rows`` statements, in the order they were queued.

    Consecutive rows of one statement go out together; ``weight`` (the records a row carries) tells when
    enough is queued for one statement of about :data:`WRITE_CHUNK` records.

    >>> queue = Deferred()
    >>> queue.add("A", 1, weight=400), queue.add("A", 2, weight=400), queue.add("B", 3, weight=400)
    (False, False, True)
    >>> queue.take(), queue.take()
    ([('A', [1, 2]), ('B', [3])], [])
    """

    def __init__(self) -> None:
        self._queued: list[tuple[str, list[Any]]] = []
        self._weight = 0

    def add(self, query: str, row: Any, weight: int = 1) -> bool:
        """Queue ``row`` for ``query``; True when the queue holds a statement's worth and should go out."""
        if self._queued and self._queued[-1][0] == query:
            self._queued[-1][1].append(row)
        else:
            self._queued.append((query, [row]))
        self._weight += weight
        return self._weight >= WRITE_CHUNK

    def take(self) -> list[tuple[str, list[Any]]]:
        """Everything queued, emptying the queue."""
        queued, self._queued, self._weight = self._queued, [], 0
        return queued


class Neo4jConnection:
    """The driver for one :class:`Neo4jTarget`, and the write transaction open on it (at most one)."""

    def __init__(self, target: Neo4jTarget, driver: Any) -> None:
        self.target = target
        self._driver = driver
        self._neo4j = require_driver()
        self._bookmarks = self._neo4j.GraphDatabase.bookmark_manager()
        self._lock = threading.RLock()
        self._tx: Any = None
        self._tx_thread: int | None = None
        self._deferred = Deferred()
        self.profile: dict[str, list[float]] | None = None
        """When set to a dict (``bench/neo4j.py`` does), [seconds, statements] accumulate per statement text:
        where a write batch or a cold start spends its time, packing and unpacking included."""

    @classmethod
    def connect(cls, target: Neo4jTarget) -> Neo4jConnection:
        """Create the driver and check that the server answers and accepts the credentials."""
        neo4j = require_driver()
        with driver_errors(target, "read"):
            driver = neo4j.GraphDatabase.driver(target.uri, auth=target.auth, **driver_options())
        try:
            with driver_errors(target, "read"):
                driver.verify_connectivity()
        except BaseException:
            driver.close()
            raise
        logger.info("connected to Neo4j at %s as user %s", target.describe(), target.user)
        if not has_rust_extension():
            logger.warning(
                "the neo4j driver runs without its compiled codec, so vectors travel about 40x slower; "
                "`pip install neo4j-rust-ext` (part of `hippo[neo4j]`) adds it"
            )
        return cls(target, driver)

    def close(self) -> None:
        with self._lock:
            self._driver.close()

    def server_agent(self) -> str:
        """The server's product and version, e.g. ``Neo4j/5.26.2``."""
        with driver_errors(self.target, "read"):
            return str(self._driver.get_server_info().agent)

    def session(self, write: bool = False) -> Any:
        """A new session on the target database (the caller closes it)."""
        mode = self._neo4j.WRITE_ACCESS if write else self._neo4j.READ_ACCESS
        return self._driver.session(
            database=self.target.database, bookmark_manager=self._bookmarks, default_access_mode=mode
        )

    # --- statements ------------------------------------------------------------------------
    def in_transaction(self) -> bool:
        """True when the calling thread holds the open write transaction."""
        return self._tx is not None and self._tx_thread == threading.get_ident()

    def rows(self, query: str, **params: Any) -> list[list[Any]]:
        """The rows of one read."""
        with self.snapshot() as run:
            return run(query, **params)

    @contextmanager
    def snapshot(self) -> Iterator[Run]:
        """Several reads in one read transaction (or in this thread's open write transaction)."""
        if self.in_transaction():
            yield self.write
            return
        with driver_errors(self.target, "read"), self.session() as session:
            tx = session.begin_transaction()
            try:
                yield lambda query, **params: self._values(tx, "read", query, params)
            finally:
                tx.close()

    def require_transaction(self) -> None:
        """Refuse a write outside ``with store.transaction():`` (or from another thread than the one holding it)."""
        if not self.in_transaction():
            raise StoreError("writes must happen inside `with store.transaction():`.")

    def write(self, query: str, **params: Any) -> list[list[Any]]:
        """One statement in this thread's open write transaction (after the rows deferred before it)."""
        self.require_transaction()
        self.flush()
        return self._values(self._tx, "write", query, params)

    def defer(self, query: str, row: Any, weight: int = 1) -> None:
        """Queue one row of an ``UNWIND $rows`` statement, to be sent with the rows queued beside it.

        Why: a batch writes its documents one call at a time, and a statement each was one round trip
        per document. Queued rows go out before the transaction's next statement (which may read them)
        or its commit, so the order of writes is kept; ``weight`` (records in the row) bounds a statement
        to about :data:`WRITE_CHUNK` records.
        """
        self.require_transaction()
        if self._deferred.add(query, row, weight):
            self.flush()

    def flush(self) -> None:
        """Send the rows :meth:`defer` queued, one statement per run of rows of the same query."""
        for query, rows in self._deferred.take():
            self._values(self._tx, "write", query, {"rows": rows})

    def write_chunks(self, query: str, rows: list[Any], what: str = "") -> None:
        """``query`` over ``$rows`` in chunks; with ``what``, each chunk must report writing every row
        (its first column), as a foreign key would insist in the embedded store."""
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start : start + WRITE_CHUNK]
            result = self.write(query, rows=chunk)
            if what and result and result[0][0] != len(chunk):
                raise StoreError(
                    f"{len(chunk) - result[0][0]} of {len(chunk)} {what} name a record that is not "
                    f"stored in {self.target.describe()}; nothing of this batch was written."
                )

    def schema_rows(self, query: str) -> list[list[Any]]:
        """The rows of a ``SHOW ...`` command, in an auto-commit transaction (as schema commands run)."""
        with driver_errors(self.target, "read"), self.session() as session:
            return session.run(query).values()

    def run_schema(self, statements: tuple[str, ...] | list[str], params: dict[str, Any] | None = None) -> None:
        """Schema commands, each in its own auto-commit transaction (Neo4j does not mix them with data writes)."""
        with driver_errors(self.target, "write"), self.session(write=True) as session:
            for statement in statements:
                session.run(statement, params or {}).consume()

    def _values(self, tx: Any, action: str, query: str, params: dict[str, Any]) -> list[list[Any]]:
        """Run one statement in ``tx`` and fetch its rows (timed into :attr:`profile` when that is set)."""
        started = time.perf_counter()
        with driver_errors(self.target, action):
            rows = tx.run(query, params).values()
        if self.profile is not None:
            spent = self.profile.setdefault(query, [0.0, 0])
            spent[0] += time.perf_counter() - started
            spent[1] += 1
        return rows

    # --- the batch transaction ----------------------------------------------------------------
    @contextmanager
    def transaction(self, begin: Callable[[Run], None], finish: Callable[[Run], None]) -> Iterator[None]:
        """One explicit write transaction: ``begin(run)`` first, the caller's writes, ``finish(run)``, commit.

        Anything raised inside rolls it back (a connection that is already gone rolls back on the
        server by itself); a commit cut short says that the batch may or may not have landed.
        """
        with self._lock:
            if self._tx is not None:
                raise StoreError("a write transaction is already open on this store; batches do not nest.")
            session = self.session(write=True)
            try:
                with driver_errors(self.target, "write"):
                    tx = session.begin_transaction()
                self._tx, self._tx_thread = tx, threading.get_ident()
                try:
                    begin(self.write)
                    yield
                    self.flush()
                    finish(lambda query, **params: self._values(tx, "commit", query, params))
                    with driver_errors(self.target, "commit"):
                        tx.commit()
                except BaseException:
                    _rollback(tx)
                    raise
                finally:
                    self._tx = self._tx_thread = None
                    self._deferred.take()  # what a failed batch queued is dropped with it
            finally:
                _quietly_close(session)




def _rollback(tx: Any) -> None:
    """Roll back, ignoring a connection that is already gone (the server then rolls back by itself)."""
    from neo4j import exceptions as ex

    try:
        if not tx.closed():
            tx.rollback()
    except (ex.DriverError, ex.Neo4jError) as exc:
        logger.debug("rollback after a failed batch: %s", exc)


def _quietly_close(session: Any) -> None:
    from neo4j import exceptions as ex

    try:
        session.close()
    except (ex.DriverError, ex.Neo4jError) as exc:
        logger.debug("closing a session after a failed batch: %s", exc)

"""The embedded store's cross-process write lock: an ``flock`` on ``write.lock`` in the store folder.

Separate from the store because it touches no database: the kernel releases the lock when its
holder dies, even by SIGKILL, and the file keeps the last holder's pid and command only to name it
in messages, which ``hippo check`` reads too (:func:`lock_holder`). Readers never take it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from hippo.errors import StoreError

__all__ = ["LOCK_NAME", "WriteLock", "lock_holder"]

LOCK_NAME = "write.lock"


class WriteLock:
    """``write.lock`` of one store folder, held by one store object; re-entrant (batches inside a run).

    Waits are logged to ``log``, the store's logger, so everything the store says shares one name.
    """

    def __init__(self, folder: Path, log: logging.Logger) -> None:
        self.folder = folder
        self._log = log
        self._handle: Any = None
        self._depth = 0

    def acquire(self, timeout: float) -> None:
        """Take ``write.lock`` (or count one more use of it, when this store already holds it)."""
        if self._depth:
            self._depth += 1
            return
        handle = open(self.folder / LOCK_NAME, "a+")  # noqa: SIM115  (held until the batch or run ends)
        deadline = time.monotonic() + timeout
        waiting = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = lock_holder(handle)
                if time.monotonic() > deadline:
                    handle.close()
                    raise StoreError(
                        f"store {self.folder} is being written by another process ({holder}); gave up after "
                        f"waiting {timeout:.0f} s. Let it finish (or stop it), then run this again."
                    ) from None
                if not waiting:
                    self._log.warning("store %s is being written by another process (%s); waiting up to %.0f s "
                                      "for it to finish", self.folder, holder, timeout)
                    waiting = True
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {_command_line()}")
        handle.flush()
        self._handle = handle
        self._depth = 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def _command_line() -> str:
    """This process's command line, shortened: what a waiting writer is told about the lock's holder."""
    words = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    line = " ".join(words).replace("\n", " ")
    return line if len(line) <= 200 else line[:199] + "…"


def lock_holder(handle: Any) -> str:
    """Who holds the write lock, from what it wrote into the lock file (``pid 123: hippo index docs``)."""
    handle.seek(0)
    pid, _, command = handle.read().strip().partition(" ")
    if not pid:
        return "pid unknown"
    return f"pid {pid}: {command}" if command else f"pid {pid}"

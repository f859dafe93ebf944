"""CPU seconds of this process and its helper processes, for reports that put CPU time beside wall time.

Why: ingest shares work with helper processes (``hippo.parallel``), which stay alive between batches, so
``resource.getrusage(RUSAGE_CHILDREN)`` (filled only when a child exits) does not see them. On Linux each
live child's user and system time is read from ``/proc/<pid>/stat``; elsewhere only this process counts.
On a machine shared with other work, wall time says how long a user waited and CPU time how much work
was done: the two together tell a slow stage from a starved one. Helpers that have ended and been
waited for count through ``RUSAGE_CHILDREN``, so a pool shut down between two readings is not lost.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

__all__ = ["process_tree_cpu"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_tree_cpu() -> float:
    """CPU seconds (user + system) used so far by this process and its child processes, live or ended."""
    ended = resource.getrusage(resource.RUSAGE_CHILDREN) if resource is not None else None
    return time.process_time() + sum(_child_seconds()) + (ended.ru_utime + ended.ru_stime if ended else 0.0)


def _child_seconds() -> list[float]:
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    me = os.getpid()
    out = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended while we looked
            continue
        if len(fields) > 12 and int(fields[1]) == me:  # fields after the name: state, ppid, ..., utime, stime
            out.append((int(fields[11]) + int(fields[12])) / _TICKS)
    return out

"""``hippo ui`` as a process manager sees it: ``kill PID`` (SIGTERM) or Ctrl-C (SIGINT) of the launcher ends
every process of the UI, frees the port and leaves the store to the next writer."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import hippo
from hippo.ui.launch import STOP_GRACE_SECONDS
from tests.ui.test_browser import free_port

HIPPO = Path(sys.executable).with_name("hippo")
START_TIMEOUT = 60.0


def children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc), whatever process group or session it is in."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped has ended: it holds no port, file or memory)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in {"Z", "X"}


def wait_healthy(url: str, launcher: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if launcher.poll() is not None:
            pytest.fail(f"hippo ui exited with {launcher.returncode}:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError):
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        if time.monotonic() > deadline:
            pytest.fail(f"hippo ui did not answer within {START_TIMEOUT:.0f} s:\n{log.read_text()[-2000:]}")
        time.sleep(0.3)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_hippo_ui_ends_every_process_of_the_ui(small_store: Path, tmp_path: Path, sig: signal.Signals):
    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("wb") as out:
        launcher = subprocess.Popen([str(HIPPO), "ui", "--store", str(small_store), "--port", str(port)],
                                    stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", launcher, log)
        tree = children(launcher.pid)
        assert tree, "hippo ui started no server process"
        os.kill(launcher.pid, sig)
        assert launcher.wait(timeout=STOP_GRACE_SECONDS + 30) == 0
    finally:
        if launcher.poll() is None:  # the test failed: do not leak the server into the next tests
            for pid in children(launcher.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            launcher.kill()
            launcher.wait()
    left = [pid for pid in tree if alive(pid)]
    assert not left, f"still running after {sig.name} to hippo ui: {left}\n{log.read_text()[-2000:]}"
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    with hippo.open(small_store) as kg:  # the store takes a new writer at once
        kg.index_uploads([("after.md", b"# After\n\nWritten after the UI stopped.")], limit_bytes=10**6)
        assert "after.md" in [s.document.source for s in kg.documents()]

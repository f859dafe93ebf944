"""How ``hippo ui`` starts Streamlit: the command line and environment, then a child process.

The server runs in its own process group, and ``hippo ui`` forwards SIGTERM, SIGINT and SIGHUP to
that whole group: ``kill PID`` from a process manager stops the server and anything it started
(the store is released with them), not only Ctrl-C in a terminal. A server that has not stopped
after :data:`STOP_GRACE_SECONDS` is killed.

Importing this module does not import Streamlit, so the CLI stays fast.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from hippo.errors import ConfigError
from hippo.stores import resolve_location

__all__ = ["APP", "DEFAULT_HOST", "DEFAULT_PORT", "EMBED_MODEL_ENV", "STORE_ENV", "UPLOAD_LIMIT_MB", "serve",
           "streamlit_command"]

APP = Path(__file__).resolve().parent / "app.py"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
STORE_ENV = "HIPPO_STORE"
EMBED_MODEL_ENV = "HIPPO_EMBED_MODEL"
UPLOAD_LIMIT_MB = 50
"""Largest file the Documents page accepts, in MB (Streamlit's ``server.maxUploadSize``)."""
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE_SECONDS = 10.0
"""How long a stopping server may take to shut down cleanly before its process group is killed."""


def streamlit_command(store: str, *, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST,
                      embed_model: str | None = None, debug: bool = False) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` argv and environment that serve the UI on ``store``.

    The server is headless (no browser is opened), sends no usage statistics, binds to
    ``host`` (this machine only by default), and shows error details only with ``debug``.
    """
    if not 0 < port < 65536:
        raise ConfigError(f"port {port} is not a TCP port; choose one between 1 and 65535 (default {DEFAULT_PORT}).")
    argv = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.maxUploadSize", str(UPLOAD_LIMIT_MB),
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
        "--client.showErrorDetails", "full" if debug else "none",
        "--global.developmentMode", "false",
    ]
    env = {**os.environ, STORE_ENV: resolve_location(store)}
    if embed_model:
        env[EMBED_MODEL_ENV] = embed_model
    return argv, env


class _StopRequestedError(Exception):
    """Raised by the signal handler to leave ``Popen.wait`` when ``hippo ui`` is told to stop."""


@contextlib.contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """While inside, SIGTERM, SIGINT and SIGHUP raise :class:`_StopRequestedError`; old handlers come back after."""
    def handler(signum: int, frame: object) -> None:
        raise _StopRequestedError(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def stop(process: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop the server and its process group: SIGTERM, then SIGKILL after ``grace`` seconds.

    Whatever is still in the group after the server itself has exited (a helper process it
    started) is killed too, so nothing keeps the port or the store.
    """
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()
    _signal_group(process, signal.SIGKILL)


def serve(store: str, *, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, embed_model: str | None = None,
          debug: bool = False) -> int:
    """Run the UI until the server exits or ``hippo ui`` is told to stop; return the server's exit code.

    SIGTERM, SIGINT (Ctrl-C) and SIGHUP stop the server's whole process group (see :func:`stop`)
    and return 0.
    """
    if importlib.util.find_spec("streamlit") is None:
        raise ConfigError("the web UI needs Streamlit, which is not installed; run `pip install streamlit` "
                          "(or reinstall hippo: `pip install -e .`).")
    argv, env = streamlit_command(store, port=port, host=host, embed_model=embed_model, debug=debug)
    process: subprocess.Popen | None = None
    code = 0
    with _stop_signals_raise():
        try:
            process = subprocess.Popen(argv, env=env, start_new_session=True)
            code = process.wait()
        except _StopRequestedError:
            code = 0
        finally:
            for sig in STOP_SIGNALS:  # a second signal must not cut the stop short
                signal.signal(sig, signal.SIG_IGN)
            if process is not None:
                stop(process)
    return code

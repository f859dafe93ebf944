"""How ``hippo ui`` starts Streamlit: the command line and environment, then a child process.

Importing this module does not import Streamlit, so the CLI stays fast.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
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


def serve(store: str, *, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, embed_model: str | None = None,
          debug: bool = False) -> int:
    """Run the UI until interrupted; return Streamlit's exit code."""
    if importlib.util.find_spec("streamlit") is None:
        raise ConfigError("the web UI needs Streamlit, which is not installed; run `pip install streamlit` "
                          "(or reinstall hippo: `pip install -e .`).")
    argv, env = streamlit_command(store, port=port, host=host, embed_model=embed_model, debug=debug)
    process = subprocess.Popen(argv, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:  # Ctrl-C reached Streamlit too: let it shut down cleanly
        process.wait()
        return 0

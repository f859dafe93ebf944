"""Which model would answer, and the state of the bundled local models: what ``hippo model status`` prints."""

from __future__ import annotations

from typing import Any

from hippo.config import Settings
from hippo.llm.config import llm_config
from hippo.llm.local import local_config, runtime_installed
from hippo.llm.model_files import DEFAULT_SIZE, KNOWN_MODELS, install_hint, model_dir, parts_installed

__all__ = ["llm_status"]


def llm_status(settings: Settings) -> dict[str, Any]:
    """``mode`` (``llm``, ``local`` or ``extractive``) with a ``detail``, each bundled size's state, and a ``hint``.

    Nothing is loaded or hashed: this only looks at the settings, environment and files.
    """
    models = [{"size": m.size_name, "path": str(model_dir() / m.filename), "bytes": m.bytes, "sha256": m.sha256,
               "assembled": (model_dir() / m.filename).exists(), "parts_installed": parts_installed(m)}
              for m in KNOWN_MODELS.values()]
    endpoint = llm_config(settings)
    if endpoint is not None:
        return {"mode": "llm", "detail": f"model {endpoint.model} at {endpoint.host}", "models": models, "hint": ""}
    local = local_config(settings)
    if local is not None:
        threads = f"{local.threads} thread(s)" if local.threads else "threads: the free cores"
        return {"mode": "local", "detail": f"{local.path} ({threads}, context {local.n_ctx})", "models": models,
                "hint": ""}
    off = "turned off (HIPPO_LOCAL_LLM or Settings.extra['local_llm']['enabled'])"
    why = off if runtime_installed() and any(m["assembled"] or m["parts_installed"] for m in models) else (
        f"not installed: {install_hint(KNOWN_MODELS[DEFAULT_SIZE])}")
    hint = f"No model answers, so answers are quoted sentences. The local model is {why}."
    return {"mode": "extractive", "detail": "no endpoint configured and no local model installed or enabled",
            "models": models, "hint": hint}

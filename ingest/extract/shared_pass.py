"""One encoder pass per passage: the NER's word features and the passage's embedding from the same pass.

Why: the bundled NER reads the hidden states of all-MiniLM-L6-v2 (:mod:`.minilm_features`), the model
that also embeds the passages. Run separately, the encoder ran twice over every passage, once per line
for the NER and once over the whole passage for its vector: on 2WikiMultihopQA the NER's pass cost as
much as the embedding. Here the passage is encoded once, exactly as sentence-transformers encodes it
(the same word pieces, cut at the model's ``max_seq_length``, mean-pooled over the last layer and
normalised, under the same ``matmul_precision`` and padded as wide when that is bfloat16, so the
vector equals the embedder's to float rounding, as tests hold it), and the
word pieces' hidden states at the NER's layers are handed to each line's spaCy ``Doc`` through its
``user_data``. Word pieces past the embedding's cut are encoded in further windows for the NER only.

What changes for the NER: a line's words see the whole passage (its title line included) as context
instead of their line alone, and word pieces come from the passage's own tokenisation, mapped to
spaCy's tokens by character offsets (a piece belongs to the token its first character falls in).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from spacy.tokens import Doc

from hippo.ingest.extract.minilm_features import ENCODER_WIDTH, FEATURES_KEY, MAX_PIECES, window_states

__all__ = ["EncodedPassage", "attach_features", "encode_passages"]
BATCH = 32
"""Windows per forward pass at most (and at most ``hippo.embed_batches.BATCH_TOKENS`` word pieces)."""


@dataclass(frozen=True)
class EncodedPassage:
    """A passage's word-piece features at the NER's layers, their character spans, and its unit vector."""

    starts: np.ndarray  # (pieces,) first character of each word piece in the passage text
    features: np.ndarray  # (pieces, ENCODER_WIDTH * len(layers)) float32
    vector: np.ndarray  # (ENCODER_WIDTH,) float32, L2-normalised


@lru_cache(maxsize=2)
def _model(name: str):
    """(tokenizer, transformer, embedding window in word pieces incl. [CLS] and [SEP], torch threads)."""
    from hippo.embed import load_embedder

    embedder = load_embedder(name)
    tokenizer, transformer = embedder.transformer()
    transformer.eval()
    return tokenizer, transformer, embedder.mean_pooled_window(), embedder.threads


def encode_passages(texts: Sequence[str], encoder: str, layers: Sequence[int],
                    precision: str = "auto") -> list[EncodedPassage]:
    """Encode each text once: features at ``layers`` for every word piece, and the embedding of its first window.

    ``precision`` is the store's ``embed_precision`` (:func:`hippo.embed_batches.matmul_precision`), so the vector is
    made as the store's embedder would make it.
    The embedding window is the one sentence-transformers reads (``max_seq_length`` pieces with [CLS] and
    [SEP]); pieces past it are encoded in windows of at most ``MAX_PIECES`` for their features only.
    """
    import torch

    from hippo.embed_batches import BATCH_TOKENS, bf16_products, matmul_precision, threads_for, token_batches
    from hippo.embed_e5 import encodable

    tokenizer, transformer, window, threads = _model(encoder)
    depth = transformer.config.num_hidden_layers
    windows: list[tuple[int, int, list[int]]] = []  # (passage, first piece, piece ids)
    spans: list[np.ndarray] = []
    for index, text in enumerate(texts):
        # the whole passage on purpose (pieces past the window go to further windows): no length warning
        encoded = tokenizer(encodable(text), add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        ids = encoded["input_ids"]
        spans.append(np.asarray([start for start, _ in encoded["offset_mapping"]], dtype=np.int64))
        cuts = [0, min(len(ids), window - 2), *range(window - 2 + MAX_PIECES, len(ids), MAX_PIECES)]
        cuts = sorted(set([*cuts, len(ids)]))
        windows.extend((index, a, ids[a:b]) for a, b in itertools.pairwise(cuts))
        if not ids:
            windows.append((index, 0, []))
    width = ENCODER_WIDTH * len(layers)
    features = [np.zeros((len(s), width), dtype=np.float32) for s in spans]
    vectors = np.zeros((len(texts), ENCODER_WIDTH), dtype=np.float32)
    fixed = bf16_products(precision)
    batches = token_batches([len(ids) + 2 for _, _, ids in windows], BATCH_TOKENS, BATCH, fixed=fixed)
    with torch.inference_mode(), threads_for(len(windows), threads), matmul_precision(precision):
        for batch in batches:
            part = [windows[i] for i in batch]
            states, mask = window_states(tokenizer, transformer, [ids for _, _, ids in part], fixed)
            chosen = torch.cat([states[i] for i in layers], dim=-1).numpy()
            last = states[depth]
            pooled = (last * mask[..., None]).sum(dim=1) / mask.sum(dim=1, keepdim=True)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()
            for row, (index, first, ids) in enumerate(part):
                features[index][first:first + len(ids)] = chosen[row, 1:len(ids) + 1]
                if first == 0:
                    vectors[index] = pooled[row]
    return [EncodedPassage(s, f, v) for s, f, v in zip(spans, features, vectors)]


def attach_features(doc: Doc, encoded: EncodedPassage, offset: int, layers: Sequence[int]) -> None:
    """Give ``doc`` (a line of the passage starting at character ``offset``) its tokens' mean piece features."""
    sums = np.zeros((len(doc), encoded.features.shape[1]), dtype=np.float32)
    if not len(doc):
        doc.user_data[FEATURES_KEY] = (tuple(layers), sums)
        return
    starts = np.asarray([offset + token.idx for token in doc], dtype=np.int64)
    ends = starts + np.asarray([len(token) for token in doc], dtype=np.int64)
    owner = np.searchsorted(starts, encoded.starts, side="right") - 1
    inside = (owner >= 0) & (encoded.starts < ends[np.clip(owner, 0, None)])
    rows, owners = np.flatnonzero(inside), owner[inside]
    np.add.at(sums, owners, encoded.features[rows])
    counts = np.bincount(owners, minlength=len(doc)).astype(np.float32)
    doc.user_data[FEATURES_KEY] = (tuple(layers), sums / np.maximum(counts, 1.0)[:, None])

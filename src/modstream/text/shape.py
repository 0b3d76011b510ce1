"""The shape of a comment: length, links, quotes, digits, capitals, questions, exclamations.

Tf-idf rows are normalised to unit length, so a linear model over n-grams cannot see how
long a comment is or how it is written; on the r/science sample removed comments are
about half as long as kept ones. These few dense columns give that back, each divided by
its spread on the training rows, so one regularisation strength suits them and the
n-grams alike. They are not centred: every measurement is non-negative, so count-based
models (naive Bayes, chi²) can read them too, and for a linear model with an intercept
centring would change nothing but the intercept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from modstream.text.base import as_texts

_URL = re.compile(r"(?:https?://|www\.)\S+")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")

SHAPE_NAMES = (
    "length in characters",
    "length in words",
    "has a link",
    "number of links",
    "quotes with >",
    "share of digits",
    "share of capitals",
    "asks a question",
    "has an exclamation mark",
    "uses *emphasis*",
    "has double quotes",
)


def shape_row(text: str) -> list[float]:
    """The raw (unscaled) shape measurements of one cleaned text, in ``SHAPE_NAMES`` order."""
    chars = len(text)
    links = len(_URL.findall(text))
    letters = len(_LETTER.findall(text))
    capitals = sum(1 for c in text if c.isupper())
    return [
        float(np.log1p(chars)),
        float(np.log1p(len(text.split()))),
        float(links > 0),
        float(np.log1p(links)),
        float(text.startswith(">") or " >" in text),
        len(_DIGIT.findall(text)) / max(chars, 1),
        capitals / max(letters, 1),
        float("?" in text),
        float("!" in text),
        float("*" in text),
        float('"' in text),
    ]


class ShapeFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Cleaned texts → shape columns (sparse, ``weight`` × measurement / spread)."""

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def measure(self, X: Iterable[object]) -> np.ndarray:
        rows = [shape_row(t) for t in as_texts(X)]
        return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(SHAPE_NAMES))

    def fit(self, X: Iterable[object], y: object = None) -> ShapeFeatures:
        return self.fit_measured(self.measure(X))

    def fit_measured(self, values: np.ndarray) -> ShapeFeatures:
        """Learn the mean and spread of measurements taken with ``measure``."""
        self.mean_ = values.mean(axis=0) if len(values) else np.zeros(len(SHAPE_NAMES))
        scale = values.std(axis=0) if len(values) else np.ones(len(SHAPE_NAMES))
        self.scale_ = np.where(scale > 0, scale, 1.0)
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[object]) -> sp.csr_matrix:
        return self.scale(self.measure(X))

    def scale(self, values: np.ndarray) -> sp.csr_matrix:
        """Scale measurements taken with ``measure``."""
        return sp.csr_matrix(self.weight * values / self.scale_)

    def typical(self) -> np.ndarray:
        """The scaled columns of an average training comment (explanations compare to it)."""
        return np.asarray(self.weight * self.mean_ / self.scale_)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray([f"shape: {name}" for name in SHAPE_NAMES], dtype=object)

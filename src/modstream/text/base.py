"""The scikit-learn contract shared by modstream's text transformers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


def as_texts(X: Iterable[object]) -> list[str]:
    """A 1-D sequence of texts, or a 2-D array with one text column, as a list of ``str``.

    ``None`` becomes the empty string; sparse matrices are refused.
    """
    if hasattr(X, "tocsr") or hasattr(X, "todense"):
        raise TypeError("text transformers take texts, not a sparse matrix")
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    elif arr.ndim == 0:
        arr = arr.reshape(1)
    return ["" if t is None else str(t) for t in arr]


class TextTransformer(  # type: ignore[misc,call-arg]
    TransformerMixin, BaseEstimator, auto_wrap_output_keys=None
):
    """Stateless text → object-array transformer: subclasses define ``transform_one``.

    ``fit`` learns nothing (it validates the input); ``transform`` maps every text in order.
    Its output (texts, token lists) is never a table, so ``transform`` is not wrapped by
    scikit-learn's ``set_output`` machinery, which costs microseconds on every call.
    """

    def fit(self, X: Iterable[object], y: object = None) -> Any:
        as_texts(X)
        self.n_features_in_ = 1
        return self

    def transform_one(self, text: str) -> Any:
        raise NotImplementedError

    def transform(self, X: Iterable[object]) -> np.ndarray:
        return self._pack([self.transform_one(t) for t in as_texts(X)])

    @staticmethod
    def _pack(values: list[Any]) -> np.ndarray:
        """An object array of ``values`` (lists stay lists: no 2-D coercion)."""
        result = np.empty(len(values), dtype=object)
        for i, value in enumerate(values):
            result[i] = value
        return result

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags

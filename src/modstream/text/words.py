"""Plain word tokens (no lemmas): the baseline tokenization of the algorithm comparison."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from modstream.text.clean import _texts
from modstream.text.lemmas import lemmatize


class WordTokenTransformer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Map texts to lists of lower-cased word tokens; URLs become one ``URL`` token."""

    def fit(self, X: Iterable[object], y: object = None) -> WordTokenTransformer:
        _texts(X)  # validates the input type
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[object]) -> np.ndarray:
        texts = list(_texts(X))
        result = np.empty(len(texts), dtype=object)
        no_lemmas: dict[str, str] = {}
        for i, text in enumerate(texts):
            result[i] = lemmatize("" if text is None else str(text), no_lemmas)
        return result

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags

"""spaCy tokens and lemmas as a scikit-learn transformer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from modstream.text.clean import _texts
from modstream.text.nlp import BLANK, load_nlp

URL_TOKEN = "URL"
_SYMBOLS = frozenset("!$%^&*()_+|~-=`{}[]:\";'<>?,./\\#@")


def doc_tokens(doc: Any) -> list[str]:
    """Lower-cased lemmas of a spaCy ``Doc``: URLs become one ``URL`` token, symbols go."""
    out: list[str] = []
    for token in doc:
        if token.like_url:
            out.append(URL_TOKEN)
            continue
        if token.is_space or token.is_punct:
            continue
        lemma = (token.lemma_ or token.text).lower().strip()
        if lemma and lemma not in _SYMBOLS:
            out.append(lemma)
    return out


class SpacyTokenTransformer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Map texts to lists of lemmas with spaCy, batched through ``nlp.pipe``.

    The ``Language`` object is created lazily per process and never stored on the
    estimator, so the estimator stays small and serialisable as plain parameters.
    """

    def __init__(self, spacy_model: str = BLANK, n_process: int = 1, batch_size: int = 256) -> None:
        self.spacy_model = spacy_model
        self.n_process = n_process
        self.batch_size = batch_size

    def fit(self, X: Iterable[object], y: object = None) -> SpacyTokenTransformer:
        _texts(X)  # validates the input type
        load_nlp(self.spacy_model)
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[object]) -> np.ndarray:
        nlp = load_nlp(self.spacy_model)
        texts = ["" if t is None else str(t) for t in _texts(X)]
        n_process = self.n_process if len(texts) >= 4 * self.batch_size else 1
        docs = nlp.pipe(texts, batch_size=self.batch_size, n_process=n_process)
        result = np.empty(len(texts), dtype=object)
        for i, doc in enumerate(docs):
            result[i] = doc_tokens(doc)
        return result

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags

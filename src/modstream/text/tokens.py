"""spaCy tokens and lemmas as a scikit-learn transformer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from modstream.text.base import TextTransformer, as_texts
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


class SpacyTokenTransformer(TextTransformer):
    """Map texts to lists of lemmas with spaCy, batched through ``nlp.pipe``.

    The ``Language`` object is created lazily per process and never stored on the
    estimator, so the estimator stays small and serialisable as plain parameters.
    """

    def __init__(self, spacy_model: str = BLANK, n_process: int = 1, batch_size: int = 256) -> None:
        self.spacy_model = spacy_model
        self.n_process = n_process
        self.batch_size = batch_size

    def fit(self, X: Iterable[object], y: object = None) -> SpacyTokenTransformer:
        load_nlp(self.spacy_model)
        return super().fit(X)  # type: ignore[no-any-return]

    def transform(self, X: Iterable[object]) -> np.ndarray:
        nlp = load_nlp(self.spacy_model)
        texts = as_texts(X)
        n_process = self.n_process if len(texts) >= 4 * self.batch_size else 1
        docs = nlp.pipe(texts, batch_size=self.batch_size, n_process=n_process)
        return self._pack([doc_tokens(doc) for doc in docs])

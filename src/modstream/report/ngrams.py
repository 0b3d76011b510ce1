"""The word n-grams that most distinguish removed comments from kept ones (and back).

Each n-gram is scored by its log-odds ratio between classes with a small Dirichlet
prior, divided by its standard error (Monroe, Colaresi & Quinn, 2008). The z-score
favours n-grams that are both frequent and lopsided, so rare one-offs and common
words used equally by both classes fall away without a stop-word list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from modstream.model.features import identity
from modstream.model.textmodel import TextModel


@dataclass(frozen=True)
class NgramScore:
    ngram: str
    z: float
    removed_docs: int
    kept_docs: int


def _tokens(model: TextModel, texts: Sequence[str]) -> list[list[str]]:
    """The model's own word tokens, or lower-cased words if it has no word features."""
    cleaned = model.pipeline.named_steps["clean"].transform(list(texts))
    if getattr(model.features, "word_", None) is not None:
        return [list(t) for t in model.features.tokenize(cleaned)]
    return [str(t).lower().split() for t in cleaned]


def distinctive_ngrams(
    model: TextModel,
    texts: Sequence[str],
    labels: np.ndarray,
    *,
    top: int = 15,
    ngram_range: tuple[int, int] = (1, 2),
    min_docs: int = 3,
    prior: float = 0.5,
) -> dict[int, list[NgramScore]]:
    """For each class (0 kept, 1 removed), the ``top`` n-grams most typical of it."""
    vectorizer = CountVectorizer(
        tokenizer=identity,
        preprocessor=identity,
        token_pattern=None,
        lowercase=False,
        ngram_range=ngram_range,
        min_df=min(min_docs, max(len(texts) // 2, 1)),
        binary=True,
    )
    try:
        counts = vectorizer.fit_transform(_tokens(model, texts)).tocsc()
    except ValueError:  # no n-gram reaches min_df: nothing to show
        return {0: [], 1: []}
    y = np.asarray(labels, dtype=int)
    removed = np.asarray(counts[np.flatnonzero(y == 1)].sum(axis=0)).ravel().astype(float)
    kept = np.asarray(counts[np.flatnonzero(y == 0)].sum(axis=0)).ravel().astype(float)
    z = _log_odds_z(removed, kept, prior)
    names = vectorizer.get_feature_names_out()

    def pick(order: np.ndarray) -> list[NgramScore]:
        return [
            NgramScore(str(names[i]), float(z[i]), int(removed[i]), int(kept[i]))
            for i in order[:top]
        ]

    return {1: pick(np.argsort(-z)), 0: pick(np.argsort(z))}


def _log_odds_z(a: np.ndarray, b: np.ndarray, prior: float) -> np.ndarray:
    """z-score of the log-odds ratio of each term between counts ``a`` and ``b``."""
    total_prior = prior * a.size
    na, nb = a.sum(), b.sum()
    odds_a = np.log((a + prior) / (na + total_prior - a - prior))
    odds_b = np.log((b + prior) / (nb + total_prior - b - prior))
    variance = 1.0 / (a + prior) + 1.0 / (b + prior)
    return np.asarray((odds_a - odds_b) / np.sqrt(variance))

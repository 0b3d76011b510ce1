"""Estimators that only the candidate bench uses: classifiers and feature blocks that were
measured for the default preset (bench/results/candidates.md), kept or not.

The MiniLM sentence vectors are computed as the ``minilm`` preset computes them and cached
on disk per set of texts, because the transformer runs at tens of comments per second.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from modstream.model.features import Analyzed, TextFeatures
from modstream.model.presets import feature_params
from modstream.model.sentences import SentenceVectors
from modstream.text.base import as_texts

OLD_DEFAULT = feature_params("default")
CACHE = Path("/tmp/modstream-bench")


class NBWeighted(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Logistic regression on features scaled by their naive-Bayes log-count ratio."""

    def __init__(self, alpha: float = 1.0, C: float = 1.0) -> None:
        self.alpha = alpha
        self.C = C

    def _scaled(self, X: Any) -> Any:
        return normalize(sp.csr_matrix(X) @ sp.diags(self.ratio_))

    def fit(self, X: Any, y: np.ndarray) -> NBWeighted:
        present = sp.csr_matrix(X, copy=True)
        present.data[:] = 1.0
        p = self.alpha + np.asarray(present[y == 1].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(present[y == 0].sum(axis=0)).ravel()
        self.ratio_ = np.log((p / p.sum()) / (q / q.sum()))
        self.lr_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000)
        self.lr_.fit(self._scaled(X), y)
        self.classes_ = self.lr_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.lr_.predict_proba(self._scaled(X)))


class LogitMean(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """The mean log-odds of two different classifiers fitted on the same columns."""

    def __init__(self, first: Any = None, second: Any = None) -> None:
        self.first = first
        self.second = second

    def fit(self, X: Any, y: np.ndarray) -> LogitMean:
        self.models_ = [clone(m).fit(X, y) for m in (self.first, self.second)]
        self.classes_ = self.models_[0].classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        z = np.mean(
            [logit(np.clip(m.predict_proba(X)[:, 1], 1e-9, 1 - 1e-9)) for m in self.models_],
            axis=0,
        )
        p = expit(z)
        return np.column_stack([1 - p, p])


class CharsAcrossWords(TextFeatures):
    """Character n-grams over the whole lower-cased text (spaces inside n-grams)."""

    def analyze(self, X: Any) -> Analyzed:
        analyzed = super().analyze(X)
        texts = [" ".join(words) for words in analyzed.part("words")]
        return Analyzed(analyzed.tokens, [[t] for t in texts], analyzed.shapes)


def sentence_vectors(texts: list[str]) -> np.ndarray:
    """MiniLM sentence vectors of ``texts``, as the ``minilm`` preset computes them: from a
    disk cache when this exact list of texts was encoded before (the cross-validation
    data), computed otherwise."""
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    cached = CACHE / f"minilm-{digest}.npy"
    if cached.is_file():
        return np.load(cached, allow_pickle=False)
    vectors = SentenceVectors().measure(texts)
    if len(texts) >= 1000:
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(cached, vectors)
    return vectors


class CachedSentences(TextFeatures):
    """``TextFeatures`` with sentence vectors, whose vectors of the whole data set come
    from ``sentence_vectors`` (one transformer pass per comment is too slow to repeat)."""

    def analyze(self, X: Any) -> Analyzed:
        texts = as_texts(X)
        ngrams = self.word_ngram_range is not None or self.char_ngram_range is not None
        plain = TextFeatures(**{**self.get_params(), "sentence_weight": None})
        base = plain.analyze(texts) if ngrams else Analyzed(None, None, None)
        return dataclasses.replace(base, sentences=sentence_vectors(texts))


class SplitLogitMean(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Two logistic regressions, one on the columns before the last ``tail`` and one on
    those ``tail`` columns; log-odds mixed as (1 - ``share``) · first + ``share`` · second."""

    def __init__(
        self, tail: int = 384, share: float = 0.5, C: float = 1.0, tail_C: float = 1.0
    ) -> None:
        self.tail = tail
        self.share = share
        self.C = C
        self.tail_C = tail_C

    def _parts(self, X: Any) -> tuple[Any, Any]:
        X = sp.csr_matrix(X)
        cut = X.shape[1] - self.tail
        return X[:, :cut], X[:, cut:].toarray()

    def fit(self, X: Any, y: np.ndarray) -> SplitLogitMean:
        head, tail = self._parts(X)
        kw = {"class_weight": "balanced", "max_iter": 3000}
        self.models_ = [
            LogisticRegression(C=self.C, **kw).fit(head, y),
            LogisticRegression(C=self.tail_C, **kw).fit(tail, y),
        ]
        self.classes_ = self.models_[0].classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        parts = self._parts(X)
        z = [
            logit(np.clip(m.predict_proba(p)[:, 1], 1e-9, 1 - 1e-9))
            for m, p in zip(self.models_, parts, strict=True)
        ]
        p = expit((1 - self.share) * z[0] + self.share * z[1])
        return np.column_stack([1 - p, p])


_LETTERS = re.compile(r"[a-z']+")


def lexicon_columns(texts: list[str]) -> np.ndarray:
    """What lexicons built from other text know of each comment: VADER's negative, neutral,
    positive and compound sentiment; the mean, median and rare (< 3), unknown (0) and very
    common (> 6) shares of its words' Zipf frequency in English (wordfreq); whether it
    contains a word of better-profanity's list. Needs ``pip install vaderSentiment wordfreq
    better-profanity``."""
    from better_profanity import profanity
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    from wordfreq import zipf_frequency

    profanity.load_censor_words()
    vader = SentimentIntensityAnalyzer()
    zipf: dict[str, float] = {}
    rows = []
    for text in texts:
        sentiment = vader.polarity_scores(text)
        found = _LETTERS.findall(text.lower())
        for word in found:
            if word not in zipf:
                zipf[word] = zipf_frequency(word, "en")
        z = np.array([zipf[w] for w in found]) if found else np.zeros(1)
        rows.append([
            sentiment["neg"], sentiment["neu"], sentiment["pos"], sentiment["compound"],
            z.mean(), np.median(z), (z < 3).mean(), (z == 0).mean(), (z > 6).mean(),
            float(profanity.contains_profanity(text)),
        ])  # fmt: skip
    return np.asarray(rows, dtype=np.float64)


class ShapeAndLexicons(TextFeatures):
    """``TextFeatures`` whose comment-shape block also carries ``lexicon_columns``, scaled
    the same way (by their spread on the training rows, times ``shape_weight``)."""

    def analyze(self, X: Any) -> Analyzed:
        texts = as_texts(X)
        analyzed = super().analyze(texts)
        shapes = np.hstack([analyzed.part("shapes"), lexicon_columns(texts)])
        return dataclasses.replace(analyzed, shapes=shapes)

"""Character n-grams inside words, tf-idf weighted, computed once per distinct word.

scikit-learn's ``char_wb`` analyzer rebuilds every n-gram of every document in
Python. Comments reuse a small vocabulary, so this vectorizer caches the feature
indices of each distinct word and assembles a document from those cached arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize

_CACHE_LIMIT = 500_000


def word_ngrams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of `` word `` (padded with one space each side)."""
    padded = f" {word} "
    size = len(padded)
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(size - n + 1)]


class WordCharTfidf(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Tf-idf of character n-grams within words; input is a sequence of token lists."""

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 4),
        min_df: int = 2,
        max_features: int | None = 100_000,
        sublinear_tf: bool = True,
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf

    def fit(self, X: Sequence[Sequence[str]], y: object = None) -> WordCharTfidf:
        low, high = self.ngram_range
        ids: dict[str, int] = {}  # every n-gram seen, numbered in order of appearance
        word_ids: dict[str, np.ndarray] = {}
        df = np.zeros(1 << 16, dtype=np.int64)
        for tokens in X:
            parts = []
            for word in set(tokens):
                known = word_ids.get(word)
                if known is None:
                    grams = word_ngrams(word, low, high)
                    known = np.fromiter((ids.setdefault(g, len(ids)) for g in grams), np.int64)
                    word_ids[word] = known
                parts.append(known)
            if len(ids) > df.shape[0]:
                df = np.concatenate([df, np.zeros(max(len(ids), df.shape[0]), dtype=np.int64)])
            if parts:
                df[np.unique(np.concatenate(parts))] += 1
        grams_by_id = np.array(list(ids), dtype=object)
        counts = df[: len(ids)]
        keep = np.flatnonzero(counts >= self.min_df)
        if self.max_features is not None and keep.size > self.max_features:
            order = sorted(keep.tolist(), key=lambda i: (-counts[i], grams_by_id[i]))
            keep = np.asarray(order[: self.max_features])
        kept = sorted(zip(grams_by_id[keep].tolist(), counts[keep].tolist(), strict=True))
        self.vocabulary_ = {g: i for i, (g, _) in enumerate(kept)}
        kept_df = np.array([c for _, c in kept], dtype=np.float64)
        self.idf_ = np.log((1 + len(X)) / (1 + kept_df)) + 1.0
        self.n_features_in_ = 1
        self._reset_cache()
        return self

    def _reset_cache(self) -> None:
        self._cache: dict[str, np.ndarray] = {}

    def _word_indices(self, word: str) -> np.ndarray:
        cache = getattr(self, "_cache", None)
        if cache is None:
            self._reset_cache()
            cache = self._cache
        hit = cache.get(word)
        if hit is None:
            vocab = self.vocabulary_
            low, high = self.ngram_range
            idx = [vocab[g] for g in word_ngrams(word, low, high) if g in vocab]
            hit = np.asarray(idx, dtype=np.int32)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[word] = hit
        return hit

    def transform(self, X: Iterable[Sequence[str]]) -> sp.csr_matrix:
        cols: list[np.ndarray] = []
        lengths: list[int] = []
        lookup = self._word_indices
        for tokens in X:
            parts = [lookup(word) for word in tokens]
            cols.extend(parts)
            lengths.append(sum(p.shape[0] for p in parts))
        col = np.concatenate(cols) if cols else np.empty(0, dtype=np.int32)
        row = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
        counts = sp.csr_matrix(
            (np.ones(col.shape[0]), (row, col)), shape=(len(lengths), len(self.vocabulary_))
        )
        counts.sum_duplicates()
        if self.sublinear_tf:
            counts.data = np.log(counts.data) + 1.0
        return normalize(counts @ sp.diags(self.idf_), copy=False).tocsr()

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_cache", None)
        return state

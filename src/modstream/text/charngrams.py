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

from modstream.text.sparserows import Rows, row_ids

_CACHE_LIMIT = 500_000
_CHUNK = 4096
# Above this many documents, counting through a sparse product beats one sort of all ids.
_DIRECT_MAX_DOCS = 256


def _joined(ids: list[np.ndarray]) -> np.ndarray:
    """The id arrays one after another (an empty int32 array for none)."""
    return np.concatenate(ids) if ids else np.empty(0, np.int32)


def _count_matrix(cols: list[np.ndarray], lengths: list[int], width: int) -> sp.csr_matrix:
    """Documents × n-grams counts from each document's concatenated column ids."""
    counts = _ones(_joined(cols), lengths, width)
    counts.sum_duplicates()
    return counts


def _ones(columns: np.ndarray, lengths: Sequence[int], width: int) -> sp.csr_matrix:
    """Rows of ones at ``columns`` (repeats allowed: a product sums them)."""
    indptr = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=indptr[1:])
    data = np.ones(columns.shape[0])
    return sp.csr_matrix((data, columns.astype(np.int32), indptr), shape=(len(lengths), width))


def _reversed_within_rows(indptr: np.ndarray) -> np.ndarray:
    """Positions that reverse each row's entries of a CSR matrix with this ``indptr``."""
    starts, ends = indptr[:-1], indptr[1:]
    rows = row_ids(ends - starts)
    position = np.arange(indptr[-1], dtype=np.int64)
    return starts[rows] + ends[rows] - 1 - position


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
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Sequence[Sequence[str]], y: object = None) -> sp.csr_matrix:
        """Learn the vocabulary and idf and return the training matrix in one pass.

        Counts are first taken over every n-gram seen (numbered in order of appearance),
        chunk by chunk; the kept columns are then selected and re-numbered alphabetically.
        """
        ids: dict[str, int] = {}
        word_ids: dict[str, np.ndarray] = {}
        chunks = [
            self._count_chunk(X[i : i + _CHUNK], ids, word_ids) for i in range(0, len(X), _CHUNK)
        ]
        for chunk in chunks:
            chunk.resize((chunk.shape[0], len(ids)))
        counts = sp.vstack(chunks, format="csr") if chunks else sp.csr_matrix((0, 0))
        df = np.bincount(counts.indices, minlength=len(ids))
        keep = self._select(np.array(list(ids), dtype=object), df)
        self.vocabulary_ = {g: i for i, g in enumerate(keep[0])}
        self.idf_ = np.log((1 + len(X)) / (1 + df[keep[1]].astype(np.float64))) + 1.0
        self.n_features_in_ = 1
        remap = np.full(len(ids), -1, dtype=np.int64)
        remap[keep[1]] = np.arange(len(keep[1]))
        self._reset_cache()
        for word, known in list(word_ids.items())[:_CACHE_LIMIT]:
            mapped = remap[known]
            self._cache[word] = mapped[mapped >= 0].astype(np.int32)
        return self._weigh(counts[:, keep[1]])

    def _count_chunk(
        self, docs: Sequence[Sequence[str]], ids: dict[str, int], word_ids: dict[str, np.ndarray]
    ) -> sp.csr_matrix:
        low, high = self.ngram_range
        cols: list[np.ndarray] = []
        lengths: list[int] = []
        for tokens in docs:
            total = 0
            for word in tokens:
                known = word_ids.get(word)
                if known is None:
                    grams = word_ngrams(word, low, high)
                    known = np.fromiter((ids.setdefault(g, len(ids)) for g in grams), np.int64)
                    word_ids[word] = known
                cols.append(known)
                total += known.shape[0]
            lengths.append(total)
        return _count_matrix(cols, lengths, len(ids))

    def _select(self, grams: np.ndarray, df: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Kept n-grams (alphabetical) and their ids: min_df, then the max_features most frequent."""
        keep = np.flatnonzero(df >= self.min_df)
        if self.max_features is not None and keep.size > self.max_features:
            order = sorted(keep.tolist(), key=lambda i: (-df[i], grams[i]))
            keep = np.asarray(order[: self.max_features])
        pairs = sorted(zip(grams[keep].tolist(), keep.tolist(), strict=True))
        return [g for g, _ in pairs], np.asarray([i for _, i in pairs], dtype=np.int64)

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        counts = counts.astype(np.float64)
        if self.sublinear_tf:
            counts.data = np.log(counts.data) + 1.0
        return normalize(counts @ sp.diags(self.idf_), copy=False).tocsr()

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
        return self.transform_rows(X).to_csr()

    def transform_rows(self, X: Iterable[Sequence[str]]) -> Rows:
        """The tf-idf rows of ``X``; each row's columns in descending order.

        Descending is the order the training path's ``counts @ diags(idf)`` leaves them
        in; the L2 norm and the classifier's dot product add in that order, so both paths
        agree bit for bit. A few documents are counted directly from each word's cached
        n-gram ids; many are counted as (documents × distinct words) @ (distinct words ×
        n-grams), where the sums run in sparse C code instead of one big sort.
        """
        docs = list(X)
        if len(docs) > _DIRECT_MAX_DOCS:
            return self._product_counts(docs).tfidf(self.sublinear_tf, self.idf_)
        grams: list[np.ndarray] = []
        lengths: list[int] = []
        for tokens in docs:
            found = [self._word_indices(word) for word in tokens]
            grams.extend(found)
            lengths.append(sum(g.shape[0] for g in found))
        counts = Rows.counted(
            row_ids(lengths),
            _joined(grams),
            len(docs),
            len(self.vocabulary_),
            descending=True,
        )
        return counts.tfidf(self.sublinear_tf, self.idf_)

    def _product_counts(self, docs: list[Sequence[str]]) -> Rows:
        distinct: dict[str, int] = {}
        word_columns: list[int] = []
        lengths: list[int] = []
        for tokens in docs:
            ids = [distinct.setdefault(word, len(distinct)) for word in tokens]
            word_columns.extend(ids)
            lengths.append(len(ids))
        grams = [self._word_indices(word) for word in distinct]
        words = _ones(np.asarray(word_columns, np.int32), lengths, len(distinct))
        spelled = _ones(
            _joined(grams),
            [g.shape[0] for g in grams],
            len(self.vocabulary_),
        )
        counts = words @ spelled
        counts.sort_indices()
        descending = _reversed_within_rows(counts.indptr)
        return Rows(
            counts.data[descending], counts.indices[descending], counts.indptr, counts.shape[1]
        )

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_cache", None)
        return state

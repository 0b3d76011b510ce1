"""Character n-grams inside words, tf-idf weighted, computed once per distinct word.

scikit-learn's ``char_wb`` analyzer rebuilds every n-gram of every document in
Python. Comments reuse a small vocabulary, so this vectorizer caches the feature
indices of each distinct word and assembles a document from those cached arrays.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize

from modstream.text.sparserows import Rows, row_ids, vstack

_CACHE_LIMIT = 500_000
_CHUNK = 4096
# Documents counted together: bounds the memory of one count (about 1,000 ids per comment)
# and keeps its sort keys 32-bit.
_COUNT_DOCS = 2048


def _joined(ids: list[np.ndarray]) -> np.ndarray:
    """The id arrays one after another (an empty int32 array for none)."""
    return np.concatenate(ids) if ids else np.empty(0, np.int32)


def _count_matrix(cols: list[np.ndarray], lengths: list[int], width: int) -> sp.csr_matrix:
    """Documents × n-grams counts from each document's concatenated column ids."""
    indptr = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=indptr[1:])
    columns = _joined(cols)
    counts = sp.csr_matrix(
        (np.ones(columns.shape[0]), columns.astype(np.int32), indptr), shape=(len(lengths), width)
    )
    counts.sum_duplicates()
    return counts


def word_ngrams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of `` word `` (padded with one space each side)."""
    padded = f" {word} "
    size = len(padded)
    return [padded[i : i + n] for n in range(low, high + 1) for i in range(size - n + 1)]


class _NgramIds(dict[str, int]):
    """Word → slot, computed on first lookup; a slot's known character n-gram ids sit in one
    flat array, so a batch's ids are gathered with a few NumPy operations, not one array
    per word. Looking words up with ``__getitem__`` keeps the common case (a cached word)
    in C.
    """

    def __init__(self, vocabulary: dict[str, int], ngram_range: tuple[int, int]) -> None:
        super().__init__()
        self.vocabulary = vocabulary
        self.low, self.high = ngram_range
        self.ids = np.empty(4096, np.int32)
        self.used = 0
        self.starts = np.empty(1024, np.int64)
        self.sizes = np.empty(1024, np.int64)
        # Threads may score with one model: a slot is taken and filled under the lock, and
        # is published (``self[word] = slot``) only once its ids are in place.
        self._lock = threading.Lock()

    def add(self, word: str, ids: np.ndarray) -> int:
        with self._lock:
            slot = self.get(word)
            if slot is not None:
                return slot
            slot = len(self)
            if slot == self.starts.shape[0]:
                self.starts = np.concatenate([self.starts, np.empty_like(self.starts)])
                self.sizes = np.concatenate([self.sizes, np.empty_like(self.sizes)])
            end = self.used + ids.shape[0]
            if end > self.ids.shape[0]:
                grown = np.empty(max(2 * self.ids.shape[0], end), np.int32)
                grown[: self.used] = self.ids[: self.used]
                self.ids = grown
            self.ids[self.used : end] = ids
            self.starts[slot], self.sizes[slot] = self.used, ids.shape[0]
            self.used = end
            self[word] = slot
            return slot

    def __missing__(self, word: str) -> int:
        vocab = self.vocabulary
        ids = [vocab[g] for g in word_ngrams(word, self.low, self.high) if g in vocab]
        return self.add(word, np.asarray(ids, dtype=np.int32))

    def spelled(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The n-gram ids of the words at ``slots``, one word after another, and how many
        each word has."""
        sizes = self.sizes[slots]
        ends = np.cumsum(sizes)
        total = int(ends[-1]) if ends.shape[0] else 0
        positions = np.arange(total) + np.repeat(self.starts[slots] - (ends - sizes), sizes)
        return self.ids[positions], sizes

    def of(self, word: str) -> np.ndarray:
        slot = self[word]
        start = self.starts[slot]
        return self.ids[start : start + self.sizes[slot]]


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
            self._cache.add(word, mapped[mapped >= 0].astype(np.int32))
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
        self._cache = _NgramIds(self.vocabulary_, self.ngram_range)

    def _word_indices(self, word: str) -> np.ndarray:
        return self._ids().of(word)

    def _ids(self) -> _NgramIds:
        """The per-word n-gram id cache (rebuilt after unpickling, which drops it), replaced
        by an empty one once it holds ``_CACHE_LIMIT`` words; a batch keeps the cache it
        started with, whose slots it holds."""
        cache = getattr(self, "_cache", None)
        if cache is None or len(cache) >= _CACHE_LIMIT:
            self._reset_cache()
            cache = self._cache
        return cache

    def transform(self, X: Iterable[Sequence[str]]) -> sp.csr_matrix:
        return self.transform_rows(X).to_csr()

    def transform_rows(self, X: Iterable[Sequence[str]]) -> Rows:
        """The tf-idf rows of ``X``; each row's columns in descending order.

        Descending is the order the training path's ``counts @ diags(idf)`` leaves them
        in; the L2 norm and the classifier's dot product add in that order, so both paths
        agree bit for bit. Documents are counted ``_COUNT_DOCS`` at a time from each word's
        cached n-gram ids.
        """
        docs = list(X)
        counts = vstack(
            [self._counts(docs[i : i + _COUNT_DOCS]) for i in range(0, len(docs) or 1, _COUNT_DOCS)]
        )
        return counts.tfidf(self.sublinear_tf, self.idf_)

    def _counts(self, docs: list[Sequence[str]]) -> Rows:
        cache = self._ids()
        slots = np.fromiter(map(cache.__getitem__, chain.from_iterable(docs)), np.int64)
        columns, sizes = cache.spelled(slots)
        words = row_ids(list(map(len, docs)))
        return Rows.counted(
            np.repeat(words, sizes), columns, len(docs), len(self.vocabulary_), descending=True
        )

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_cache", None)
        return state

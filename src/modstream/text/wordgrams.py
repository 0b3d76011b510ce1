"""Counting known word n-grams of token lists quickly, for a fitted ``TfidfVectorizer``.

scikit-learn's vectorizer builds every n-gram string of every document and a counter
dict per document. Prediction only needs the n-grams that are in the vocabulary, so this
looks each one up once and builds the count matrix in one go. The matrix is the one
scikit-learn builds (same counts, sorted column indices), and the tf-idf weighting is
scikit-learn's own, so the features are bit-for-bit the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer


def known_ngram_columns(
    tokens: Sequence[str], vocabulary: dict[str, int], low: int, high: int
) -> list[int]:
    """Vocabulary columns of the ``low``–``high``-grams of ``tokens`` (repeats kept)."""
    get = vocabulary.get
    found = [j for j in map(get, tokens) if j is not None] if low == 1 else []
    if high >= 2 and low <= 2 and len(tokens) >= 2:
        pairs = map(get, map(" ".join, pairwise(tokens)))
        found.extend(j for j in pairs if j is not None)
    for n in range(max(low, 3), min(high, len(tokens)) + 1):
        grams = (" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        found.extend(j for j in map(get, grams) if j is not None)
    return found


def ngram_counts(
    docs: Iterable[Sequence[str]], vocabulary: dict[str, int], ngram_range: tuple[int, int]
) -> sp.csr_matrix:
    """Documents × vocabulary counts (float64, duplicates summed, indices sorted)."""
    low, high = ngram_range
    columns: list[int] = []
    lengths: list[int] = []
    for tokens in docs:
        found = known_ngram_columns(tokens, vocabulary, low, high)
        columns.extend(found)
        lengths.append(len(found))
    rows = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    counts = sp.csr_matrix(
        (np.ones(len(columns)), (rows, np.asarray(columns, dtype=np.int64))),
        shape=(len(lengths), len(vocabulary)),
    )
    counts.sum_duplicates()
    return counts


def weighting(vectorizer: TfidfVectorizer) -> TfidfTransformer:
    """The tf-idf weighting of a fitted ``vectorizer`` as a transformer of count matrices."""
    transformer = TfidfTransformer(
        norm=vectorizer.norm,
        use_idf=vectorizer.use_idf,
        smooth_idf=vectorizer.smooth_idf,
        sublinear_tf=vectorizer.sublinear_tf,
    )
    transformer.idf_ = vectorizer.idf_
    return transformer


def fast_transform(
    vectorizer: TfidfVectorizer, transformer: TfidfTransformer, docs: Iterable[Sequence[str]]
) -> sp.csr_matrix:
    """``vectorizer.transform(docs)`` for token-list input, computed faster."""
    counts = ngram_counts(docs, vectorizer.vocabulary_, vectorizer.ngram_range)
    if vectorizer.binary:
        counts.data.fill(1)
    return transformer.transform(counts, copy=False)

"""Counting known word n-grams of token lists quickly, for a fitted ``TfidfVectorizer``.

scikit-learn's vectorizer builds every n-gram string of every document and a counter
dict per document. Prediction only needs the n-grams that are in the vocabulary, so this
looks each one up once and builds the count rows in one go: the same counts and sorted
column indices as scikit-learn, weighted by the same operations, so the features are bit
for bit the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, pairwise, repeat

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from modstream.text.sparserows import Rows, row_ids


def _ngrams(tokens: Sequence[str], n: int) -> Iterable[str]:
    """The ``n``-grams of ``tokens`` as scikit-learn spells them (joined by one space)."""
    if n == 1:
        return tokens
    if n == 2:
        return map(" ".join, pairwise(tokens))
    return map(" ".join, zip(*(tokens[k:] for k in range(n)), strict=False))


def ngram_columns(
    tokens: Sequence[str], vocabulary: dict[str, int], low: int, high: int
) -> Iterator[int]:
    """Vocabulary column of each ``low``–``high``-gram of ``tokens``, ``-1`` where unknown.

    Every step runs in C (``map`` over ``dict.get``); the unknown ones are dropped later,
    all at once, by the caller.
    """
    get = vocabulary.get
    return chain.from_iterable(
        map(get, _ngrams(tokens, n), repeat(-1)) for n in range(low, min(high, len(tokens)) + 1)
    )


def word_rows(vectorizer: TfidfVectorizer, docs: Iterable[Sequence[str]]) -> Rows:
    """``vectorizer.transform(docs)`` for token-list input, as rows, computed faster.

    Only L2-normalised tf-idf is supported, which is what ``word_vectorizer`` builds.
    """
    if vectorizer.norm != "l2" or vectorizer.binary:
        raise ValueError("the fast word n-gram path needs L2-normalised, non-binary tf-idf")
    vocabulary = vectorizer.vocabulary_
    low, high = vectorizer.ngram_range
    columns: list[int] = []
    lengths: list[int] = []
    for tokens in docs:
        before = len(columns)
        columns.extend(ngram_columns(tokens, vocabulary, low, high))
        lengths.append(len(columns) - before)
    found = np.asarray(columns, dtype=np.int64)
    known = found >= 0
    counts = Rows.counted(
        row_ids(lengths)[known], found[known], len(lengths), len(vocabulary), descending=False
    )
    idf = vectorizer.idf_ if vectorizer.use_idf else None
    return counts.tfidf(vectorizer.sublinear_tf, idf)

"""Counting known word n-grams of token lists quickly, for a fitted ``TfidfVectorizer``.

scikit-learn's vectorizer builds every n-gram string of every document and a counter
dict per document. Prediction only needs the n-grams that are in the vocabulary, so this
looks each one up once and builds the count rows in one go: the same counts and sorted
column indices as scikit-learn, weighted by the same operations, so the features are bit
for bit the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from modstream.text.sparserows import Rows, row_ids


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
        found = known_ngram_columns(tokens, vocabulary, low, high)
        columns.extend(found)
        lengths.append(len(found))
    counts = Rows.counted(
        row_ids(lengths),
        np.asarray(columns, dtype=np.int64),
        len(lengths),
        len(vocabulary),
        descending=False,
    )
    idf = vectorizer.idf_ if vectorizer.use_idf else None
    return counts.tfidf(vectorizer.sublinear_tf, idf)

"""Linear-model explanations: which n-grams pushed a comment's removal score, and how far.

A feature's push is its tf-idf weight times its coefficient. Character n-grams are not
readable one by one, so their pushes are handed back to the words they came from: each
n-gram's push is split among the words of the comment in proportion to how often each
word contains it. The result lists word n-grams (kind ``"ngram"``), whole words
scored through their spelling (kind ``"characters"``) and, as one push, the comment's
shape (kind ``"shape"``: its length, links, capitals and so on, against a typical comment)
and, as one push, what the sentence vector says against a typical comment's (kind
``"sentence"``, for models with one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from modstream.model.features import TextFeatures, whitespace_words

SHAPE_PUSH = "comment shape (length, links, capitals, ...)"
SENTENCE_PUSH = "sentence meaning (MiniLM vector)"


@dataclass(frozen=True)
class Contribution:
    """One feature's push on the removal score (log-odds units)."""

    feature: str
    weight: float
    kind: str = "ngram"


def _char_pushes(
    features: TextFeatures, words: list[str], weights: dict[int, float]
) -> dict[str, float]:
    char = features.char_
    assert char is not None
    per_word: list[tuple[str, np.ndarray, np.ndarray]] = []
    totals: dict[int, int] = {}
    for word in words:
        cols, counts = np.unique(char._word_indices(word), return_counts=True)
        per_word.append((word, cols, counts))
        for c, n in zip(cols.tolist(), counts.tolist(), strict=True):
            totals[c] = totals.get(c, 0) + n
    pushes: dict[str, float] = {}
    for word, cols, counts in per_word:
        share = sum(
            weights.get(c, 0.0) * n / totals[c]
            for c, n in zip(cols.tolist(), counts.tolist(), strict=True)
        )
        pushes[word] = pushes.get(word, 0.0) + share
    return pushes


def _typical_pushes(
    features: TextFeatures, coef: np.ndarray, first_shape: int, first_sentence: int
) -> tuple[float, float | None]:
    """Shape and sentence-vector pushes of a typical training comment (``None``: no vector)."""
    shape = 0.0
    if features.shape_ is not None:
        shape = float(features.shape_.typical() @ coef[first_shape:first_sentence])
    if features.sentence_ is None:
        return shape, None
    return shape, float(features.sentence_.typical() @ coef[first_sentence:])


def _comment_pushes(
    cols: np.ndarray,
    pushes: np.ndarray,
    firsts: tuple[int, int],
    typical: tuple[float, float | None],
) -> list[Contribution]:
    """A row's shape and sentence-vector pushes, each against a typical comment's."""
    first_shape, first_sentence = firsts
    items = []
    shape = float(pushes[(cols >= first_shape) & (cols < first_sentence)].sum()) - typical[0]
    if shape:
        items.append(Contribution(SHAPE_PUSH, shape, "shape"))
    if typical[1] is not None:
        sentence = float(pushes[cols >= first_sentence].sum()) - typical[1]
        items.append(Contribution(SENTENCE_PUSH, sentence, "sentence"))
    return items


def explain_rows(
    features: TextFeatures,
    names: np.ndarray,
    coef: np.ndarray,
    cleaned: list[str],
    matrix: sp.csr_matrix,
    top: int,
) -> list[list[Contribution]]:
    """Per row of ``matrix`` (the features of ``cleaned``), the ``top`` strongest pushes."""
    widths = features.block_widths()
    n_word = widths.get("word", 0)
    first_shape = n_word + widths.get("char", 0)
    first_sentence = first_shape + widths.get("shape", 0)
    typical = _typical_pushes(features, coef, first_shape, first_sentence)
    result: list[list[Contribution]] = []
    for row, text in enumerate(cleaned):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        cols = matrix.indices[start:end]
        pushes = matrix.data[start:end] * coef[cols]
        items = [
            Contribution(str(names[c]), float(p), "ngram")
            for c, p in zip(cols.tolist(), pushes.tolist(), strict=True)
            if c < n_word
        ]
        items += _comment_pushes(cols, pushes, (first_shape, first_sentence), typical)
        if features.char_ is not None:
            char_weights = {
                c - n_word: p
                for c, p in zip(cols.tolist(), pushes.tolist(), strict=True)
                if n_word <= c < first_shape
            }
            words = whitespace_words([text])[0]
            items += [
                Contribution(w, p, "characters")
                for w, p in _char_pushes(features, words, char_weights).items()
            ]
        items.sort(key=lambda c: -abs(c.weight))
        result.append(items[:top])
    return result

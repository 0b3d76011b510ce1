"""Reference distributions of a training run, kept in the artifact so drift can be seen live.

Training stores, under ``training.reference`` in the manifest: the distribution of
out-of-fold P(removed) (what the model scores on comments it has not seen), of text
length in characters, and of the share of words outside the vocabulary, each as bins
with the share of training rows in each bin; the training base rate and the share the
model predicts removed at its threshold on held-out rows; and the vocabulary the
out-of-vocabulary share is measured against.

The vocabulary is the words (letters only, two or more, lower-cased) that appear in at
least two training comments, the most frequent first; a text's out-of-vocabulary share is
the share of its distinct words not in it (1.0 for a text without words), read from its
first 300 characters so that the cost per text is bounded. Its reference
share is measured
out of fold: each fold's comments against the vocabulary of the other folds, because
against a vocabulary built on themselves training comments would look unrealistically
familiar. Where a comment is scored, ``TextProfile.measure`` gives each text's length and
out-of-vocabulary share (a regex and a set lookup per word: a few microseconds a text).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import KFold

__all__ = [
    "REFERENCE_KEY",
    "TextProfile",
    "TextProfiles",
    "build_reference",
    "histogram",
    "words",
]

REFERENCE_KEY = "reference"
FORMAT_VERSION = 1
VOCABULARY_SIZE = 30_000
MIN_DOCUMENTS = 2
BINS = 10
FOLDS = 5
OOV_CHARS = 300  # words are read from a text's first 300 characters: a bounded cost per text
_WORD = re.compile(r"[^\W\d_]{2,}")
# The same words in ASCII text (where the only letters are a-z once lower-cased), found in
# about half the time: nearly every comment's first 300 characters are ASCII.
_ASCII_WORD = re.compile(r"[a-z]{2,}")


def words(text: str) -> list[str]:
    """The words of ``text``'s first ``OOV_CHARS`` characters: letters only, lower-cased."""
    head = text[:OOV_CHARS].lower()
    return (_ASCII_WORD if head.isascii() else _WORD).findall(head)


def _oov_share(found: set[str], vocabulary: frozenset[str] | set[str]) -> float:
    if not found:
        return 1.0  # nothing recognisable as a word is as unfamiliar as it gets
    return len(found.difference(vocabulary)) / len(found)


def _vocabulary(documents: Iterable[set[str]]) -> list[str]:
    counts: Counter[str] = Counter()
    for found in documents:
        counts.update(found)
    frequent = [(n, w) for w, n in counts.items() if n >= MIN_DOCUMENTS]
    frequent.sort(key=lambda nw: (-nw[0], nw[1]))
    return [w for _, w in frequent[:VOCABULARY_SIZE]]


def _held_out_oov(sets: list[set[str]]) -> np.ndarray:
    """Each text's out-of-vocabulary share against a vocabulary built without its fold."""
    shares = np.ones(len(sets))
    folds = min(FOLDS, len(sets))
    if folds < 2:
        return shares
    for train_idx, test_idx in KFold(folds, shuffle=True, random_state=0).split(sets):
        vocabulary = set(_vocabulary(sets[i] for i in train_idx))
        for i in test_idx:
            shares[i] = _oov_share(sets[i], vocabulary)
    return shares


def histogram(values: np.ndarray, bins: int = BINS) -> dict[str, list[float]]:
    """Quantile bins of ``values``: inner ``edges`` and the share of values in each bin.

    A value ``x`` falls in bin ``searchsorted(edges, x, side="right")``; repeated
    quantiles (a mass of equal values) collapse into one edge.
    """
    inner = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]) if values.size else []
    edges = np.unique(np.asarray(inner, dtype=np.float64))
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=edges.size + 1)
    return {"edges": edges.tolist(), "shares": (counts / max(values.size, 1)).tolist()}


def build_reference(
    texts: Sequence[str], labels: np.ndarray, oof: np.ndarray, threshold: float
) -> dict[str, Any]:
    """The reference block of the manifest, from the training texts and out-of-fold scores."""
    sets = [set(words(t)) for t in texts]
    return {
        "format_version": FORMAT_VERSION,
        "rows": len(texts),
        "removed_rate": float(np.mean(labels)),
        "predicted_removed_rate": float(np.mean(np.asarray(oof) >= threshold)),
        "score": histogram(np.asarray(oof, dtype=np.float64)),
        "chars": histogram(np.array([len(t) for t in texts], dtype=np.float64)),
        "oov": histogram(_held_out_oov(sets)),
        "vocabulary": _vocabulary(sets),
    }


@dataclass(frozen=True)
class TextProfile:
    """Measures the drift inputs of texts against one model's vocabulary."""

    vocabulary: frozenset[str]

    @classmethod
    def of(cls, training: dict[str, Any]) -> TextProfile | None:
        """The profile of a model's ``training`` block, or ``None`` if it has no reference."""
        reference = training.get(REFERENCE_KEY)
        if not isinstance(reference, dict) or "vocabulary" not in reference:
            return None
        return cls(frozenset(reference["vocabulary"]))

    def measure(self, texts: Sequence[str]) -> tuple[str, str]:
        """Per text, its length and out-of-vocabulary share, as comma-separated header values."""
        chars = ",".join(str(len(t)) for t in texts)
        oov = ",".join(f"{_oov_share(set(words(t)), self.vocabulary):.3f}" for t in texts)
        return chars, oov


class TextProfiles:
    """The profile of each model version a scorer answers with, built once per version.

    ``scorer`` names its models the way the ``DataPlane`` does (``models.versions()`` and
    ``models.model(role)``); a scorer that does not, or a version it no longer holds,
    gets no profile, and its answers go without drift inputs.
    """

    def __init__(self, scorer: object) -> None:
        self.scorer = scorer
        self._found: dict[str, TextProfile | None] = {}

    def get(self, version: str) -> TextProfile | None:
        if version not in self._found:
            models: Any = getattr(self.scorer, "models", None)
            roles = models.versions() if models is not None else {}
            for role, held in roles.items():
                if held == version:
                    self._found[version] = TextProfile.of(models.model(role).training)
        return self._found.get(version)

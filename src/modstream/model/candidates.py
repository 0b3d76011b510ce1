"""The classifiers and tokenizations that ``modstream compare`` puts side by side.

Every classifier sees the same feature matrix; every tokenization is scored with the
same logistic regression. Settings are modest on purpose so a 5-fold run over a few
thousand comments takes minutes on two cores, not hours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.feature_selection import SelectKBest, chi2
from sklearn.linear_model import LogisticRegression, RidgeClassifier, SGDClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from modstream.model.presets import classifier_params, feature_params

# Trees on hundreds of thousands of sparse columns are slow and no better; they get the
# columns most associated with the label (chi², fitted on the training fold only).
TREE_FEATURES = 2_000


@dataclass(frozen=True)
class Candidate:
    """A named, unfitted estimator factory. ``scores`` says how to read its ranking."""

    name: str
    make: Callable[[], Any]
    scores: str  # "proba" or "decision"


@dataclass(frozen=True)
class FeatureVariant:
    """A named set of ``TextFeatures`` keyword arguments."""

    name: str
    params: dict[str, Any]


def classifiers(preset: str, seed: int = 0) -> list[Candidate]:
    """The classifiers compared on the preset's features."""
    return [
        Candidate(
            "logistic regression",
            lambda: LogisticRegression(**classifier_params(preset)),
            "proba",
        ),
        Candidate(
            "linear SVM",
            lambda: LinearSVC(C=0.5, class_weight="balanced", random_state=seed),
            "decision",
        ),
        Candidate("multinomial NB", lambda: MultinomialNB(alpha=0.1), "proba"),
        Candidate(
            "SGD (modified Huber)",
            lambda: SGDClassifier(
                loss="modified_huber", alpha=1e-4, class_weight="balanced", random_state=seed
            ),
            "decision",
        ),
        Candidate("ridge", lambda: RidgeClassifier(alpha=1.0, class_weight="balanced"), "decision"),
        Candidate(
            f"extra trees (chi² top {TREE_FEATURES:,})",
            lambda: _trees(seed),
            "proba",
        ),
    ]


def _trees(seed: int) -> Pipeline:
    return Pipeline(
        [
            ("select", SelectKBest(chi2, k=TREE_FEATURES)),
            (
                "trees",
                ExtraTreesClassifier(
                    n_estimators=200,
                    min_samples_leaf=2,
                    class_weight="balanced",
                    n_jobs=1,
                    random_state=seed,
                ),
            ),
        ]
    )


def tokenizations(preset: str) -> list[FeatureVariant]:
    """Word tokenizations (with the preset's word n-gram settings), character n-grams
    alone, and the default preset's combination of lookup lemmas and character n-grams."""
    base = feature_params(preset)
    words = {**base, "char_ngram_range": None}
    if words["word_ngram_range"] is None:
        words["word_ngram_range"] = (1, 2)
    return [
        FeatureVariant("spaCy lemmas", {**words, "tokenizer": "spacy"}),
        FeatureVariant("word tokens", {**words, "tokenizer": "words"}),
        FeatureVariant("lookup lemmas", {**words, "tokenizer": "lookup"}),
        FeatureVariant(
            "char 1-4-grams",
            {**base, "word_ngram_range": None, "char_ngram_range": (1, 4)},
        ),
        FeatureVariant("lookup lemmas + char 1-4-grams", feature_params("default")),
    ]


def ranking_scores(model: Any, matrix: Any, kind: str) -> np.ndarray:
    """A score that ranks "removed" above "kept": P(removed) or the decision value."""
    if kind == "proba":
        return np.asarray(model.predict_proba(matrix)[:, 1], dtype=np.float64)
    return np.asarray(model.decision_function(matrix), dtype=np.float64)

"""Out-of-fold scores with nothing learned from the rows being scored.

Each fold fits the whole feature stack (vocabularies, idf, shape scaling) and the
classifier on its training rows only. Cleaning and tokenizing are per-row and stateless,
so they run once for all rows and the folds share the result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from modstream.errors import DataError
from modstream.model.features import Analyzed, TextFeatures
from modstream.model.metrics import evaluate_scores
from modstream.model.threshold import choose_threshold

Reporter = Callable[[str], None]
Split = tuple[np.ndarray, np.ndarray]


def quiet(_: str) -> None:
    return None


def stratified_splits(labels: np.ndarray, folds: int, seed: int = 0) -> list[Split]:
    """Shuffled stratified folds, as many as ``folds`` but no more than the rarer class has."""
    counts = np.bincount(labels, minlength=2)
    k = int(min(folds, counts.min()))
    if k < 2:
        raise DataError("each class needs at least 2 rows to choose a threshold")
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(labels.size), labels))


def removal_scores(classifier: Any, matrix: Any) -> np.ndarray:
    """P(removed) per row."""
    return np.asarray(classifier.predict_proba(matrix)[:, 1], dtype=np.float64)


def fit_and_score(
    features: TextFeatures,
    classifier: Any,
    analyzed: Analyzed,
    labels: np.ndarray,
    split: Split,
) -> np.ndarray:
    """Fit fresh copies on the split's training rows; P(removed) of its test rows."""
    train, test = split
    fold_features = clone(features)
    matrix = fold_features.fit_analyzed(analyzed.take(train))
    fold_classifier = clone(classifier).fit(matrix, labels[train])
    return removal_scores(fold_classifier, fold_features.transform_analyzed(analyzed.take(test)))


def out_of_fold(
    features: TextFeatures,
    classifier: Any,
    analyzed: Analyzed,
    labels: np.ndarray,
    splits: list[Split],
    n_jobs: int = 1,
) -> np.ndarray:
    """P(removed) of every row from the fold that held it out (folds in parallel)."""
    jobs = (delayed(fit_and_score)(features, classifier, analyzed, labels, s) for s in splits)
    scores = Parallel(n_jobs=min(n_jobs, len(splits)))(jobs)
    oof = np.full(labels.size, np.nan)
    for (_, test), fold_scores in zip(splits, scores, strict=True):
        oof[test] = fold_scores
    return oof


def nested_scores(
    features: TextFeatures,
    classifier: Any,
    analyzed: Analyzed,
    labels: np.ndarray,
    outer: list[Split],
    inner_folds: int = 5,
    n_jobs: int = 1,
) -> list[dict[str, Any]]:
    """Held-out metrics per outer fold of a model trained as ``modstream train`` trains it.

    On each outer training part: out-of-fold scores over ``inner_folds`` folds, the
    threshold of best F1 on them, then the model fitted on the whole part; the held-out
    part is scored at that stored threshold. Nothing about a held-out row reaches its model.
    """
    results = []
    for train, test in outer:
        part, part_labels = analyzed.take(train), labels[train]
        inner = stratified_splits(part_labels, inner_folds)
        oof = out_of_fold(features, classifier, part, part_labels, inner, n_jobs)
        threshold = choose_threshold(part_labels, oof)
        p_removed = fit_and_score(features, classifier, analyzed, labels, (train, test))
        results.append(evaluate_scores(labels[test], p_removed, threshold))
    return results

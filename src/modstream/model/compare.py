"""Cross-validated comparison of classifiers and of tokenizations on the same folds.

Features are fitted on each training fold only (vocabularies included), so the scores
are honest estimates. F1 of "removed" is reported twice: at each model's own default
decision (``predict``: P ≥ 0.5 or decision ≥ 0) and at a tuned threshold, the one of best
F1 on out-of-fold scores inside the training fold (as ``modstream train`` chooses it);
the held-out fold never influences its own threshold.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from modstream.datasets import Dataset
from modstream.errors import DataError
from modstream.facts import NGRAM_PRESETS
from modstream.model.candidates import (
    Candidate,
    FeatureVariant,
    classifiers,
    ranking_scores,
    tokenizations,
)
from modstream.model.crossval import Split, stratified_splits
from modstream.model.features import TextFeatures
from modstream.model.presets import classifier_params, feature_params
from modstream.model.threshold import choose_threshold
from modstream.text.clean import clean_text

StepCallback = Callable[[str], None]  # called with a description before each unit of work
INNER_FOLDS = 3  # per training fold, to choose the tuned threshold
METRICS = ("roc_auc", "pr_auc", "f1_tuned", "f1_default", "fit_seconds", "predict_seconds")


def _no_progress(_: str) -> None:
    return None


@dataclass
class CandidateResult:
    """Per-fold scores of one classifier or tokenization."""

    name: str
    roc_auc: list[float] = field(default_factory=list)
    pr_auc: list[float] = field(default_factory=list)
    f1_default: list[float] = field(default_factory=list)
    f1_tuned: list[float] = field(default_factory=list)
    fit_seconds: list[float] = field(default_factory=list)
    predict_seconds: list[float] = field(default_factory=list)

    def mean(self, metric: str) -> float:
        return float(np.mean(getattr(self, metric)))

    def std(self, metric: str) -> float:
        return float(np.std(getattr(self, metric)))

    def to_dict(self) -> dict[str, Any]:
        summary = {f"{m}_mean": self.mean(m) for m in METRICS}
        summary.update({f"{m}_std": self.std(m) for m in METRICS})
        return {"name": self.name, **summary, "per_fold": asdict(self)}


@dataclass
class ComparisonResult:
    """Classifiers on the preset's features, and tokenizations under logistic regression."""

    preset: str
    folds: int
    rows: int
    removed_rate: float
    feature_seconds: list[float]
    classifiers: list[CandidateResult]
    tokenizers: list[CandidateResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "folds": self.folds,
            "rows": self.rows,
            "removed_rate": self.removed_rate,
            "feature_seconds_per_fold": self.feature_seconds,
            "f1_tuned": "F1 of removed at the threshold of best F1 on the training fold's "
            "inner out-of-fold scores",
            "f1_default": "F1 of removed at the classifier's own decision (P>=0.5 / margin>=0)",
            "classifiers": [c.to_dict() for c in self.classifiers],
            "tokenizers": [t.to_dict() for t in self.tokenizers],
        }


class _Collector:
    """Accumulates one candidate's fold results."""

    def __init__(self, name: str) -> None:
        self.result = CandidateResult(name)

    def add(self, y: np.ndarray, scores: np.ndarray, pred: np.ndarray, threshold: float) -> None:
        self.result.roc_auc.append(float(roc_auc_score(y, scores)))
        self.result.pr_auc.append(float(average_precision_score(y, scores)))
        self.result.f1_default.append(float(f1_score(y, pred, zero_division=0)))
        tuned = (scores >= threshold).astype(int)
        self.result.f1_tuned.append(float(f1_score(y, tuned, zero_division=0)))


def fold_splits(labels: np.ndarray, folds: int, seed: int = 0) -> list[Split]:
    """Stratified, shuffled folds; every class needs at least ``folds`` rows."""
    if folds < 2:
        raise DataError(f"--folds must be at least 2 (got {folds})")
    counts = np.bincount(labels, minlength=2)
    if counts.min() < folds:
        raise DataError(
            f"{folds} folds need at least {folds} rows of each class "
            f"(have {counts[0]} kept, {counts[1]} removed)"
        )
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in cv.split(np.zeros(labels.size), labels)]


def subsample(data: Dataset, rows: int, seed: int = 0) -> Dataset:
    """A stratified random sample of ``rows`` rows (all rows if there are fewer)."""
    if rows < 1:
        raise DataError(f"--sample must be positive (got {rows})")
    n = len(data.texts)
    if rows >= n:
        return data
    rng = np.random.default_rng(seed)
    picked: list[np.ndarray] = []
    for label in (0, 1):
        where = np.flatnonzero(data.labels == label)
        take = max(1, round(rows * where.size / n))
        picked.append(rng.choice(where, size=min(take, where.size), replace=False))
    index = np.sort(np.concatenate(picked))
    report = {**data.report, "sampled_rows": int(index.size)}
    texts = [data.texts[i] for i in index]
    return Dataset(texts=texts, labels=data.labels[index], sha256=data.sha256, report=report)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def _features(
    params: dict[str, Any], texts: list[str], split: Split
) -> tuple[Any, Any, float, float]:
    """Fit ``TextFeatures`` on the training fold; the matrices and (fit, transform) seconds."""
    train, test = split
    features = TextFeatures(**params)
    train_x, fit_s = _timed(lambda: features.fit_transform([texts[i] for i in train]))
    test_x, transform_s = _timed(lambda: features.transform([texts[i] for i in test]))
    return train_x, test_x, fit_s, transform_s


def _score(
    collector: _Collector, candidate: Candidate, data: tuple[Any, Any, np.ndarray], split: Split
) -> tuple[float, float]:
    """Fit on the training matrix, score the test matrix; returns (fit, predict) seconds."""
    train_x, test_x, labels = data
    train, test = split
    model, fit_s = _timed(lambda: candidate.make().fit(train_x, labels[train]))

    def predict() -> tuple[np.ndarray, np.ndarray]:
        return ranking_scores(model, test_x, candidate.scores), model.predict(test_x)

    (scores, pred), predict_s = _timed(predict)
    collector.add(labels[test], scores, pred, _inner_threshold(candidate, train_x, labels[train]))
    return fit_s, predict_s


def _inner_threshold(candidate: Candidate, matrix: Any, labels: np.ndarray) -> float:
    """Best-F1 threshold on out-of-fold scores within the training fold only."""
    inner = np.full(labels.size, np.nan)
    for train, test in stratified_splits(labels, INNER_FOLDS):
        model = candidate.make().fit(matrix[train], labels[train])
        inner[test] = ranking_scores(model, matrix[test], candidate.scores)
    return choose_threshold(labels, inner)


def compare_classifiers(
    texts: list[str],
    labels: np.ndarray,
    splits: list[Split],
    preset: str,
    on_step: StepCallback = _no_progress,
) -> tuple[list[CandidateResult], list[float]]:
    """Each classifier on the preset's features; returns results and feature seconds per fold."""
    candidates = classifiers(preset)
    collectors = [_Collector(c.name) for c in candidates]
    feature_seconds: list[float] = []
    for fold, (train, test) in enumerate(splits, 1):
        on_step(f"fold {fold}: features")
        train_x, test_x, fit_s, transform_s = _features(
            feature_params(preset), texts, (train, test)
        )
        feature_seconds.append(fit_s + transform_s)
        for candidate, collector in zip(candidates, collectors, strict=True):
            on_step(f"fold {fold}: {candidate.name}")
            times = _score(collector, candidate, (train_x, test_x, labels), (train, test))
            collector.result.fit_seconds.append(times[0])
            collector.result.predict_seconds.append(times[1])
    return [c.result for c in collectors], feature_seconds


def _score_variant(
    collector: _Collector, variant: FeatureVariant, preset: str, data: Any, split: Split
) -> None:
    texts, labels = data
    train_x, test_x, feat_fit, feat_predict = _features(variant.params, texts, split)
    candidate = Candidate(
        variant.name, lambda: LogisticRegression(**classifier_params(preset)), "proba"
    )
    fit_s, predict_s = _score(collector, candidate, (train_x, test_x, labels), split)
    collector.result.fit_seconds.append(feat_fit + fit_s)
    collector.result.predict_seconds.append(feat_predict + predict_s)


def compare_tokenizers(
    texts: list[str],
    labels: np.ndarray,
    splits: list[Split],
    preset: str,
    on_step: StepCallback = _no_progress,
) -> list[CandidateResult]:
    """Each tokenization under the preset's logistic regression; times include features."""
    variants = tokenizations(preset)
    collectors = [_Collector(v.name) for v in variants]
    for fold, split in enumerate(splits, 1):
        for variant, collector in zip(variants, collectors, strict=True):
            on_step(f"fold {fold}: {variant.name}")
            _score_variant(collector, variant, preset, (texts, labels), split)
    return [c.result for c in collectors]


def step_count(folds: int, preset: str, tokenizers: bool = True) -> int:
    """How many ``on_step`` calls ``compare`` makes (one before each unit of work)."""
    per_fold = 1 + len(classifiers(preset))
    if tokenizers:
        per_fold += len(tokenizations(preset))
    return folds * per_fold


def compare(
    data: Dataset,
    *,
    preset: str = "default",
    folds: int = 5,
    seed: int = 0,
    tokenizers: bool = True,
    on_step: StepCallback = _no_progress,
) -> ComparisonResult:
    """Run both comparisons on the same stratified folds of ``data``."""
    if preset not in NGRAM_PRESETS:
        raise DataError(f"compare runs the presets {', '.join(NGRAM_PRESETS)}, not {preset!r}")
    labels = np.asarray(data.labels, dtype=int)
    splits = fold_splits(labels, folds, seed)
    texts = [clean_text(t) for t in data.texts]
    found, feature_seconds = compare_classifiers(texts, labels, splits, preset, on_step)
    by_tokens = compare_tokenizers(texts, labels, splits, preset, on_step) if tokenizers else []
    return ComparisonResult(
        preset=preset,
        folds=folds,
        rows=labels.size,
        removed_rate=float(labels.mean()),
        feature_seconds=feature_seconds,
        classifiers=found,
        tokenizers=by_tokens,
    )

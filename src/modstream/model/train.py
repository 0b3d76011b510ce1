"""Training: fit a preset, pick its threshold on out-of-fold scores, and describe the result."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from modstream.datasets import Dataset
from modstream.errors import DataError
from modstream.model.metrics import evaluate_scores
from modstream.model.presets import build_pipeline
from modstream.model.textmodel import TextModel
from modstream.model.threshold import choose_threshold

log = logging.getLogger(__name__)

Reporter = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def out_of_fold_scores(
    pipeline: object,
    texts: list[str],
    labels: np.ndarray,
    folds: int,
    n_jobs: int,
    report: Reporter,
) -> tuple[np.ndarray, object]:
    """Fit the feature steps once, then cross-validate the classifier on their output.

    Returns out-of-fold P(removed) and the fitted pipeline (classifier refit on all rows).
    Tf-idf vocabularies see every row (no labels), which is the usual trade for speed.
    """
    pipe = clone(pipeline)
    start = time.perf_counter()
    cleaned = pipe.named_steps["clean"].fit_transform(texts)
    matrix = pipe.named_steps["features"].fit_transform(cleaned)
    report(
        f"features: {matrix.shape[1]:,} columns for {matrix.shape[0]:,} rows "
        f"in {time.perf_counter() - start:.1f}s"
    )
    counts = np.bincount(labels, minlength=2)
    k = int(min(folds, counts.min()))
    if k < 2:
        raise DataError("each class needs at least 2 rows to choose a threshold")
    start = time.perf_counter()
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=0)
    clf = pipe.named_steps["clf"]
    oof = cross_val_predict(clf, matrix, labels, cv=cv, method="predict_proba", n_jobs=n_jobs)
    report(f"{k}-fold out-of-fold scores in {time.perf_counter() - start:.1f}s")
    start = time.perf_counter()
    clf.fit(matrix, labels)
    report(f"final classifier in {time.perf_counter() - start:.1f}s")
    return np.asarray(oof[:, 1]), pipe


@dataclass
class TrainResult:
    """A trained model and its out-of-fold P(removed) per training row (for reports)."""

    model: TextModel
    oof: np.ndarray


def train_model(data: Dataset, preset: str = "default", **kwargs: object) -> TextModel:
    """Train ``preset`` on ``data`` and return only the model (see ``train``)."""
    return train(data, preset, **kwargs).model  # type: ignore[arg-type]


def train(
    data: Dataset,
    preset: str = "default",
    *,
    spacy_model: str | None = None,
    n_process: int = 1,
    folds: int = 5,
    n_jobs: int = 2,
    target_precision: float | None = None,
    target_recall: float | None = None,
    name: str = "moderation",
    report: Reporter = _quiet,
) -> TrainResult:
    """Train ``preset`` on ``data``; the threshold comes from out-of-fold predictions."""
    pipeline = build_pipeline(preset, spacy_model, n_process)
    oof, fitted = out_of_fold_scores(pipeline, data.texts, data.labels, folds, n_jobs, report)
    threshold = choose_threshold(data.labels, oof, target_precision, target_recall)
    metrics = {"cross_validated": evaluate_scores(data.labels, oof, threshold)}
    created = datetime.now(UTC)
    digest = hashlib.sha256(f"{data.sha256}{preset}{created.isoformat()}".encode()).hexdigest()
    model = TextModel(
        pipeline=fitted,  # type: ignore[arg-type]
        threshold=threshold,
        preset=preset,
        name=name,
        version=f"{created:%Y%m%dT%H%M%SZ}-{digest[:8]}",
        metrics=metrics,
        training={
            "data_sha256": data.sha256,
            "rows": len(data.texts),
            "removed_rate": float(np.mean(data.labels)),
            "reading": data.report,
            "folds": folds,
            "target_precision": target_precision,
            "target_recall": target_recall,
            "spacy_model": spacy_model,
        },
        created_at=created.isoformat(),
    )
    return TrainResult(model=model, oof=oof)

"""Training: fit a preset, pick its threshold on out-of-fold scores, and describe the result."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from modstream.datasets import Dataset
from modstream.model.crossval import Reporter, out_of_fold, quiet, stratified_splits
from modstream.model.features import TextFeatures
from modstream.model.metrics import evaluate_scores
from modstream.model.presets import build_pipeline
from modstream.model.reference import REFERENCE_KEY, build_reference
from modstream.model.textmodel import TextModel
from modstream.model.threshold import choose_threshold

log = logging.getLogger(__name__)


def out_of_fold_scores(
    pipeline: Pipeline,
    texts: list[str],
    labels: np.ndarray,
    folds: int,
    n_jobs: int,
    report: Reporter,
) -> tuple[np.ndarray, Pipeline]:
    """Out-of-fold P(removed) per row, and the pipeline fitted on every row.

    Every fold fits its own vocabularies and classifier on its training rows, so the
    scores (and the threshold chosen on them) are what unseen comments would get.
    """
    pipe = clone(pipeline)
    start = time.perf_counter()
    features: TextFeatures = pipe.named_steps["features"]
    analyzed = features.analyze(pipe.named_steps["clean"].fit_transform(texts))
    report(f"tokenized {len(texts):,} rows in {time.perf_counter() - start:.1f}s")
    splits = stratified_splits(labels, folds)
    start = time.perf_counter()
    oof = out_of_fold(features, pipe.named_steps["clf"], analyzed, labels, splits, n_jobs)
    report(f"{len(splits)}-fold out-of-fold scores in {time.perf_counter() - start:.1f}s")
    start = time.perf_counter()
    matrix = features.fit_analyzed(analyzed)
    pipe.named_steps["clf"].fit(matrix, labels)
    report(
        f"final model: {matrix.shape[1]:,} columns for {matrix.shape[0]:,} rows "
        f"in {time.perf_counter() - start:.1f}s"
    )
    return oof, pipe


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
    report: Reporter = quiet,
) -> TrainResult:
    """Train ``preset`` on ``data``; the threshold comes from out-of-fold predictions."""
    pipeline = build_pipeline(preset, spacy_model, n_process)
    oof, fitted = out_of_fold_scores(pipeline, data.texts, data.labels, folds, n_jobs, report)
    threshold = choose_threshold(data.labels, oof, target_precision, target_recall)
    metrics = {"cross_validated": evaluate_scores(data.labels, oof, threshold)}
    created = datetime.now(UTC)
    digest = hashlib.sha256(f"{data.sha256}{preset}{created.isoformat()}".encode()).hexdigest()
    model = TextModel(
        pipeline=fitted,
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
            REFERENCE_KEY: build_reference(data.texts, data.labels, oof, threshold),
        },
        created_at=created.isoformat(),
    )
    return TrainResult(model=model, oof=oof)

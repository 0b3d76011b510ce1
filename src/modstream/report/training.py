"""The training report: what the data looked like, how the model scores, what it weighs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from modstream.datasets import Dataset
from modstream.errors import DataError, ModstreamError
from modstream.model.compare import ComparisonResult
from modstream.model.textmodel import TextModel
from modstream.report import html as h
from modstream.report import plots
from modstream.report.ngrams import distinctive_ngrams
from modstream.report.tables import (
    COMPARISON_HEADER,
    COMPARISON_NOTE,
    comparison_rows,
    feature_label,
)

Section = tuple[str, str, str]
_READING = (
    ("source", "source"),
    ("rows_read", "rows read"),
    ("empty_dropped", "empty rows dropped"),
    ("duplicates_dropped", "duplicate rows dropped"),
    ("boilerplate_dropped", "moderator/bot boilerplate dropped"),
    ("sampled_rows", "rows sampled"),
    ("rows_kept", "rows kept"),
)
_CV_METRICS = (
    ("roc_auc", "ROC AUC"),
    ("pr_auc", "PR AUC (average precision)"),
    ("threshold", "threshold"),
    ("precision", "precision of removed"),
    ("recall", "recall of removed"),
    ("f1", "F1 of removed"),
    ("f1_at_0_5", "F1 of removed at 0.5"),
    ("calibration_error", "expected calibration error"),
)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _model_section(model: TextModel) -> Section:
    meta = [
        ("name", model.name),
        ("version", model.version),
        ("preset", model.preset),
        ("threshold on P(removed)", f"{model.threshold:.4f}"),
        ("created", model.created_at),
        ("classes", ", ".join(model.class_names)),
    ]
    cv = model.metrics.get("cross_validated", {})
    scores = [(label, _fmt(cv[key])) for key, label in _CV_METRICS if key in cv]
    folds = model.training.get("folds", "?")
    body = h.columns(h.key_values(meta), h.key_values(scores)) + h.note(
        f"Cross-validated metrics come from {folds}-fold out-of-fold predictions on the "
        "training data; the threshold was chosen on the same predictions."
    )
    return "model", "Model", h.section("model", "Model", body)


def _data_section(data: Dataset) -> Section:
    report = data.report
    rows = [(label, _fmt(report[key])) for key, label in _READING if key in report]
    removed = int(np.sum(data.labels))
    rows += [
        ("removed (t:1)", f"{removed:,} ({removed / len(data.labels):.1%})"),
        ("SHA-256", data.sha256),
    ]
    body = (
        h.key_values(rows)
        + h.image(plots.class_balance(data.labels), "class balance")
        + h.image(plots.length_by_class(data.texts, data.labels), "comment length by class")
    )
    return "data", "Data", h.section("data", "Data", body)


def _ngram_section(model: TextModel, data: Dataset) -> Section:
    found = distinctive_ngrams(model, data.texts, data.labels)
    header = ("n-gram", "z", "removed docs", "kept docs")

    def block(label: int, title: str) -> str:
        rows = [(s.ngram, f"{s.z:+.1f}", s.removed_docs, s.kept_docs) for s in found[label]]
        return f"<h3>{h.esc(title)}</h3>" + h.table(header, rows)

    body = h.columns(block(1, "typical of removed"), block(0, "typical of kept")) + h.note(
        "Word 1-2-grams of the model's tokens, ranked by the z-score of their log-odds ratio "
        "between classes (document counts, Dirichlet prior 0.5)."
    )
    return "ngrams", "Top n-grams", h.section("ngrams", "Top n-grams per class", body)


def _comparison_section(result: ComparisonResult) -> Section:
    parts = [
        h.note(
            f"{result.folds}-fold stratified cross-validation on {result.rows:,} rows, "
            f"features of preset {result.preset!r} fitted on each training fold."
        ),
        "<h3>Classifiers on the same features</h3>",
        h.table(COMPARISON_HEADER, comparison_rows(result.classifiers)),
        h.image(_boxplot(result.classifiers, "Classifiers"), "ROC AUC per fold by classifier"),
    ]
    if result.tokenizers:
        parts += [
            "<h3>Tokenizations under logistic regression</h3>",
            h.table(COMPARISON_HEADER, comparison_rows(result.tokenizers)),
            h.image(_boxplot(result.tokenizers, "Tokenizations"), "ROC AUC per fold by tokens"),
            h.note("Fit and predict times of tokenizations include building the features."),
        ]
    parts.append(h.note(COMPARISON_NOTE))
    return "comparison", "Comparison", h.section("comparison", "Algorithm comparison", *parts)


def _boxplot(results: Any, title: str) -> bytes:
    return plots.score_boxplot([(r.name, r.roc_auc) for r in results], title)


def _performance_section(model: TextModel, labels: np.ndarray, oof: np.ndarray) -> Section:
    body = (
        h.note("Out-of-fold P(removed) against the true labels.")
        + h.image(plots.roc_pr_curves(labels, oof), "ROC and precision-recall curves")
        + h.image(plots.threshold_curve(labels, oof, model.threshold), "threshold curve")
        + h.image(plots.confusion(labels, oof, model.threshold), "confusion matrix")
    )
    return "performance", "Performance", h.section("performance", "Performance", body)


def _features_section(model: TextModel, top: int = 20) -> Section | None:
    coef = getattr(model.classifier, "coef_", None)
    names = model.features.feature_names()
    if coef is None or np.asarray(coef).shape[-1] != len(names):
        return None
    weights = np.asarray(coef, dtype=float).reshape(-1)
    order = np.argsort(weights)
    header = ("feature", "coefficient")

    def rows(index: np.ndarray) -> list[tuple[str, str]]:
        return [(feature_label(names[i]), f"{weights[i]:+.3f}") for i in index]

    body = (
        h.image(plots.heaviest_features(names, weights, top), "heaviest features")
        + h.columns(
            "<h3>toward removed</h3>" + h.table(header, rows(order[::-1][:top])),
            "<h3>toward kept</h3>" + h.table(header, rows(order[:top])),
        )
        + h.note(
            'Logistic-regression coefficients; "char:" marks character n-grams '
            "(␣ is a word boundary)."
        )
    )
    return "features", "Features", h.section("features", "Heaviest features", body)


def build_report(
    *, data: Dataset, model: TextModel, oof: np.ndarray, comparison: ComparisonResult | None
) -> str:
    """The report as one HTML string."""
    labels = np.asarray(data.labels, dtype=int)
    scores = np.asarray(oof, dtype=float).reshape(-1)
    if scores.size != labels.size:
        raise DataError(f"{scores.size} out-of-fold scores for {labels.size} rows")
    sections = [_model_section(model), _data_section(data), _ngram_section(model, data)]
    if comparison is not None:
        sections.append(_comparison_section(comparison))
    sections.append(_performance_section(model, labels, scores))
    features = _features_section(model)
    if features is not None:
        sections.append(features)
    title = f"Training report: {model.name} {model.version}"
    subtitle = f"preset {model.preset}, {labels.size:,} training rows"
    return h.page(title, subtitle, sections)


def write_report(
    path: str | Path,
    *,
    data: Dataset,
    model: TextModel,
    oof: np.ndarray,
    comparison: ComparisonResult | None = None,
) -> Path:
    """Write the self-contained HTML training report to ``path`` (atomically); return it."""
    target = Path(path)
    text = build_report(data=data, model=model, oof=oof, comparison=comparison)
    # a plain open() (not mkstemp) so the report gets the usual umask permissions
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModstreamError(
            f"cannot write report {target}: {exc.strerror or exc}", status=500, reason="IO_ERROR"
        ) from exc
    return target

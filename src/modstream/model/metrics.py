"""Evaluation metrics of a binary "removed" classifier."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)


def calibration_error(y_true: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(float(p[mask].mean()) - float(y_true[mask].mean()))
    return float(total)


def evaluate_scores(y_true: np.ndarray, p_removed: np.ndarray, threshold: float) -> dict:
    """ROC AUC, PR AUC, precision/recall/F1 at ``threshold``, confusion matrix, ECE."""
    y = np.asarray(y_true, dtype=int)
    pred = (p_removed >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return {
        "n": int(y.size),
        "positive_rate": float(y.mean()),
        "roc_auc": float(roc_auc_score(y, p_removed)),
        "pr_auc": float(average_precision_score(y, p_removed)),
        "threshold": float(threshold),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "f1_at_0_5": float(f1_score(y, (p_removed >= 0.5).astype(int), zero_division=0)),
        "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        "calibration_error": calibration_error(y, p_removed),
    }

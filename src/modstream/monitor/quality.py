"""Quality of labelled predictions: the numbers a moderation team reads, computed with NumPy.

Definitions follow scikit-learn's: precision, recall and F1 of "removed" at each row's
shipped threshold (``p >= threshold`` predicts removal), ROC AUC (trapezoids over the ROC
curve, ties counted half), average precision (PR AUC: the sum over score thresholds of
precision times the recall gained), the Brier score (mean squared error of P(removed)).
A number that is undefined on the rows (no predicted removals for precision, one class
for ROC AUC) is ``None`` rather than a made-up 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "RELIABILITY_BINS",
    "confusion",
    "quantiles",
    "ranking",
    "reliability",
    "reliability_bins",
    "scores_from_counts",
    "summarize",
]

RELIABILITY_BINS = 10
_INNER_EDGES = np.linspace(0.0, 1.0, RELIABILITY_BINS + 1)[1:-1]


def reliability_bins(p: np.ndarray) -> np.ndarray:
    """The calibration bin of each score: ``[0, 0.1]``, ``(0.1, 0.2]``, ... (scikit-learn's)."""
    return np.searchsorted(_INNER_EDGES, p, side="left")


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def confusion(y: np.ndarray, p: np.ndarray, threshold: np.ndarray) -> tuple[int, int, int, int]:
    """``(tp, fp, fn, tn)`` of "removed" when ``p >= threshold`` predicts removal."""
    predicted = p >= threshold
    actual = y.astype(bool)
    tp = int(np.count_nonzero(predicted & actual))
    fp = int(np.count_nonzero(predicted & ~actual))
    fn = int(np.count_nonzero(~predicted & actual))
    return tp, fp, fn, int(y.size) - tp - fp - fn


def scores_from_counts(tp: float, fp: float, fn: float) -> dict[str, float | None]:
    """Precision, recall and F1 of "removed" from confusion counts."""
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {"precision": precision, "recall": recall, "f1": f1}


def ranking(
    y: np.ndarray, p: np.ndarray, *, ranked: bool = False
) -> tuple[float | None, float | None]:
    """``(roc_auc, average_precision)`` from one sort of the scores.

    ``ranked=True`` says the rows are already in descending score order (the report
    sorts once and selects subsets in that order), which skips the sort.
    """
    positives = int(np.count_nonzero(y))
    if positives == 0:
        return None, None
    if ranked:
        ranked_p, ranked_y = p, y.astype(np.float64)
    else:
        order = np.argsort(p, kind="stable")[::-1]
        ranked_p, ranked_y = p[order], y[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(ranked_p)), ranked_p.size - 1]
    tps = np.cumsum(ranked_y)[last]
    fps = (last + 1) - tps
    recall = tps / positives
    precision = tps / (tps + fps)
    average_precision = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    negatives = y.size - positives
    if negatives == 0:
        return None, average_precision
    tpr, fpr = np.r_[0.0, recall], np.r_[0.0, fps / negatives]
    roc_auc = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
    return roc_auc, average_precision


def reliability(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Calibration table: per equal-width bin of P(removed), rows, mean score, removal rate."""
    which = reliability_bins(p)
    bins = RELIABILITY_BINS
    count = np.bincount(which, minlength=bins)
    sum_p = np.bincount(which, weights=p, minlength=bins)
    sum_y = np.bincount(which, weights=y.astype(np.float64), minlength=bins)
    return reliability_from_sums(count, sum_p, sum_y)


def reliability_from_sums(
    count: np.ndarray, sum_p: np.ndarray, sum_y: np.ndarray
) -> list[dict[str, Any]]:
    """The calibration table from per-bin sums (also kept as running totals)."""
    bins = count.size
    return [
        {
            "low": i / bins,
            "high": (i + 1) / bins,
            "count": round(float(count[i])),
            "mean_score": _ratio(sum_p[i], count[i]),
            "removed_rate": _ratio(sum_y[i], count[i]),
        }
        for i in range(bins)
    ]


def quantiles(values: np.ndarray, qs: tuple[float, ...] = (0.5, 0.95)) -> list[float | None]:
    """Linear-interpolated quantiles (NumPy's default), ``None`` for no values."""
    if values.size == 0:
        return [None] * len(qs)
    return [float(v) for v in np.quantile(values, qs)]


def summarize(
    y: np.ndarray,
    p: np.ndarray,
    threshold: np.ndarray,
    delay: np.ndarray | None = None,
    *,
    ranked: bool = False,
) -> dict[str, Any]:
    """Every quality number of one set of labelled rows (``ranked``: see ``ranking``)."""
    tp, fp, fn, tn = confusion(y, p, threshold)
    roc_auc, average_precision = ranking(y, p, ranked=ranked)
    out: dict[str, Any] = {
        "labelled": int(y.size),
        "removed_rate": _ratio(int(np.count_nonzero(y)), y.size),
        **scores_from_counts(tp, fp, fn),
        "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "roc_auc": roc_auc,
        "pr_auc": average_precision,
        "brier": float(np.mean((p - y) ** 2)) if y.size else None,
        "reliability": reliability(y, p),
    }
    if delay is not None:
        p50, p95 = quantiles(delay)
        out["label_delay_s"] = {"p50": p50, "p95": p95}
    return out

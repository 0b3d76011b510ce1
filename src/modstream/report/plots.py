"""One function per figure, each returning PNG bytes.

Figures are built with ``matplotlib.figure.Figure`` and the Agg canvas directly, so no
global pyplot state or display backend is involved (safe in servers and threads).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve

from modstream.report.tables import feature_label

KEPT_COLOR = "#4c72b0"
REMOVED_COLOR = "#dd5144"
CLASS_LABELS = ("kept (t:0)", "removed (t:1)")


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def score_boxplot(rows: Sequence[tuple[str, Sequence[float]]], title: str) -> bytes:
    """Per-fold ROC AUC of each candidate, one horizontal box per row, best on top."""
    ordered = sorted(rows, key=lambda r: float(np.mean(r[1])))
    fig = _figure(8, 0.55 * len(ordered) + 1.4)
    ax = fig.add_subplot()
    ax.boxplot([list(r[1]) for r in ordered], orientation="horizontal", widths=0.5)
    for i, (_, values) in enumerate(ordered, 1):
        ax.plot(values, np.full(len(values), i), "o", color=REMOVED_COLOR, alpha=0.6, ms=4)
    ax.set_yticks(range(1, len(ordered) + 1), [r[0] for r in ordered])
    ax.set_xlabel("ROC AUC per fold")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def class_balance(labels: np.ndarray) -> bytes:
    counts = np.bincount(np.asarray(labels, dtype=int), minlength=2)
    fig = _figure(5, 2.2)
    ax = fig.add_subplot()
    bars = ax.barh(CLASS_LABELS, counts, color=[KEPT_COLOR, REMOVED_COLOR])
    share = counts / max(int(counts.sum()), 1)
    ax.bar_label(bars, [f"{c:,} ({s:.1%})" for c, s in zip(counts, share, strict=True)])
    ax.set_xlim(0, counts.max() * 1.3)
    ax.set_xlabel("comments")
    ax.set_title("Class balance")
    return _png(fig)


def length_by_class(texts: Sequence[str], labels: np.ndarray) -> bytes:
    """Histogram of words per comment (log scale), one outline per class, as shares."""
    words = np.array([max(len(t.split()), 1) for t in texts])
    y = np.asarray(labels, dtype=int)
    bins = np.logspace(0, np.log10(max(int(words.max()), 2)) + 0.01, 40).tolist()
    fig = _figure(7, 3.2)
    ax = fig.add_subplot()
    for label, color, name in zip((0, 1), (KEPT_COLOR, REMOVED_COLOR), CLASS_LABELS, strict=True):
        part = words[y == label]
        if part.size:
            weights = np.full(part.size, 1.0 / part.size)
            median = int(np.median(part))
            ax.hist(
                part,
                bins=bins,
                weights=weights,
                histtype="step",
                lw=2,
                color=color,
                label=f"{name}, median {median} words",
            )
    ax.set_xscale("log")
    ax.set_xlabel("words per comment (log scale)")
    ax.set_ylabel("share of class")
    ax.set_title("Comment length by class")
    ax.legend()
    return _png(fig)


def roc_pr_curves(labels: np.ndarray, scores: np.ndarray) -> bytes:
    """ROC and precision-recall curves of out-of-fold P(removed)."""
    fpr, tpr, _ = roc_curve(labels, scores)
    precision, recall, _ = precision_recall_curve(labels, scores)
    fig = _figure(9, 3.8)
    roc_ax, pr_ax = fig.subplots(1, 2)
    roc_ax.plot(fpr, tpr, color=REMOVED_COLOR)
    roc_ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr_ax.plot(recall, precision, color=REMOVED_COLOR)
    pr_ax.axhline(float(np.mean(labels)), ls="--", color="grey", lw=1, label="base rate")
    pr_ax.set(xlabel="recall", ylabel="precision", title="Precision-recall", ylim=(0, 1.02))
    pr_ax.legend(loc="lower left")
    for ax in (roc_ax, pr_ax):
        ax.grid(alpha=0.3)
    return _png(fig)


def confusion(labels: np.ndarray, scores: np.ndarray, threshold: float) -> bytes:
    matrix = confusion_matrix(labels, (scores >= threshold).astype(int), labels=[0, 1])
    fig = _figure(4.6, 3.8)
    ax = fig.add_subplot()
    ax.imshow(matrix, cmap="Blues")
    total = max(int(matrix.sum()), 1)
    for (i, j), count in np.ndenumerate(matrix):
        dark = count > matrix.max() / 2
        ax.text(
            j,
            i,
            f"{count:,}\n{count / total:.1%}",
            ha="center",
            va="center",
            color="white" if dark else "black",
            fontsize=12,
        )
    ax.set_xticks([0, 1], ["kept", "removed"])
    ax.set_yticks([0, 1], ["kept", "removed"])
    ax.set(xlabel="predicted", ylabel="actual", title=f"Confusion at threshold {threshold:.3f}")
    return _png(fig)


def threshold_curve(labels: np.ndarray, scores: np.ndarray, threshold: float) -> bytes:
    """Precision, recall and F1 of "removed" against the threshold; the chosen one marked."""
    precision, recall, cuts = precision_recall_curve(labels, scores)
    precision, recall = precision[:-1], recall[:-1]
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    fig = _figure(7, 3.6)
    ax = fig.add_subplot()
    ax.plot(cuts, precision, label="precision")
    ax.plot(cuts, recall, label="recall")
    ax.plot(cuts, f1, label="F1", lw=2)
    ax.axvline(threshold, color="black", ls="--", lw=1, label=f"threshold {threshold:.3f}")
    ax.set(xlabel="threshold on P(removed)", ylabel="score", ylim=(0, 1.02), xlim=(0, 1))
    ax.set_title("Precision, recall and F1 of removed vs threshold")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return _png(fig)


def heaviest_features(names: Sequence[str], coef: np.ndarray, top: int = 20) -> bytes:
    """The ``top`` largest positive (toward removed) and negative coefficients."""
    order = np.argsort(coef)
    picked = np.concatenate([order[:top], order[-top:]]) if coef.size > 2 * top else order
    values = coef[picked]
    fig = _figure(8, 0.22 * picked.size + 1.2)
    ax = fig.add_subplot()
    colors = [REMOVED_COLOR if v > 0 else KEPT_COLOR for v in values]
    ax.barh(range(picked.size), values, color=colors)
    ax.set_yticks(range(picked.size), [feature_label(names[i], 40) for i in picked], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("coefficient (positive pushes toward removed)")
    ax.set_title("Heaviest features")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)

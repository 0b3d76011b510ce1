"""Quality numbers against scikit-learn, on scores with ties and on degenerate rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from modstream.monitor.quality import ranking, summarize


@pytest.mark.parametrize("seed", range(12))
def test_every_number_equals_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3000))
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    p = np.round(np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1), int(rng.integers(1, 5)))
    threshold = np.full(n, float(rng.uniform(0.2, 0.8)))
    got = summarize(y, p, threshold)
    predicted = p >= threshold
    assert got["precision"] == pytest.approx(
        precision_score(y, predicted, zero_division=0), abs=1e-9
    )
    assert got["recall"] == pytest.approx(recall_score(y, predicted), abs=1e-9)
    assert got["f1"] == pytest.approx(f1_score(y, predicted), abs=1e-9)
    assert got["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-9)
    assert got["pr_auc"] == pytest.approx(average_precision_score(y, p), abs=1e-9)
    assert got["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-9)
    observed, mean_score = calibration_curve(y, p, n_bins=10, strategy="uniform")
    filled = [b for b in got["reliability"] if b["count"]]
    assert [b["removed_rate"] for b in filled] == pytest.approx(observed, abs=1e-9)
    assert [b["mean_score"] for b in filled] == pytest.approx(mean_score, abs=1e-9)


def test_undefined_numbers_are_none_not_zero() -> None:
    y = np.array([0, 0, 0])
    got = summarize(y, np.array([0.1, 0.2, 0.3]), np.full(3, 0.5))
    assert got["precision"] is None and got["recall"] is None and got["f1"] is None
    assert got["roc_auc"] is None and got["pr_auc"] is None
    assert got["brier"] == pytest.approx(brier_score_loss(y, [0.1, 0.2, 0.3]))
    assert ranking(np.array([1, 1]), np.array([0.2, 0.9])) == (None, 1.0)
    empty = summarize(np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0))
    assert empty["labelled"] == 0 and empty["brier"] is None
    assert empty["label_delay_s"] == {"p50": None, "p95": None}

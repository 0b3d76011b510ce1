"""Drift alerts on real comments: a model trained on part of the r/science dev sample, live
traffic from the rest. Clean traffic raises nothing; off-distribution text, growing in
share, raises an alert within 2,000 comments; it clears when traffic is clean again."""

from __future__ import annotations

import numpy as np
import pytest

from modstream.monitor.drift import DriftDetector
from tests.conftest import DEV_CSV, needs_dev_data
from tests.unit.monitor_shift import (
    KINDS,
    drift_inputs,
    off_distribution,
    reference_of,
    split_dev,
    train_on,
)

pytestmark = [pytest.mark.slow, needs_dev_data]


@pytest.fixture(scope="module")
def setup() -> dict:
    part, held_out = split_dev(DEV_CSV)
    model = train_on(part)
    return {
        "reference": reference_of(model),
        "clean": drift_inputs(model, held_out),
        "off": {kind: drift_inputs(model, off_distribution(kind, 300)) for kind in KINDS},
    }


def _alerts(detector: DriftDetector, rows: np.ndarray, step: int = 100) -> list[tuple[int, bool]]:
    """(comments seen, raised?) of every alert change while ``rows`` stream by."""
    changes = []
    for start in range(0, len(rows), step):
        for alert in detector.observe("v", *rows[start : start + step].T, clock=float(start)):
            changes.append((start + step, alert.raised))
    return changes


def test_the_held_out_comments_in_random_order_raise_nothing(setup: dict) -> None:
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(setup["clean"]))
        assert _alerts(DriftDetector({"v": setup["reference"]}), setup["clean"][order]) == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_growing_share_of_other_text_alerts_within_2000_comments_then_clears(
    setup: dict, kind: str
) -> None:
    rng = np.random.default_rng(7)
    clean, off = setup["clean"], setup["off"][kind]
    before = clean[rng.integers(0, len(clean), 2000)]
    shifted = clean[rng.integers(0, len(clean), 2000)].copy()
    replaced = rng.random(2000) < np.arange(2000) / 2000  # 0% growing to 100%
    shifted[replaced] = off[rng.integers(0, len(off), int(replaced.sum()))]
    after = clean[rng.integers(0, len(clean), 3000)]
    changes = _alerts(DriftDetector({"v": setup["reference"]}), np.vstack([before, shifted, after]))
    raised = [seen for seen, up in changes if up]
    cleared = [seen for seen, up in changes if not up]
    assert raised and 2000 < raised[0] <= 4000, changes
    assert cleared and cleared[-1] > raised[-1], changes  # clean again: the alert clears


def test_at_most_one_false_alarm_in_100000_clean_comments(setup: dict) -> None:
    rng = np.random.default_rng(11)
    rows = setup["clean"][rng.integers(0, len(setup["clean"]), 100_000)]
    changes = _alerts(DriftDetector({"v": setup["reference"]}), rows, step=1000)
    assert sum(1 for _, up in changes if up) <= 1, changes

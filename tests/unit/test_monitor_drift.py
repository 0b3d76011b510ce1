"""Drift alerts against a training reference: PSI, hysteresis, and batching independence."""

from __future__ import annotations

import numpy as np
import pytest

from modstream.model.reference import TextProfile, histogram, words
from modstream.monitor.drift import DriftDetector, DriftThresholds, psi

_RNG = np.random.default_rng(0)
_SCORES = _RNG.beta(2, 3, 5000)
_CHARS = _RNG.lognormal(5, 1, 5000)
_OOV = np.clip(_RNG.normal(0.1, 0.05, 5000), 0, 1)
REFERENCE = {
    "threshold": 0.5,
    "removed_rate": 0.3,
    "predicted_removed_rate": float(np.mean(_SCORES >= 0.5)),
    "score": histogram(_SCORES),
    "chars": histogram(_CHARS),
    "oov": histogram(_OOV),
}


def _traffic(rng: np.random.Generator, n: int, oov_shift: float = 0.0) -> list[np.ndarray]:
    return [
        rng.beta(2, 3, n),
        rng.lognormal(5, 1, n),
        np.clip(rng.normal(0.1 + oov_shift, 0.05, n), 0, 1),
    ]


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift() -> None:
    same = np.array([0.25, 0.25, 0.5])
    assert psi(same, same) == 0.0
    small, large = psi(same, np.array([0.3, 0.2, 0.5])), psi(same, np.array([0.6, 0.1, 0.3]))
    assert 0 < small < large
    assert small == pytest.approx(0.05 * np.log(0.3 / 0.25) - 0.05 * np.log(0.2 / 0.25))


def test_same_traffic_raises_nothing_and_a_shift_raises_then_clears() -> None:
    rng = np.random.default_rng(1)
    detector = DriftDetector({"v1": REFERENCE}, DriftThresholds(window=500, every=50))
    assert detector.observe("v1", *_traffic(rng, 3000), clock=1.0) == []
    raised = detector.observe("v1", *_traffic(rng, 1000, oov_shift=0.3), clock=2.0)
    assert [a.raised for a in raised] == [True]
    assert "oov_psi" in raised[0].breached and raised[0].statistics["oov_psi"] >= 0.25
    assert detector.status()["v1"]["alert"] is True
    cleared = detector.observe("v1", *_traffic(rng, 1000), clock=3.0)
    assert [a.raised for a in cleared] == [False]
    assert detector.status()["v1"] | {"statistics": None} == {
        "alert": False, "since": 3.0, "seen": 5000, "statistics": None, "reference": True
    }  # fmt: skip


def test_the_alert_does_not_depend_on_how_traffic_is_batched() -> None:
    rng = np.random.default_rng(2)
    traffic = [
        np.concatenate(parts)
        for parts in zip(_traffic(rng, 2000), _traffic(rng, 800, 0.3), strict=True)
    ]
    outcomes = []
    for sizes in ([2800], [1, 99, 1234, 1466], [7] * 400):
        detector = DriftDetector({"v1": REFERENCE}, DriftThresholds(window=500, every=50))
        alerts, start = [], 0
        for size in sizes:
            alerts += detector.observe(
                "v1", *(c[start : start + size] for c in traffic), clock=float(start)
            )
            start += size
        outcomes.append([(a.raised, a.statistics) for a in alerts])
    assert outcomes[0] == outcomes[1] == outcomes[2] and outcomes[0]


def test_a_moved_removal_share_alerts_and_missing_inputs_are_not_guessed() -> None:
    rng = np.random.default_rng(3)
    detector = DriftDetector({"v1": REFERENCE}, DriftThresholds(window=500, every=50))
    nan = np.full(600, np.nan)
    high = np.clip(rng.beta(2, 3, 600) + 0.3, 0, 1)
    [alert] = detector.observe("v1", high, nan, nan, clock=1.0)
    assert "predicted_removed_share" in alert.breached
    assert alert.statistics["chars_psi"] is None and alert.statistics["oov_psi"] is None
    assert detector.observe("unknown-version", high, nan, nan, clock=1.0) == []


def test_the_out_of_vocabulary_share_counts_letter_words_in_any_script() -> None:
    # Lower-cased runs of two or more letters: digits, underscores and lone letters are no
    # words, and accented words are whole words, not split at the accent.
    assert words("Is THIS a_test? 42x, it's re-done") == ["is", "this", "test", "it", "re", "done"]
    assert words("Ünïcödé wörds, 2nd café") == ["ünïcödé", "wörds", "nd", "café"]
    profile = TextProfile(frozenset({"café", "this", "test"}))
    assert profile.measure(["this café", "THIS wörds", "42"]) == ("9,10,2", "0.000,0.500,1.000")

"""Running totals per (model version, community) since the monitor started.

Each prediction row contributes a vector (one prediction, labelled or not, its confusion
cell at the shipped threshold, its Brier term, its calibration bin). When a row's label
or community changes (an appeal, a late community), its old vector is subtracted and the
new one added, so a comment always counts once. These totals outlive the retention of
the rows themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modstream.monitor.quality import (
    RELIABILITY_BINS,
    reliability_bins,
    reliability_from_sums,
    scores_from_counts,
)

__all__ = ["Totals", "Vocabulary"]

PREDICTIONS, LABELLED, TP, FP, FN, TN, BRIER, REMOVED, PREDICTED_REMOVED, EXPIRED = range(10)
REL_COUNT = 10
REL_P = REL_COUNT + RELIABILITY_BINS
REL_Y = REL_P + RELIABILITY_BINS
WIDTH = REL_Y + RELIABILITY_BINS


class Vocabulary:
    """Strings <-> small integer codes; code 0 is the empty string (unknown / none)."""

    def __init__(self, words: list[str] | None = None) -> None:
        self.words: list[str] = list(words or [""])
        self._codes = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def code(self, word: str) -> int:
        found = self._codes.get(word)
        if found is None:
            found = self._codes[word] = len(self.words)
            self.words.append(word)
        return found

    def codes(self, words: list[str], dtype: str = "i4") -> np.ndarray:
        return np.fromiter((self.code(w) for w in words), dtype=dtype, count=len(words))


def contributions(p: np.ndarray, threshold: np.ndarray, label: np.ndarray) -> np.ndarray:
    """The ``(n, WIDTH)`` vectors of rows with scores ``p`` and labels (-1 = none yet)."""
    n = p.size
    out = np.zeros((n, WIDTH))
    labelled = label >= 0
    removed = label == 1
    predicted = p >= threshold
    out[:, PREDICTIONS] = 1.0
    out[:, LABELLED] = labelled
    out[:, TP] = labelled & predicted & removed
    out[:, FP] = labelled & predicted & ~removed
    out[:, FN] = labelled & ~predicted & removed
    out[:, TN] = labelled & ~predicted & ~removed
    out[:, BRIER] = np.where(labelled, (p - removed) ** 2, 0.0)
    out[:, REMOVED] = labelled & removed
    out[:, PREDICTED_REMOVED] = predicted
    rows = np.flatnonzero(labelled)
    bins = reliability_bins(p[rows])
    out[rows, REL_COUNT + bins] = 1.0
    out[rows, REL_P + bins] = p[rows]
    out[rows, REL_Y + bins] = removed[rows]
    return out


class Totals:
    """A ``(groups, WIDTH)`` array of sums; a group is a (version, community) pair."""

    def __init__(self) -> None:
        self.groups: dict[tuple[int, int], int] = {}
        self.sums = np.zeros((0, WIDTH))

    def group_ids(self, versions: np.ndarray, communities: np.ndarray) -> np.ndarray:
        code = (versions.astype(np.int64) << 32) | communities.astype(np.int64)
        unique, inverse = np.unique(code, return_inverse=True)
        ids = np.array([self._group(int(c) >> 32, int(c) & 0xFFFFFFFF) for c in unique])
        return ids[inverse] if ids.size else ids.astype(np.int64)

    def _group(self, version: int, community: int) -> int:
        found = self.groups.get((version, community))
        if found is None:
            found = self.groups[(version, community)] = len(self.groups)
            self.sums = np.vstack([self.sums, np.zeros((1, WIDTH))])
        return found

    def add(self, groups: np.ndarray, vectors: np.ndarray, sign: float = 1.0) -> None:
        if groups.size:
            np.add.at(self.sums, groups, sign * vectors)

    def expire(self, groups: np.ndarray) -> None:
        """Count unlabelled rows dropped by retention (they stay in the other totals)."""
        np.add.at(self.sums[:, EXPIRED], groups, 1.0)

    def of(self, version: int, community: int | None = None) -> np.ndarray:
        """The sums of one version (all communities) or one (version, community) group."""
        picked = [g for (v, c), g in self.groups.items() if v == version and community in (None, c)]
        return self.sums[picked].sum(axis=0) if picked else np.zeros(WIDTH)


def describe(sums: np.ndarray) -> dict[str, Any]:
    """The since-start numbers of one sum vector."""
    labelled, predictions = sums[LABELLED], sums[PREDICTIONS]
    tp, fp, fn = sums[TP], sums[FP], sums[FN]
    return {
        "predictions": round(float(predictions)),
        "labelled": round(float(labelled)),
        "expired_unlabelled": round(float(sums[EXPIRED])),
        "coverage": float(labelled / predictions) if predictions else None,
        "removed_rate": float(sums[REMOVED] / labelled) if labelled else None,
        "predicted_removed_rate": float(sums[PREDICTED_REMOVED] / predictions)
        if predictions
        else None,
        **scores_from_counts(tp, fp, fn),
        "confusion": {k: round(float(sums[i])) for k, i in (("tp", TP), ("fp", FP), ("fn", FN))}
        | {"tn": round(float(sums[TN]))},
        "brier": float(sums[BRIER] / labelled) if labelled else None,
        "reliability": reliability_from_sums(
            sums[REL_COUNT:REL_P], sums[REL_P:REL_Y], sums[REL_Y:WIDTH]
        ),
    }

"""The monitor's numbers per model version and community, over sliding windows and since start.

Windows are in event time, ending at the monitor's clock (the latest prediction or
decision time seen): ``hour`` and ``day`` hold the labels whose effective decision was
made in that span (coverage: the share of that span's predictions labelled so far),
``last_n`` the most recent N labels, and ``since_start`` the running totals (exact for
every count since the monitor started) with ranking metrics and label delays over the
labelled rows still retained (``ranking_rows`` says how many; ``ranking_complete`` is
false once retention has dropped labelled rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from modstream.monitor.quality import quantiles, ranking, summarize
from modstream.monitor.state import MonitorState
from modstream.monitor.totals import describe

__all__ = ["Windows", "build_report"]


@dataclass(frozen=True)
class Windows:
    """The sliding windows reported, and how many labels a community needs to be ranked."""

    spans: tuple[tuple[str, float], ...] = (("hour", 3_600.0), ("day", 86_400.0))
    last_n: int = 1_000
    community_min_labels: int = 30


@dataclass
class _Rows:
    """Every retained prediction row joined to its comment, by version, highest score first.

    Sorting once here lets every window and community take its rows with a mask and
    still have them in score order, so ranking metrics need no sort of their own.
    """

    version: np.ndarray
    community: np.ndarray
    p: np.ndarray
    threshold: np.ndarray
    t: np.ndarray
    y: np.ndarray
    labelled: np.ndarray
    label_at: np.ndarray
    delay: np.ndarray

    @classmethod
    def of(cls, state: MonitorState) -> _Rows:
        r, c = state.rows, state.comments
        order = np.lexsort((-r["p"], r["version"]))
        comment = r["comment"][order]
        label = c["label"][comment]
        return cls(
            version=r["version"][order],
            community=state.effective_communities(order),
            p=r["p"][order],
            threshold=r["threshold"][order],
            t=r["t"][order],
            y=np.maximum(label, 0),
            labelled=label >= 0,
            label_at=c["label_at"][comment],
            delay=np.maximum(0.0, c["first_at"][comment] - r["t"][order]),
        )

    def summary(self, picked: np.ndarray) -> dict[str, Any]:
        return summarize(
            self.y[picked], self.p[picked], self.threshold[picked], self.delay[picked], ranked=True
        )


def _window(rows: _Rows, mine: np.ndarray, since: float) -> dict[str, Any]:
    scored = mine & (rows.t > since)
    out = rows.summary(mine & rows.labelled & (rows.label_at > since))
    predictions = int(np.count_nonzero(scored))
    labelled_scored = int(np.count_nonzero(scored & rows.labelled))
    removed = int(np.count_nonzero(rows.p[scored] >= rows.threshold[scored]))
    out["predictions"] = predictions
    out["coverage"] = labelled_scored / predictions if predictions else None
    out["predicted_removed_rate"] = removed / predictions if predictions else None
    return out


def _last_n(rows: _Rows, mine: np.ndarray, n: int) -> dict[str, Any]:
    candidates = np.flatnonzero(mine & rows.labelled)
    order = np.lexsort((rows.t[candidates], rows.label_at[candidates]))
    return rows.summary(np.sort(candidates[order[-n:]]))  # back in score order


def _since_start(state: MonitorState, rows: _Rows, mine: np.ndarray, **group: int) -> dict:
    out = describe(state.totals.of(**group))
    picked = mine & rows.labelled
    roc_auc, pr_auc = ranking(rows.y[picked], rows.p[picked], ranked=True)
    p50, p95 = quantiles(rows.delay[picked])
    out.update(
        roc_auc=roc_auc,
        pr_auc=pr_auc,
        label_delay_s={"p50": p50, "p95": p95},
        ranking_rows=int(np.count_nonzero(picked)),
        ranking_complete=state.counters.evicted_labelled == 0,
    )
    return out


def _communities(
    state: MonitorState, rows: _Rows, mine: np.ndarray, version: int, windows: Windows
) -> list[dict[str, Any]]:
    codes = sorted({c for v, c in state.totals.groups if v == version})
    day = state.now - dict(windows.spans).get("day", 86_400.0)
    table = []
    for code in codes:
        here = mine & (rows.community == code)
        entry = _since_start(state, rows, here, version=version, community=code)
        if entry["predictions"] == 0:
            continue  # its comments moved to the community their decisions named
        entry.pop("reliability")
        recent = rows.summary(here & rows.labelled & (rows.label_at > day))
        entry["day"] = {k: recent[k] for k in ("labelled", "precision", "recall", "f1")}
        entry["community"] = state.communities.words[code]
        table.append(entry)
    floor = windows.community_min_labels

    def worst_first(entry: dict[str, Any]) -> tuple[bool, float, int]:
        f1 = entry["f1"]
        return entry["labelled"] < floor, 1.0 if f1 is None else f1, -entry["labelled"]

    return sorted(table, key=worst_first)


def build_report(state: MonitorState, windows: Windows | None = None) -> dict[str, Any]:
    """Everything the monitor knows, as one JSON-ready document."""
    windows = windows or Windows()
    rows = _Rows.of(state)
    versions: dict[str, Any] = {}
    codes = sorted({v for v, _ in state.totals.groups})
    for code in codes:
        name = state.versions.words[code]
        mine = rows.version == code
        report = {name: _window(rows, mine, state.now - span) for name, span in windows.spans}
        report["last_n"] = _last_n(rows, mine, windows.last_n)
        report["since_start"] = _since_start(state, rows, mine, version=code)
        versions[name] = {
            "role": state.roles.get(name, "champion"),
            "windows": report,
            "communities": _communities(state, rows, mine, code, windows),
        }
    c = state.counters
    pending = int(np.count_nonzero(~rows.labelled))
    has_row = np.zeros(len(state.comments), dtype=bool)
    has_row[state.rows["comment"]] = True
    waiting = int(np.count_nonzero(~has_row & (state.comments["label"] >= 0)))
    return {
        "clock": state.now if np.isfinite(state.now) else None,
        "windows": {"spans_s": dict(windows.spans), "last_n": windows.last_n},
        "versions": versions,
        "totals": {
            "predictions_read": c.predictions,
            "duplicate_predictions": c.duplicate_predictions,
            "decisions_read": c.decisions,
            "stale_decisions": c.stale_decisions,
            "decisions_by_source": dict(c.by_source),
            "pending_predictions": pending,
            "decisions_waiting_for_a_prediction": waiting,
            "state_bytes": state.nbytes,
        },
    }

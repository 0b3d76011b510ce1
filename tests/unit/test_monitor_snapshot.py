"""A snapshot restores the monitor exactly: continuing after a restore equals never stopping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from modstream.errors import ModstreamError
from modstream.monitor import Monitor
from modstream.monitor.snapshot import FILENAME, load_snapshot, save_snapshot
from tests.unit.monitor_records import T0, decisions, predictions, same_numbers
from tests.unit.test_monitor_drift import REFERENCE


def _halves(n: int = 2000) -> list:
    rng = np.random.default_rng(4)
    ids = [f"c{i}" for i in range(n)]
    p = rng.random(n)
    t = T0 + np.arange(n, dtype=float)
    rows = [(ids[i], bool(rng.integers(0, 2)), t[i] + 30.0) for i in range(n)]
    first = [predictions(ids[: n // 2], p[: n // 2], t[: n // 2]), decisions(rows[: n // 3])]
    second = [predictions(ids[n // 2 :], p[n // 2 :], t[n // 2 :]), decisions(rows[n // 3 :])]
    return [first, second]


def _feed(monitor: Monitor, batches: list) -> None:
    for batch in batches:
        if hasattr(batch, "removed"):
            monitor.add_decisions(batch)
        else:
            monitor.add_predictions(batch)


def test_restore_then_continue_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    first, second = _halves()
    whole = Monitor({"v1": REFERENCE})
    _feed(whole, first + second)
    whole.tick(wall=1.0)

    before = Monitor({"v1": REFERENCE})
    _feed(before, first)
    before.tick(wall=1.0)
    offsets = {"predictions": {0: 1000, 1: 17}, "decisions": {0: 666}}
    save_snapshot(tmp_path, before, offsets)
    after = Monitor({"v1": REFERENCE})
    assert load_snapshot(tmp_path, after) == offsets
    assert same_numbers(_numbers(after), _numbers(before), 0.0)
    _feed(after, second)
    expected, got = _numbers(whole), _numbers(after)
    assert same_numbers(got["versions"], expected["versions"])
    assert got["drift"] == expected["drift"] and got["totals"] == expected["totals"]
    assert got["alerts"] == expected["alerts"]


def _numbers(monitor: Monitor) -> dict:
    report = monitor.report()
    del report["totals"]["state_bytes"]  # capacity, not content
    return report


def test_no_snapshot_means_a_fresh_start_and_a_broken_one_is_an_error(tmp_path: Path) -> None:
    assert load_snapshot(tmp_path, Monitor()) is None
    (tmp_path / FILENAME).write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ModstreamError, match="cannot be read"):
        load_snapshot(tmp_path, Monitor())


def test_a_snapshot_is_replaced_whole(tmp_path: Path) -> None:
    monitor = Monitor()
    _feed(monitor, _halves(200)[0])
    save_snapshot(tmp_path, monitor, {"p": {0: 1}})
    save_snapshot(tmp_path, monitor, {"p": {0: 2}})
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILENAME]
    assert load_snapshot(tmp_path, Monitor()) == {"p": {0: 2}}

"""The monitor's state and the offsets it has consumed, in one file that survives ``kill -9``.

``<state-dir>/monitor-state.npz`` holds every column, index-free (indexes are rebuilt on
load), the running totals, the drift windows and, in the same file, the next offset of
every partition of every topic read. It is written to a temporary file, flushed to disk
and renamed over the old one, so a crash leaves either the old or the new snapshot,
never half of one. A restart seeks to the stored offsets, so every record after the
snapshot is applied exactly once more and nothing before it twice.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from modstream.errors import ModstreamError
from modstream.monitor.core import HISTORY_POINTS, Monitor
from modstream.monitor.drift import DriftWindow
from modstream.monitor.index import Columns, KeyIndex
from modstream.monitor.state import COMMENT_DTYPES, ROW_DTYPES, Counters, row_keys
from modstream.monitor.totals import Vocabulary

__all__ = ["FILENAME", "Offsets", "load_snapshot", "save_snapshot"]

FILENAME = "monitor-state.npz"
FORMAT_VERSION = 1
Offsets = dict[str, dict[int, int]]  # topic -> partition -> next offset to read


def save_snapshot(directory: Path, monitor: Monitor, offsets: Offsets) -> Path:
    """Write the snapshot atomically; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / FILENAME
    tmp = directory / f".{FILENAME}.tmp"
    arrays = _arrays(monitor)
    meta = _meta(monitor, offsets)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return target


def _arrays(monitor: Monitor) -> dict[str, np.ndarray]:
    state = monitor.state
    arrays = {f"rows.{k}": v for k, v in state.rows.arrays().items()}
    arrays.update({f"comments.{k}": v for k, v in state.comments.arrays().items()})
    arrays["totals.sums"] = state.totals.sums.copy()
    arrays["totals.groups"] = np.array(list(state.totals.groups), dtype=np.int64).reshape(-1, 2)
    for i, version in enumerate(monitor.drift.versions.values()):
        arrays[f"drift.{i}"] = version.values.copy()
    return arrays


def _meta(monitor: Monitor, offsets: Offsets) -> dict[str, Any]:
    state = monitor.state
    c = state.counters
    return {
        "format_version": FORMAT_VERSION,
        "offsets": {t: {str(p): o for p, o in parts.items()} for t, parts in offsets.items()},
        "now": state.now if math.isfinite(state.now) else None,
        "versions": state.versions.words,
        "communities": state.communities.words,
        "roles": state.roles,
        "counters": {**c.__dict__},
        "drift": [
            {
                "version": name,
                "seen": v.seen,
                "active": v.active,
                "statistics": v.statistics,
                "changed_at": v.changed_at,
            }
            for name, v in monitor.drift.versions.items()
        ],
        "history": list(monitor.history),
        "alerts": list(monitor.alerts),
    }


def load_snapshot(directory: Path, monitor: Monitor) -> Offsets | None:
    """Restore ``monitor`` from the snapshot in ``directory``; ``None`` if there is none."""
    path = directory / FILENAME
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ModstreamError(f"the monitor state {path} cannot be read: {exc}") from exc
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModstreamError(f"{path} was written by another modstream version; move it away")
    _restore_state(monitor, arrays, meta)
    _restore_drift(monitor, arrays, meta)
    monitor.history = deque(meta["history"], maxlen=HISTORY_POINTS)
    monitor.alerts = deque(meta["alerts"], maxlen=monitor.alerts.maxlen)
    return {t: {int(p): int(o) for p, o in parts.items()} for t, parts in meta["offsets"].items()}


def _restore_state(monitor: Monitor, arrays: dict[str, np.ndarray], meta: dict) -> None:
    state = monitor.state
    state.rows = Columns.from_arrays(ROW_DTYPES, _prefixed(arrays, "rows."))
    state.comments = Columns.from_arrays(COMMENT_DTYPES, _prefixed(arrays, "comments."))
    keys = state.comments["key"]
    state.comment_index = KeyIndex.build(keys, np.arange(keys.size, dtype=np.int32))
    rkeys = row_keys(keys[state.rows["comment"]], state.rows["version"])
    state.row_index = KeyIndex.build(rkeys, np.arange(rkeys.size, dtype=np.int32))
    state.versions = Vocabulary(meta["versions"])
    state.communities = Vocabulary(meta["communities"])
    state.roles = dict(meta["roles"])
    state.counters = Counters(**meta["counters"])
    state.now = -math.inf if meta["now"] is None else float(meta["now"])
    state.totals.sums = arrays["totals.sums"]
    state.totals.groups = {(int(v), int(c)): i for i, (v, c) in enumerate(arrays["totals.groups"])}


def _restore_drift(monitor: Monitor, arrays: dict[str, np.ndarray], meta: dict) -> None:
    monitor.drift.versions = {
        entry["version"]: DriftWindow(
            arrays[f"drift.{i}"],
            seen=entry["seen"],
            active=entry["active"],
            statistics=entry["statistics"],
            changed_at=entry["changed_at"],
        )
        for i, entry in enumerate(meta["drift"])
    }


def _prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

"""The join of predictions and decisions, in either order, seconds to days apart.

Two tables: comments (keyed by a 64-bit hash of the comment id: the effective decision,
when it was made, the first decision's time, the decision's community) and prediction
rows (keyed by comment and model version: score, shipped threshold, event time, the
prediction's community). A redelivered prediction (same comment, same version) is
ignored; a decision replaces the comment's decision when its ``at`` is not older (so an
appeal wins whatever order the records arrive in) and the totals are corrected, so a
comment counts once. The clock is event time: the latest prediction timestamp or
decision ``at`` seen, never the wall clock, so a replay gives the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from modstream.monitor.contract import DecisionBatch
from modstream.monitor.index import Columns, KeyIndex, hash_ids
from modstream.monitor.predictions import PredictionBatch
from modstream.monitor.totals import Totals, Vocabulary, contributions

__all__ = ["DEFAULT_THRESHOLD", "MonitorState", "Retention"]

ROW_DTYPES = {
    "comment": "i4",
    "version": "i2",
    "community": "i4",
    "p": "f8",
    "threshold": "f8",
    "t": "f8",
}
COMMENT_DTYPES = {"key": "i8", "label": "i1", "label_at": "f8", "first_at": "f8", "community": "i4"}
DEFAULT_THRESHOLD = 0.5  # only when neither the record nor a known artifact says
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Retention:
    """How long rows are kept (event time) and how many at most."""

    seconds: float = 7 * 86_400.0
    max_rows: int = 5_000_000


@dataclass
class Counters:
    """What the monitor read, for its status and metrics."""

    predictions: int = 0
    duplicate_predictions: int = 0
    decisions: int = 0
    stale_decisions: int = 0
    evicted_labelled: int = 0
    by_source: dict[str, int] = field(default_factory=dict)


def row_keys(comment_keys: np.ndarray, versions: np.ndarray) -> np.ndarray:
    """The key of a (comment, version) prediction row."""
    salt = (versions.astype(np.uint64) + np.uint64(1)) * _GOLDEN
    keys = (comment_keys.view(np.uint64) ^ salt).view(np.int64)
    keys[keys == 0] = 1
    return keys


class MonitorState:
    """Joined predictions and decisions, running totals, and the event-time clock."""

    def __init__(self, retention: Retention | None = None) -> None:
        self.retention = retention or Retention()
        self.rows = Columns(ROW_DTYPES)
        self.comments = Columns(COMMENT_DTYPES)
        self.row_index = KeyIndex()
        self.comment_index = KeyIndex()
        self.versions = Vocabulary()
        self.communities = Vocabulary()
        self.roles: dict[str, str] = {}
        self.thresholds: dict[str, float] = {}  # per version, from known artifacts
        self.totals = Totals()
        self.counters = Counters()
        self.now = -math.inf

    # -- predictions --------------------------------------------------------------------
    def add_predictions(self, batch: PredictionBatch) -> np.ndarray:
        """Join a batch of prediction rows; returns the batch positions that were new."""
        if not len(batch):
            return np.zeros(0, dtype=np.int64)
        self.counters.predictions += len(batch)
        versions = self.versions.codes(batch.versions, "i2")
        t = np.asarray(batch.times)
        self.now = max(self.now, float(t.max()))
        self.roles.update(zip(batch.versions, batch.roles, strict=True))
        keys = hash_ids(batch.ids)
        rkeys = row_keys(keys, versions)
        _, first = np.unique(rkeys, return_index=True)
        first.sort()
        new = first[self.row_index.lookup(rkeys[first]) < 0]
        self.counters.duplicate_predictions += len(batch) - new.size
        slots = self._comment_slots(keys[new])
        threshold = self._thresholds(np.asarray(batch.thresholds)[new], batch.versions, new)
        rows = self.rows.append(
            comment=slots,
            version=versions[new],
            community=self.communities.codes([batch.communities[i] for i in new]),
            p=np.asarray(batch.p)[new],
            threshold=threshold,
            t=t[new],
        )
        self.row_index.insert(rkeys[new], rows.astype(np.int32))
        self._count(rows, +1.0)
        return new

    def _thresholds(self, given: np.ndarray, versions: list[str], new: np.ndarray) -> np.ndarray:
        missing = np.flatnonzero(np.isnan(given))
        for i in missing:
            given[i] = self.thresholds.get(versions[new[i]], DEFAULT_THRESHOLD)
        return given

    def _comment_slots(self, keys: np.ndarray) -> np.ndarray:
        """The comment row of each key, created (no decision yet) where it is new."""
        slots = self.comment_index.lookup(keys).astype(np.int64)
        missing = slots < 0
        if missing.any():
            unique, inverse = np.unique(keys[missing], return_inverse=True)
            created = self.comments.append(
                key=unique, label=-1, label_at=-math.inf, first_at=math.inf, community=0
            )
            self.comment_index.insert(unique, created.astype(np.int32))
            slots[missing] = created[inverse]
        return slots

    # -- decisions ----------------------------------------------------------------------
    def add_decisions(self, batch: DecisionBatch) -> None:
        """Apply a batch of decisions: per comment the latest ``at`` wins (ties: the later record)."""
        if not len(batch):
            return
        c = self.counters
        c.decisions += len(batch)
        for source in batch.sources:
            c.by_source[source] = c.by_source.get(source, 0) + 1
        at = np.asarray(batch.at)
        self.now = max(self.now, float(at.max()))
        keys = hash_ids(batch.ids)
        order = np.lexsort((np.arange(at.size), at, keys))
        boundary = np.flatnonzero(np.diff(keys[order])) + 1
        last = order[np.r_[boundary - 1, order.size - 1]]
        earliest = at[order[np.r_[0, boundary]]]
        slots = self._comment_slots(keys[last])
        comments = self.comments
        comments["first_at"][slots] = np.fmin(comments["first_at"][slots], earliest)
        newer = at[last] >= comments["label_at"][slots]
        c.stale_decisions += int(np.count_nonzero(~newer))
        winners, slots = last[newer], slots[newer]
        rows = self._rows_of(keys[winners])
        self._count(rows, -1.0)
        comments["label"][slots] = np.asarray(batch.removed, dtype=np.int8)[winners]
        comments["label_at"][slots] = at[winners]
        named = self.communities.codes([batch.communities[i] for i in winners])
        comments["community"][slots] = np.where(named != 0, named, comments["community"][slots])
        self._count(rows, +1.0)

    def _rows_of(self, comment_keys: np.ndarray) -> np.ndarray:
        """Every prediction row (any version) of these comments."""
        found = [
            self.row_index.lookup(row_keys(comment_keys, np.full(comment_keys.size, v)))
            for v in range(len(self.versions))
        ]
        rows = np.concatenate(found) if found else np.zeros(0, dtype=np.int32)
        return rows[rows >= 0].astype(np.int64)

    # -- retention ----------------------------------------------------------------------
    def evict(self) -> int:
        """Drop what is older than the retention (event time) or over the row cap.

        A prediction row lives while its prediction or its decision is recent; an
        unlabelled one that expires is counted (its comment was never decided in time).
        Returns the number of rows dropped.
        """
        r, c = self.rows, self.comments
        horizon = self.now - self.retention.seconds
        label_at = c["label_at"][r["comment"]]
        labelled = c["label"][r["comment"]] >= 0
        age = np.where(labelled, np.maximum(r["t"], label_at), r["t"])
        keep = age >= horizon
        if int(keep.sum()) > self.retention.max_rows:
            newest = np.zeros(age.size, dtype=bool)
            newest[np.argsort(age, kind="stable")[-self.retention.max_rows :]] = True
            keep &= newest
        has_row = np.zeros(len(c), dtype=bool)
        has_row[r["comment"][keep]] = True
        keep_comments = has_row | ((c["label"] >= 0) & (c["label_at"] >= horizon))
        if keep.all() and keep_comments.all():
            return 0
        expired = np.flatnonzero(~keep & ~labelled)
        self.totals.expire(self._groups(expired))
        self.counters.evicted_labelled += int(np.count_nonzero(~keep & labelled))
        remap = c.keep(keep_comments)
        r.keep(keep)
        r["comment"][:] = remap[r["comment"]]
        self._reindex()
        return int(np.count_nonzero(~keep))

    def _reindex(self) -> None:
        keys = self.comments["key"]
        self.comment_index = KeyIndex.build(keys, np.arange(keys.size, dtype=np.int32))
        r = self.rows
        rkeys = row_keys(keys[r["comment"]], r["version"])
        self.row_index = KeyIndex.build(rkeys, np.arange(len(r), dtype=np.int32))

    # -- shared -------------------------------------------------------------------------
    def effective_communities(self, rows: np.ndarray) -> np.ndarray:
        """A row's community: its prediction's, else the one its decision named."""
        own = self.rows["community"][rows]
        decided = self.comments["community"][self.rows["comment"][rows]]
        return np.where(own != 0, own, decided)

    def _groups(self, rows: np.ndarray) -> np.ndarray:
        return self.totals.group_ids(self.rows["version"][rows], self.effective_communities(rows))

    def _count(self, rows: np.ndarray, sign: float) -> None:
        """Add (or take back) the rows' contributions to the totals."""
        if rows.size == 0:
            return
        r = self.rows
        labels = self.comments["label"][r["comment"][rows]]
        vectors = contributions(r["p"][rows], r["threshold"][rows], labels)
        self.totals.add(self._groups(rows), vectors, sign)

    @property
    def nbytes(self) -> int:
        """Memory held by the tables and indexes (the bulk of the state)."""
        return (
            self.rows.nbytes
            + self.comments.nbytes
            + self.row_index.nbytes
            + self.comment_index.nbytes
            + int(self.totals.sums.nbytes)
        )

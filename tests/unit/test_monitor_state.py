"""The join of predictions and decisions, and the numbers it gives, against scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from modstream.monitor import DecisionBatch, Monitor, PredictionBatch, Retention, Windows
from tests.unit.monitor_records import (
    T0,
    answer_headers,
    decisions,
    predictions,
    same_numbers,
    seldon_answer,
)

HOUR = 3600.0


def _stream(rng: np.random.Generator, n: int = 3000) -> dict[str, Any]:
    """Two versions answering the same comments; true labels with delays and 5% appeals."""
    ids = [f"t1_{i:05d}" for i in range(n)]
    y = rng.integers(0, 2, n)
    scored_at = T0 + np.round(np.sort(rng.uniform(0, 6 * HOUR, n)), 3)  # Kafka keeps ms
    p = {
        "v1": np.round(np.clip(0.35 * y + rng.random(n) * 0.65, 0, 1), 3),  # ties on purpose
        "v2": np.clip(0.2 * y + rng.random(n) * 0.8, 0, 1),
    }
    decided_at = scored_at + rng.uniform(0, 5 * HOUR, n)
    rows = [(ids[i], bool(y[i]), decided_at[i]) for i in range(n)]
    appealed = rng.choice(n, n // 20, replace=False)
    for i in appealed:  # a first decision that an appeal later overturns
        rows[i] = (ids[i], not y[i], decided_at[i])
        rows.append((ids[i], bool(y[i]), decided_at[i] + rng.uniform(60, 2 * HOUR)))
    return {"ids": ids, "y": y, "p": p, "t": scored_at, "decisions": rows}


def _feed(monitor: Monitor, s: dict[str, Any], rng: np.random.Generator) -> None:
    """Everything in random batches, predictions and decisions interleaved in random order."""
    thresholds = {"v1": 0.45, "v2": 0.6}
    batches: list[PredictionBatch | DecisionBatch] = []
    for version, p in s["p"].items():
        for chunk in np.array_split(rng.permutation(len(s["ids"])), 7):
            ids = [s["ids"][i] for i in chunk]
            batches.append(
                predictions(
                    ids, p[chunk], s["t"][chunk], version=version, threshold=thresholds[version]
                )
            )
    rows = [s["decisions"][i] for i in rng.permutation(len(s["decisions"]))]
    batches += [decisions(part) for part in np.array_split(np.array(rows, dtype=object), 9)]
    for i in rng.permutation(len(batches)):
        batch = batches[i]
        if isinstance(batch, PredictionBatch):
            monitor.add_predictions(batch)
        else:
            monitor.add_decisions(batch)


def _decisions(rows: np.ndarray) -> DecisionBatch:
    return decisions([(str(a), bool(b), float(c)) for a, b, c in rows])


def test_final_metrics_per_version_equal_scikit_learn() -> None:
    s = _stream(np.random.default_rng(7))
    monitor = Monitor()
    _feed(monitor, s, np.random.default_rng(8))
    report = monitor.report()
    y = s["y"]
    first_at = {}
    for ident, _, at in s["decisions"]:
        first_at[ident] = min(at, first_at.get(ident, np.inf))
    delays = np.array([first_at[i] for i in s["ids"]]) - s["t"]
    for version, threshold in (("v1", 0.45), ("v2", 0.6)):
        p = s["p"][version]
        got = report["versions"][version]["windows"]["since_start"]
        predicted = p >= threshold
        assert got["labelled"] == got["predictions"] == len(y)
        assert got["coverage"] == 1.0
        assert got["precision"] == pytest.approx(precision_score(y, predicted), abs=1e-9)
        assert got["recall"] == pytest.approx(recall_score(y, predicted), abs=1e-9)
        assert got["f1"] == pytest.approx(f1_score(y, predicted), abs=1e-9)
        assert got["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-9)
        assert got["pr_auc"] == pytest.approx(average_precision_score(y, p), abs=1e-9)
        assert got["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-9)
        assert got["label_delay_s"]["p50"] == pytest.approx(np.quantile(delays, 0.5), abs=1e-6)
        assert got["label_delay_s"]["p95"] == pytest.approx(np.quantile(delays, 0.95), abs=1e-6)
        assert got["ranking_complete"] is True


def test_the_numbers_do_not_depend_on_arrival_order_or_batching() -> None:
    s = _stream(np.random.default_rng(3), n=800)
    reports = []
    for seed in (1, 2):
        monitor = Monitor()
        _feed(monitor, s, np.random.default_rng(seed))
        reports.append(monitor.report())
    assert same_numbers(reports[0]["versions"], reports[1]["versions"])  # sums: to rounding
    assert reports[0]["clock"] == reports[1]["clock"]


def test_a_redelivered_prediction_counts_once() -> None:
    monitor = Monitor()
    batch = predictions(["a", "b"], np.array([0.9, 0.1]), np.array([T0, T0]))
    monitor.add_predictions(batch)
    monitor.add_predictions(predictions(["a"], np.array([0.9]), np.array([T0 + 5])))
    report = monitor.report()
    assert report["versions"]["v1"]["windows"]["since_start"]["predictions"] == 2
    assert report["totals"]["duplicate_predictions"] == 1


def test_a_decision_waits_for_its_prediction() -> None:
    monitor = Monitor()
    monitor.add_decisions(decisions([("a", True, T0 + 60)]))
    assert monitor.report()["totals"]["decisions_waiting_for_a_prediction"] == 1
    monitor.add_predictions(predictions(["a"], np.array([0.8]), np.array([T0])))
    report = monitor.report()
    since = report["versions"]["v1"]["windows"]["since_start"]
    assert report["totals"]["decisions_waiting_for_a_prediction"] == 0
    assert since["confusion"] == {"tp": 1, "fp": 0, "fn": 0, "tn": 0}
    assert since["label_delay_s"]["p50"] == pytest.approx(60.0)


def test_the_latest_decision_wins_even_when_it_arrives_first() -> None:
    monitor = Monitor()
    monitor.add_predictions(predictions(["a"], np.array([0.8]), np.array([T0])))
    monitor.add_decisions(decisions([("a", False, T0 + 7200)], source="appeal"))
    monitor.add_decisions(decisions([("a", True, T0 + 60)]))  # the original, read late
    report = monitor.report()
    since = report["versions"]["v1"]["windows"]["since_start"]
    assert since["labelled"] == 1
    assert since["confusion"] == {"tp": 0, "fp": 1, "fn": 0, "tn": 0}
    assert since["label_delay_s"]["p50"] == pytest.approx(60.0)  # delay to the first decision
    assert report["totals"]["stale_decisions"] == 1
    assert report["totals"]["decisions_by_source"] == {"appeal": 1, "moderator": 1}


def test_of_two_decisions_at_the_same_time_the_later_record_wins() -> None:
    monitor = Monitor()
    monitor.add_predictions(predictions(["a"], np.array([0.8]), np.array([T0])))
    monitor.add_decisions(decisions([("a", True, T0 + 60), ("a", False, T0 + 60)]))
    since = monitor.report()["versions"]["v1"]["windows"]["since_start"]
    assert since["confusion"]["fp"] == 1


def test_a_shadow_version_is_judged_on_the_same_decisions() -> None:
    monitor = Monitor()
    monitor.add_predictions(predictions(["a", "b"], np.array([0.9, 0.2]), np.array([T0, T0])))
    shadow = PredictionBatch()
    for ident, p in (("a", 0.3), ("b", 0.7)):
        headers = answer_headers("v2", role="shadow")
        shadow.add(ident.encode(), seldon_answer(p, version="v2"), headers, int(T0 * 1000))
    monitor.add_predictions(shadow)
    monitor.add_decisions(decisions([("a", True, T0 + 1), ("b", False, T0 + 1)]))
    versions = monitor.report()["versions"]
    assert versions["v2"]["role"] == "shadow" and versions["v1"]["role"] == "champion"
    assert versions["v1"]["windows"]["since_start"]["f1"] == 1.0
    assert versions["v2"]["windows"]["since_start"]["f1"] == 0.0


def test_communities_come_from_the_comment_or_its_decision_and_the_worst_is_first() -> None:
    monitor = Monitor(windows=Windows(community_min_labels=2))
    ids = ["a1", "a2", "b1", "b2", "c1"]
    p = np.array([0.9, 0.1, 0.9, 0.9, 0.9])
    monitor.add_predictions(
        predictions(ids, p, np.full(5, T0), communities=["art", "art", "", "", "bio"])
    )
    rows = DecisionBatch.empty()
    from modstream.monitor.contract import Decision

    for ident, removed, community in (
        ("a1", True, ""), ("a2", False, ""), ("b1", False, "bio"), ("b2", True, "bio"), ("c1", True, "")
    ):  # fmt: skip
        rows.add(Decision(ident, removed, "moderator", community, T0 + 10))
    monitor.add_decisions(rows)
    table = monitor.report()["versions"]["v1"]["communities"]
    assert [row["community"] for row in table] == ["bio", "art"]
    assert table[0]["labelled"] == 3 and table[0]["precision"] == pytest.approx(2 / 3)
    assert table[1]["f1"] == 1.0


def test_windows_hold_recent_labels_and_coverage_of_recent_predictions() -> None:
    monitor = Monitor(windows=Windows(last_n=2))
    t = np.array([T0, T0, T0 + 10 * HOUR, T0 + 10 * HOUR, T0 + 10 * HOUR])
    monitor.add_predictions(predictions(list("abcde"), np.array([0.9, 0.1, 0.9, 0.9, 0.2]), t))
    monitor.add_decisions(
        decisions(
            [
                ("a", True, T0 + 60),
                ("b", True, T0 + 60),
                ("c", True, T0 + 10.5 * HOUR),
                ("d", False, T0 + 10.6 * HOUR),
            ]
        )
    )
    windows = monitor.report()["versions"]["v1"]["windows"]
    assert windows["hour"]["labelled"] == 2
    assert windows["hour"]["confusion"] == {"tp": 1, "fp": 1, "fn": 0, "tn": 0}
    assert windows["hour"]["predictions"] == 3
    assert windows["hour"]["coverage"] == pytest.approx(2 / 3)
    assert windows["day"]["labelled"] == 4
    assert windows["last_n"]["labelled"] == 2
    assert windows["since_start"]["coverage"] == pytest.approx(4 / 5)


def test_retention_drops_old_rows_counts_the_unlabelled_and_keeps_the_totals() -> None:
    monitor = Monitor(retention=Retention(seconds=HOUR, max_rows=1000))
    monitor.add_predictions(predictions(["old", "kept"], np.array([0.9, 0.1]), np.array([T0, T0])))
    monitor.add_decisions(decisions([("old", True, T0 + 10)]))
    monitor.add_predictions(predictions(["new"], np.array([0.7]), np.array([T0 + 2 * HOUR])))
    before = monitor.state.nbytes
    report = monitor.tick(wall=0.0)
    since = report["versions"]["v1"]["windows"]["since_start"]
    assert len(monitor.state.rows) == 1
    assert since["predictions"] == 3 and since["labelled"] == 1
    assert since["expired_unlabelled"] == 1
    assert since["confusion"]["tp"] == 1
    assert since["ranking_complete"] is False
    assert report["totals"]["pending_predictions"] == 1
    assert monitor.state.nbytes <= before
    monitor.add_decisions(decisions([("new", False, T0 + 2 * HOUR + 5)]))
    assert monitor.report()["versions"]["v1"]["windows"]["since_start"]["confusion"]["fp"] == 1


def test_the_row_cap_keeps_the_newest_rows() -> None:
    monitor = Monitor(retention=Retention(seconds=30 * 86_400, max_rows=100))
    n = 250
    monitor.add_predictions(
        predictions([f"c{i}" for i in range(n)], np.full(n, 0.5), T0 + np.arange(n, dtype=float))
    )
    monitor.tick(wall=0.0)
    assert len(monitor.state.rows) == 100
    assert monitor.state.rows["t"].min() == T0 + 150


def test_a_record_with_several_texts_is_several_comments() -> None:
    batch = PredictionBatch()
    value = b'{"data": {"ndarray": [[0.9, 0.1], [0.2, 0.8]]}, "meta": {"puid": "p"}}'
    assert batch.add(b"k", value, answer_headers(), int(T0 * 1000)) == 2
    assert batch.ids == ["k#0", "k#1"] and batch.p == [0.1, 0.8]
    unkeyed = PredictionBatch()
    unkeyed.add(None, seldon_answer(0.4, puid="the-puid"), [], int(T0 * 1000))
    assert unkeyed.ids == ["the-puid"] and unkeyed.versions == ["v1"]

"""The monitor on the embedded broker: topics in, numbers out on REST, Prometheus and Kafka."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from modstream.broker import EmbeddedBroker, free_port
from modstream.monitor.snapshot import FILENAME
from modstream.settings.monitor import MonitorSettings
from tests.integration.monitor_fixtures import produce_records, running_monitor
from tests.integration.stream_fixtures import header_map, read, unique, wait_for
from tests.unit.monitor_records import T0, answer_headers, iso, seldon_answer

pytestmark = pytest.mark.integration


def _report_when(url: str, done: Any) -> dict[str, Any]:
    latest: dict[str, Any] = {}

    def ready() -> bool:
        nonlocal latest
        try:
            latest = httpx.get(f"{url}/api/report", timeout=5).json()
        except httpx.HTTPError:
            return False
        return bool(done(latest["totals"]))

    assert wait_for(ready, timeout=90), latest.get("totals")
    return latest


@pytest.fixture
def topics(broker: EmbeddedBroker) -> dict[str, str]:
    names = {k: unique(k) for k in ("predictions", "shadow", "decisions", "metrics", "alerts")}
    broker.create_topics(
        {names["predictions"]: 2, names["shadow"]: 1, names["decisions"]: 2,
         f"{names['decisions']}.dlq": 1, names["metrics"]: 1, names["alerts"]: 1}
    )  # fmt: skip
    return names


def _settings(broker: EmbeddedBroker, topics: dict[str, str], state: Path) -> MonitorSettings:
    return MonitorSettings(
        bootstrap_servers=broker.bootstrap_servers,
        predictions_topic=topics["predictions"],
        shadow_topic=topics["shadow"],
        decisions_topic=topics["decisions"],
        metrics_topic=topics["metrics"],
        alerts_topic=topics["alerts"],
        state_dir=str(state),
        port=free_port(),
        tick_s=0.3,
        snapshot_s=0.5,
    )


def test_predictions_and_decisions_become_numbers_everywhere(
    broker: EmbeddedBroker, topics: dict[str, str], tmp_path: Path
) -> None:
    rng = np.random.default_rng(11)
    n = 400
    y = rng.integers(0, 2, n)
    p = {"v1": np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1), "v2": rng.random(n)}
    records = []
    for i in range(n):
        key = f"t1_{i}".encode()
        for version, topic, role in (("v1", "predictions", None), ("v2", "shadow", "shadow")):
            headers = answer_headers(version, threshold=0.5, role=role, community=f"c{i % 3}")
            records.append(
                (topics[topic], key, seldon_answer(float(p[version][i]), version=version), headers)
            )
        decision = {"id": f"t1_{i}", "removed": bool(y[i]), "at": iso(T0 + i)}
        records.append((topics["decisions"], key, json.dumps(decision).encode(), []))
    bad = [(b"t1_x", b"{not json"), (b"t1_y", b'{"removed": true, "at": "2026-01-01T00:00:00Z"}'),
           (b"t1_z", json.dumps({"id": "t1_other", "removed": True, "at": iso(T0)}).encode())]  # fmt: skip
    records += [(topics["decisions"], key, value, []) for key, value in bad]
    produce_records(broker, None, [records[i] for i in rng.permutation(len(records))])

    settings = _settings(broker, topics, tmp_path)
    with running_monitor(settings) as url:
        report = _report_when(
            url, lambda t: t["decisions_read"] == n and t["predictions_read"] == 2 * n
        )
        scrape = httpx.get(f"{url}/metrics", timeout=5).text
        assert httpx.get(f"{url}/ready", timeout=5).status_code == 200
    for version in ("v1", "v2"):
        since = report["versions"][version]["windows"]["since_start"]
        predicted = p[version] >= 0.5
        assert since["labelled"] == n
        assert since["precision"] == pytest.approx(precision_score(y, predicted), abs=1e-9)
        assert since["recall"] == pytest.approx(recall_score(y, predicted), abs=1e-9)
        assert since["f1"] == pytest.approx(f1_score(y, predicted), abs=1e-9)
        assert since["roc_auc"] == pytest.approx(roc_auc_score(y, p[version]), abs=1e-9)
        f1 = f'modstream_monitor_quality{{metric="f1",version="{version}",window="since_start"}}'
        assert f"{f1} {since['f1']}" in scrape
    assert report["versions"]["v2"]["role"] == "shadow"
    assert {row["community"] for row in report["versions"]["v1"]["communities"]} == {
        "c0",
        "c1",
        "c2",
    }

    dead = read(broker, f"{topics['decisions']}.dlq", 3, timeout=30)
    reasons = sorted(header_map(m)["modstream.error.message"][:20] for m in dead)
    assert [header_map(m)["modstream.error.reason"] for m in dead] == ["BAD_DECISION"] * 3
    assert reasons == ["'id' (the comment's ", "the decision is not ", "the record key 't1_z"]
    ticks = [json.loads(m.value()) for m in read(broker, topics["metrics"], 1, timeout=30)]
    assert set(ticks[0]["versions"]) <= {"v1", "v2"} and "totals" in ticks[0]
    assert (tmp_path / FILENAME).is_file()


def test_a_restart_continues_from_the_snapshot_and_counts_nothing_twice(
    broker: EmbeddedBroker, topics: dict[str, str], tmp_path: Path
) -> None:
    def batch(start: int, stop: int) -> list:
        out = []
        for i in range(start, stop):
            key = f"c{i}".encode()
            out.append(
                (topics["predictions"], key, seldon_answer(0.9 if i % 2 else 0.1), answer_headers())
            )
            decision = json.dumps({"id": f"c{i}", "removed": bool(i % 2), "at": iso(T0 + i)})
            out.append((topics["decisions"], key, decision.encode(), []))
        return out

    settings = _settings(broker, topics, tmp_path)
    produce_records(broker, None, batch(0, 300))
    with running_monitor(settings) as url:
        _report_when(url, lambda t: t["decisions_read"] == 300 and t["predictions_read"] == 300)
    produce_records(
        broker, None, batch(300, 350) + batch(0, 10)
    )  # new comments, and 10 redeliveries
    with running_monitor(settings) as url:
        report = _report_when(url, lambda t: t["decisions_read"] == 360)
    totals = report["totals"]
    assert totals["predictions_read"] == 360 and totals["duplicate_predictions"] == 10
    since = report["versions"]["v1"]["windows"]["since_start"]
    assert since["predictions"] == since["labelled"] == 350
    assert since["f1"] == 1.0

"""The monitor on the embedded broker: topics in, numbers out on REST, Prometheus and Kafka."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any
from unittest.mock import create_autospec

import httpx
import numpy as np
import pytest
from confluent_kafka import Producer
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from modstream.broker import EmbeddedBroker, free_port
from modstream.monitor.runner import MonitorRunner
from modstream.monitor.service import build_runner
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


def test_an_unacknowledged_output_sends_the_monitor_back_to_its_last_snapshot(
    broker: EmbeddedBroker, topics: dict[str, str], tmp_path: Path
) -> None:
    """The first producer loses a dead letter: no snapshot is written past it; the monitor
    starts over from its last state and reads those records again, counting each once."""
    lossy = create_autospec(Producer, instance=True, spec_set=True)
    lossy.flush.return_value = 1  # one record never acknowledged

    class FirstProducerLoses(MonitorRunner):
        producers = 0

        def _new_producer(self) -> Producer:
            self.producers += 1
            return lossy if self.producers == 1 else super()._new_producer()

    records = []
    for i in range(200):
        key = f"c{i}".encode()
        records.append(
            (topics["predictions"], key, seldon_answer(0.9 if i % 2 else 0.1), answer_headers())
        )
        decision = json.dumps({"id": f"c{i}", "removed": bool(i % 2), "at": iso(T0 + i)}).encode()
        records.append((topics["decisions"], key, decision, []))
    records.append((topics["decisions"], b"bad", b"{not json", []))
    produce_records(broker, None, records)
    settings = _settings(broker, topics, tmp_path).model_copy(update={"port": 0})
    runner = FirstProducerLoses(settings, build_runner(settings).new_monitor)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: lossy.flush.called and (tmp_path / FILENAME).is_file(), 60)
        assert wait_for(lambda: runner.report()["totals"]["decisions_read"] == 200, 60)
    finally:
        stop.set()
        thread.join(60)
    report = runner.report()
    assert (
        report["totals"]["predictions_read"] == 200
        and report["totals"]["duplicate_predictions"] == 0
    )
    assert report["versions"]["v1"]["windows"]["since_start"]["labelled"] == 200
    lost = [c.args[0] for c in lossy.produce.call_args_list]
    assert f"{topics['decisions']}.dlq" in lost  # the bad decision, lost with this producer
    assert len(read(broker, f"{topics['decisions']}.dlq", 2, timeout=10)) == 1


def test_a_monitor_started_before_its_broker_waits_quietly_then_reads(tmp_path: Path) -> None:
    """The broker is not up yet (a pod started before Kafka): the monitor stays up and not
    ready, says why in a line every 10 s (it used to print librdkafka's reconnect line about
    20 times a second, then die with a traceback), and reads once the broker is there."""
    broker = EmbeddedBroker(free_port())
    api, log = free_port(), tmp_path / "monitor.log"
    command = [sys.executable, "-m", "modstream", "monitor",
               "--bootstrap-servers", broker.bootstrap_servers, "--predictions-topic", "answers",
               "--decisions-topic", "decisions", "--state-dir", str(tmp_path / "state"),
               "--port", str(api), "--tick-s", "0.3"]  # fmt: skip
    with open(log, "w") as out:
        monitor = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: "cannot list the topics to read" in log.read_text(), 60), (
            log.read_text()[-3000:]
        )
        assert _status(f"http://127.0.0.1:{api}/ready") == 503
        assert monitor.poll() is None
        with broker:
            broker.create_topics({"answers": 1, "decisions": 1})
            headers = answer_headers("v1", threshold=0.5)
            produce_records(broker, "answers", [(b"t1_a", seldon_answer(0.9), headers)])
            _report_when(f"http://127.0.0.1:{api}", lambda t: t["predictions_read"] == 1)
            assert _status(f"http://127.0.0.1:{api}/ready") == 200
            monitor.send_signal(signal.SIGTERM)
            assert monitor.wait(30) == 0
    finally:
        if monitor.poll() is None:
            monitor.kill()
    output = log.read_text()
    assert "Traceback" not in output
    assert not [line for line in output.splitlines() if line.startswith("%")], output[-3000:]


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None

"""The moderation loop end to end: the dev comments through two workers (a champion and a
shadow model), their true labels back as decisions in random order with delays of seconds
to hours and 5% appeals, and ``modstream monitor`` SIGKILLed twice along the way. Its final
numbers per version equal scikit-learn's on the same rows, and an uninterrupted monitor's."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
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

from modstream.broker import EmbeddedBroker, free_port
from modstream.dataplane import DataPlane
from modstream.datasets import read_dataset
from modstream.demo import demo_dataset
from modstream.model import load_model, save_model, train_model
from modstream.monitor.snapshot import FILENAME
from modstream.settings import StreamSettings
from modstream.settings.monitor import MonitorSettings
from tests.conftest import DEV_CSV, needs_dev_data
from tests.integration.monitor_fixtures import produce_records, running_monitor
from tests.integration.stream_fixtures import read, running_worker, unique, wait_for
from tests.unit.monitor_records import iso, same_numbers

pytestmark = [pytest.mark.integration, pytest.mark.slow, needs_dev_data]

COMMUNITIES = ("science", "health", "space", "")


@pytest.fixture(scope="module")
def shadow_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second model version (same corpus, its own version) to answer as the shadow."""
    model = train_model(demo_dataset(), "default", n_jobs=1, name="moderation")
    return save_model(model, tmp_path_factory.mktemp("models") / "shadow")


def _monitor_command(settings: MonitorSettings, models: list[Path]) -> list[str]:
    s = settings
    return [
        sys.executable, "-m", "modstream", "monitor", "--bootstrap-servers", s.bootstrap_servers,
        "--predictions-topic", str(s.predictions_topic), "--shadow-topic", str(s.shadow_topic),
        "--decisions-topic", str(s.decisions_topic), "--state-dir", str(s.state_dir),
        "--port", str(s.port), "--tick-s", "0.3", "--snapshot-s", "1",
        *[arg for path in models for arg in ("--model", str(path))],
    ]  # fmt: skip


class MonitorProcess:
    """``modstream monitor`` as a child process that a test can kill and start again."""

    def __init__(self, command: list[str], log: Path, url: str) -> None:
        self.command, self.log, self.url = command, log, url
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(self.command, stdout=sink, stderr=subprocess.STDOUT)

    def totals(self) -> dict[str, Any]:
        try:
            return httpx.get(f"{self.url}/api/report", timeout=5).json()["totals"]  # type: ignore[no-any-return]
        except (httpx.HTTPError, ValueError):
            return {}

    def kill_after(self, decisions: int, snapshot: Path) -> None:
        """SIGKILL once it has read ``decisions`` decisions and saved a snapshot; restart it."""
        assert wait_for(
            lambda: self.totals().get("decisions_read", 0) >= decisions and snapshot.is_file(), 120
        )
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self.kills += 1
        self.start()

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(60)


def _decisions(
    keys: list[str], labels: np.ndarray, sent_at: float, rng: np.random.Generator
) -> list:
    """True labels after 0 s to 3 h; 5% first decided wrongly, then overturned on appeal."""
    rows = []
    for key, label in zip(keys, labels.tolist(), strict=True):
        at = sent_at + float(rng.choice([0.0, rng.uniform(0, 60), rng.uniform(0, 3 * 3600)]))
        if rng.random() < 0.05:
            rows.append({"id": key, "removed": not label, "source": "moderator", "at": iso(at)})
            at += float(rng.uniform(60, 7200))
            rows.append({"id": key, "removed": bool(label), "source": "appeal", "at": iso(at)})
        else:
            rows.append({"id": key, "removed": bool(label), "source": "moderator", "at": iso(at)})
    return [rows[i] for i in rng.permutation(len(rows))]


def _scores(broker: EmbeddedBroker, topic: str, n: int) -> dict[str, tuple[float, float]]:
    """P(removed) and timestamp per comment id of an output topic (first answer wins)."""

    def done(messages: list[Any]) -> bool:
        return len({m.key() for m in messages}) >= n

    found: dict[str, tuple[float, float]] = {}
    for message in read(broker, topic, 10**9, until=done, timeout=300):
        body = json.loads(message.value())
        found.setdefault(
            message.key().decode(), (body["data"]["ndarray"][0][1], message.timestamp()[1] / 1000)
        )
    return found


def _final_report(url: str, n: int, decisions: int) -> dict[str, Any]:
    """The report once every comment of both versions is labelled and every decision read."""
    latest: dict[str, Any] = {}

    def complete() -> bool:
        nonlocal latest
        try:
            latest = httpx.get(f"{url}/api/report", timeout=5).json()
        except httpx.HTTPError:
            return False
        versions = latest["versions"].values()
        labelled = [v["windows"]["since_start"]["labelled"] for v in versions]
        return labelled == [n, n] and latest["totals"]["decisions_read"] == decisions

    assert wait_for(complete, timeout=300), latest.get("totals")
    return latest


@pytest.fixture
def topics(broker: EmbeddedBroker) -> Iterator[dict[str, str]]:
    names = {k: unique(k) for k in ("comments", "predictions", "shadow", "decisions")}
    broker.create_topics({name: 2 for name in names.values()} | {f"{names['decisions']}.dlq": 1})
    yield names


def test_killed_twice_the_monitor_ends_with_scikit_learns_numbers(
    broker: EmbeddedBroker,
    topics: dict[str, str],
    model_dir: Path,
    shadow_dir: Path,
    tmp_path: Path,
) -> None:
    data = read_dataset(str(DEV_CSV))
    rng = np.random.default_rng(2024)
    n = len(data.texts)
    keys = [f"rs-{i:05d}" for i in range(n)]
    order = rng.permutation(n)
    community = [COMMUNITIES[int(c)] for c in rng.integers(0, len(COMMUNITIES), n)]
    comments = [
        (keys[i].encode(), json.dumps({"data": {"ndarray": [data.texts[i]]}}).encode(),
         [("modstream.community", community[i].encode())] if community[i] else [])
        for i in order
    ]  # fmt: skip
    decisions = _decisions(keys, data.labels, time.time(), rng)
    records = [(d["id"].encode(), json.dumps(d).encode(), []) for d in decisions]
    thirds = np.array_split(np.arange(len(records)), 3)

    settings = MonitorSettings(
        bootstrap_servers=broker.bootstrap_servers, predictions_topic=topics["predictions"],
        shadow_topic=topics["shadow"], decisions_topic=topics["decisions"],
        state_dir=str(tmp_path / "state"), port=free_port(), tick_s=0.3, snapshot_s=1,
    )  # fmt: skip
    killed = MonitorProcess(
        _monitor_command(settings, [model_dir, shadow_dir]), tmp_path / "monitor.log",
        f"http://127.0.0.1:{settings.port}",
    )  # fmt: skip
    steady = settings.model_copy(
        update={"state_dir": None, "port": free_port(), "models": [str(model_dir), str(shadow_dir)]}
    )
    snapshot = tmp_path / "state" / FILENAME
    champion, shadow = load_model(model_dir), load_model(shadow_dir)
    worker = {
        "bootstrap_servers": broker.bootstrap_servers,
        "input_topic": topics["comments"],
        "max_wait_ms": 20,
    }
    with (
        running_worker(
            StreamSettings(**worker, output_topic=topics["predictions"], group=unique("g")),
            DataPlane(champion),
        ),
        running_worker(
            StreamSettings(**worker, output_topic=topics["shadow"], group=unique("g")),
            DataPlane(shadow),
        ),
        running_monitor(steady) as steady_url,
    ):
        killed.start()
        produce_records(
            broker, topics["decisions"], [records[i] for i in thirds[0][: len(thirds[0]) // 2]]
        )
        produce_records(broker, topics["comments"], comments[: n // 2])
        produce_records(
            broker, topics["decisions"], [records[i] for i in thirds[0][len(thirds[0]) // 2 :]]
        )
        killed.kill_after(len(thirds[0]) // 2, snapshot)
        produce_records(broker, topics["decisions"], [records[i] for i in thirds[1]])
        produce_records(broker, topics["comments"], comments[n // 2 :])
        killed.kill_after(len(thirds[0]) + len(thirds[1]) // 2, snapshot)
        produce_records(broker, topics["decisions"], [records[i] for i in thirds[2]])
        outputs = {
            v: _scores(broker, topics[t], n)
            for v, t in (("champion", "predictions"), ("shadow", "shadow"))
        }

        reports = {
            name: _final_report(url, n, len(records))
            for name, url in (("killed", killed.url), ("steady", steady_url))
        }
    assert killed.stop() == 0
    assert killed.kills == 2
    assert (tmp_path / "monitor.log").read_text().count("monitor restored from") == 2

    y = data.labels
    for model, role in ((champion, "champion"), (shadow, "shadow")):
        p = np.array([outputs[role][k][0] for k in keys])
        got = reports["killed"]["versions"][model.version]["windows"]["since_start"]
        predicted = p >= model.threshold
        assert got["predictions"] == got["labelled"] == n
        assert got["precision"] == pytest.approx(precision_score(y, predicted), abs=1e-9)
        assert got["recall"] == pytest.approx(recall_score(y, predicted), abs=1e-9)
        assert got["f1"] == pytest.approx(f1_score(y, predicted), abs=1e-9)
        assert got["roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-9)
        assert got["pr_auc"] == pytest.approx(average_precision_score(y, p), abs=1e-9)
        assert got["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-9)
    killed_totals, steady_totals = reports["killed"]["totals"], reports["steady"]["totals"]
    for key in ("predictions_read", "decisions_read", "decisions_by_source", "pending_predictions"):
        assert killed_totals[key] == steady_totals[key], key
    assert killed_totals["decisions_by_source"]["appeal"] > 0.03 * n
    assert same_numbers(reports["killed"]["versions"], reports["steady"]["versions"])

"""The loop closes on one machine: under ``modstream up`` a comment is scored, a moderator's
decision from the dashboard joins it in the monitor, and the numbers reach the dashboard."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from modstream.kafka_tools import consume_records
from tests.integration.test_up import Up, start_up, stop_up, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def up(model_dir: Path) -> Iterator[Up]:
    running = start_up("--model", str(model_dir))
    try:
        yield running
    finally:
        assert stop_up(running) == 0


def _produce(up: Up, key: str, text: str) -> None:
    command = [sys.executable, "-m", "modstream", "produce", "--bootstrap-servers", up.bootstrap]
    command += ["--topic", "comments", "--key", key, text]
    subprocess.run(command, check=True, capture_output=True)


def _quality(up: Up) -> dict[str, Any]:
    return httpx.get(f"{up.url}/api/quality", timeout=10).json()  # type: ignore[no-any-return]


def test_up_says_where_the_monitor_is_and_creates_its_topics(up: Up) -> None:
    monitor = f"http://127.0.0.1:{up.ports['monitor-port']}/api/report"
    assert f"Monitor    {monitor}  decisions: decisions, alerts: monitor.alerts" in up.output
    assert httpx.get(monitor, timeout=10).status_code == 200
    assert httpx.get(f"http://127.0.0.1:{up.ports['monitor-port']}/ready").status_code == 200


def test_a_decision_from_the_dashboard_joins_its_comment_in_the_monitor(up: Up) -> None:
    _produce(up, "t1_loop", "lol source: trust me bro")
    wait_for(
        lambda: any(c.get("comment_id") == "t1_loop" for c in _snapshot(up)["comments"]),
        what="the comment on the dashboard",
    )
    answer = httpx.post(f"{up.url}/api/decisions", json={"id": "t1_loop", "removed": True})
    assert answer.status_code == 202 and answer.json()["topic"] == "decisions"
    wait_for(lambda: _labelled(_quality(up)) >= 1, timeout=60, what="the monitor's join")
    quality = _quality(up)
    [version] = quality["versions"].values()
    assert (
        version["windows"]["since_start"]["confusion"]["tp"]
        + version["windows"]["since_start"]["confusion"]["fn"]
        == 1
    )
    [record] = list(consume_records({"bootstrap.servers": up.bootstrap}, "decisions",
                                    from_beginning=True, timeout=5, max_records=1))  # fmt: skip
    decision = json.loads(record.value or b"")
    assert record.key == b"t1_loop" and decision["removed"] is True
    assert decision["source"] == "moderator"


def test_a_bad_decision_from_the_page_is_refused_with_the_reason(up: Up) -> None:
    answer = httpx.post(f"{up.url}/api/decisions", json={"id": "x", "removed": "yes"})
    assert answer.status_code == 400
    assert "'removed' must be true or false" in answer.json()["error"]


def _snapshot(up: Up) -> dict[str, Any]:
    return httpx.get(f"{up.url}/api/snapshot", timeout=5).json()  # type: ignore[no-any-return]


def _labelled(quality: dict[str, Any]) -> int:
    return sum(
        v["windows"]["since_start"]["labelled"] for v in quality.get("versions", {}).values()
    )

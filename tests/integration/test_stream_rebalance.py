"""Rebalances under a steady paced load: a second ``modstream stream`` joins the group
(the partitions are split between the two) and later leaves with SIGTERM (the first takes
them all back). Every input is answered exactly once: a worker's batch is committed before
its partitions move, so neither rebalance loses or repeats anything."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from modstream.broker import free_port
from modstream.settings.defaults import READY_PATH
from tests.integration.answer_log import AnswerLog
from tests.integration.steady_load import BackgroundReader, PacedProducer
from tests.integration.stream_fixtures import Topics, stop_worker, wait_for
from tests.integration.test_stream_processes import start_stream

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PARTITIONS = 4
RATE = 100.0  # inputs per second


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{READY_PATH}", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _held(log: Path) -> bool:
    """Whether the worker's latest assignment (in its log) holds a partition."""
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if " assigned " in ln]
    return bool(lines) and not lines[-1].endswith("assigned nothing")


def _start(model_dir: Path, topics: Topics, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    return start_stream(model_dir, topics, log, "--metrics-port", str(port)), port


def test_workers_joining_and_leaving_lose_and_repeat_nothing(
    broker: Any, model_dir: Path, tmp_path: Path
) -> None:
    topics = Topics(broker, partitions=PARTITIONS).create()
    answers = AnswerLog(
        broker.bootstrap_servers, {topics.output: PARTITIONS, topics.dead_letter: 1},
        "read_committed",
    )  # fmt: skip
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first, _port = _start(model_dir, topics, first_log)
    load = PacedProducer(broker.bootstrap_servers, topics.input, RATE)
    reader = BackgroundReader(answers)
    second = None
    try:
        load.start()
        reader.start()
        reader.wait(int(RATE * 3), first, first_log)
        second, port = _start(model_dir, topics, second_log)  # joins: partitions split
        assert wait_for(lambda: _ready(port) and _held(second_log), timeout=120), (
            second_log.read_text()[-3000:]
        )
        reader.wait(len(load.sent) + int(RATE * 3), first, first_log)
        stop_worker(second, second_log)  # leaves: the first worker takes every partition back
        reader.wait(len(load.sent) + int(RATE * 3), first, first_log)
        load.stopping.set()
        load.join(150)
        assert not load.failed, load.failed[:3]
        reader.wait(len(load.sent), first, first_log)
        stop_worker(first, first_log)
    finally:
        load.stopping.set()
        reader.stop()
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.kill()
    answers.drain()
    answers.close()
    assert set(answers.sources()) == set(load.sent)  # nothing lost
    assert answers.duplicates() == 0  # nothing repeated

"""``modstream up`` as a user runs it: a real process with its broker, worker and servers.
The loop closes on it: a comment is scored, a moderator's decision from the dashboard joins
it in the monitor, and the numbers reach the dashboard. It runs on the registry: its model
is the champion, and a version promoted from the dashboard answers the next comments on the
stream and over REST, until it is rolled back.

The helpers here (``start_up``, ``stop_up``, ``descendants``) are shared with the browser
test of the dashboard.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from modstream.kafka_tools import consume_records
from tests.integration.registry_fixtures import Version
from tests.integration.rollout_fixtures import reading

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Up:
    process: subprocess.Popen[str]
    ports: dict[str, int]
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['port']}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.ports['broker-port']}"


def start_up(*args: str, timeout: float = 240.0, env: dict[str, str] | None = None) -> Up:
    """``modstream up`` on free ports; returns once it has printed that it is up."""
    names = ["port", "http-port", "grpc-port", "metrics-port", "monitor-port"]
    if "--bootstrap-servers" not in args:  # else no broker is started, and up refuses a port
        names.append("broker-port")
    ports = {name: free_port() for name in names}
    flags = [item for name, port in ports.items() for item in (f"--{name}", str(port))]
    command = [sys.executable, "-m", "modstream", "up", *flags, *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env={**os.environ, **env} if env else None,
    )
    up = Up(process, ports)
    reader = threading.Thread(target=_read, args=(process, up.lines), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while "modstream is up" not in up.output:
        if process.poll() is not None or time.monotonic() > deadline:
            stop_up(up)
            raise AssertionError(f"modstream up did not start:\n{up.output}")
        time.sleep(0.2)
    return up


def _read(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)


def stop_up(up: Up, timeout: float = 90.0) -> int:
    """Ctrl-C (SIGINT), then the exit code."""
    if up.process.poll() is None:
        up.process.send_signal(signal.SIGINT)
    try:
        return up.process.wait(timeout)
    except subprocess.TimeoutExpired:
        up.process.kill()
        up.process.wait()
        raise


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, grandchildren, ...), read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """The pids that still exist and are not zombies."""
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.add(pid)
    return left


def produce(up: Up, *texts: str, raw: bool = False, key: str | None = None) -> None:
    command = [sys.executable, "-m", "modstream", "produce"]
    command += ["--bootstrap-servers", up.bootstrap, "--topic", "comments", *texts]
    command += (["--raw"] if raw else []) + (["--key", key] if key else [])
    subprocess.run(command, check=True, capture_output=True)


def wait_for(check: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def up(model_dir: Path) -> Iterator[Up]:
    running = start_up("--model", str(model_dir))
    try:
        yield running
    finally:
        stop_up(running)


def _snapshot(up: Up) -> dict:
    return httpx.get(f"{up.url}/api/snapshot", timeout=5).json()


def test_up_prints_where_everything_is(up: Up, model_dir: Path) -> None:
    out = up.output
    assert f"Dashboard  http://127.0.0.1:{up.ports['port']}/" in out
    assert f"REST       http://127.0.0.1:{up.ports['http-port']}" in out
    assert f"gRPC       127.0.0.1:{up.ports['grpc-port']}" in out
    assert f"Kafka      {up.bootstrap}  topics: comments -> predictions" in out
    assert f"Worker     http://127.0.0.1:{up.ports['metrics-port']}/metrics" in out
    assert f"modstream produce --bootstrap-servers {up.bootstrap} --topic comments" in out
    assert f"loaded from {model_dir}" in out
    assert "DEMO" not in out  # a given model is not labelled as the demo


def test_comments_from_kafka_and_the_box_are_scored_and_explained(up: Up) -> None:
    produce(up, "lol source: trust me bro", "the confidence interval is wide")
    sent = httpx.post(f"{up.url}/api/comments", json={"text": "username checks out"}, timeout=15)
    assert sent.status_code == 202
    sent_id = sent.json()["id"]
    wait_for(lambda: _snapshot(up)["stats"]["scored"] >= 3, what="three verdicts")
    comments = {c["text"]: c for c in _snapshot(up)["comments"]}
    boxed = comments["username checks out"]
    assert boxed["sent_id"] == sent_id
    assert 0.0 <= boxed["p_removed"] <= 1.0
    assert boxed["why"], "a verdict comes with the words that drove it"
    assert comments["lol source: trust me bro"]["removed"] is True
    assert comments["the confidence interval is wide"]["removed"] is False
    rest = httpx.post(
        f"http://127.0.0.1:{up.ports['http-port']}/api/v1.0/predictions",
        json={"data": {"ndarray": ["a comment"]}},
        timeout=10,
    )
    assert rest.status_code == 200


def test_the_stream_worker_is_ready_once_up_says_it_is_up(up: Up) -> None:
    worker = f"http://127.0.0.1:{up.ports['metrics-port']}"
    assert httpx.get(f"{worker}/ready", timeout=5).status_code == 200
    assert "modstream_stream_assigned_partitions 1.0" in httpx.get(f"{worker}/metrics").text
    assert "still joining" not in up.output


def test_a_broken_record_is_counted_as_a_dead_letter(up: Up) -> None:
    produce(up, "this is not json", raw=True)
    wait_for(lambda: _snapshot(up)["stats"]["dead_letters"] == 1, what="a dead letter")
    failed = [c for c in _snapshot(up)["comments"] if c["error"]]
    assert failed[0]["text"] == "this is not json"
    assert "JSON" in failed[0]["error"]


def test_the_box_refuses_an_empty_comment(up: Up) -> None:
    response = httpx.post(f"{up.url}/api/comments", json={"text": "  "}, timeout=5)
    assert response.status_code == 400
    assert response.json() == {"error": "write a comment first"}


def test_the_event_stream_starts_with_a_snapshot(up: Up) -> None:
    with httpx.stream("GET", f"{up.url}/api/events", timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == "event: snapshot"
        data = json.loads(next(lines).removeprefix("data: "))
    assert data["config"]["input_topic"] == "comments"
    assert data["model"]["demo"] is False


def test_up_says_where_the_monitor_is_and_creates_its_topics(up: Up) -> None:
    monitor = f"http://127.0.0.1:{up.ports['monitor-port']}/api/report"
    assert f"Monitor    {monitor}  decisions: decisions, alerts: monitor.alerts" in up.output
    assert httpx.get(monitor, timeout=10).status_code == 200
    assert httpx.get(f"http://127.0.0.1:{up.ports['monitor-port']}/ready").status_code == 200


def test_a_decision_from_the_dashboard_joins_its_comment_in_the_monitor(up: Up) -> None:
    produce(up, "lol source: trust me bro", key="t1_loop")
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


def _quality(up: Up) -> dict[str, Any]:
    return httpx.get(f"{up.url}/api/quality", timeout=10).json()  # type: ignore[no-any-return]


def _labelled(quality: dict[str, Any]) -> int:
    return sum(
        v["windows"]["since_start"]["labelled"] for v in quality.get("versions", {}).values()
    )


def models_cli(up: Up, *args: str) -> str:
    command = [sys.executable, "-m", "modstream", "models", *args, "--bootstrap-servers",
               up.bootstrap]  # fmt: skip
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def rest_version(up: Up) -> str:
    body = {"data": {"ndarray": ["the sample size seems small"]}}
    answer = httpx.post(f"http://127.0.0.1:{up.ports['http-port']}/api/v1.0/predictions",
                        json=body, timeout=30).json()  # fmt: skip
    return str(answer["meta"]["tags"]["model_version"])


def test_up_promotes_from_the_dashboard_and_rolls_back(
    up: Up, versions: tuple[Version, Version]
) -> None:
    other = versions[1]
    assert "Registry   modstream-models" in up.output
    first = httpx.get(f"{up.url}/api/models", timeout=30).json()["versions"]
    [(champion, role)] = [(v["version"], v["role"]) for v in first]
    assert role == "champion" and rest_version(up) == champion
    models_cli(up, "publish", str(other.path))
    promoted = httpx.post(f"{up.url}/api/models/promote", json={"version": other.version},
                          timeout=30)  # fmt: skip
    assert promoted.status_code == 200
    wait_for(lambda: rest_version(up) == other.version, 60, "the server to switch")

    with reading(up.bootstrap, "predictions") as reader:

        def stream_answers_with(version: str) -> bool:
            key = f"k-{len(reader.answers())}"
            produce(up, "hello there", key=key)
            wait_for(lambda: key in reader.answered(), 60, "the answer")
            return {a.key: a.version for a in reader.answers()}[key] == version

        wait_for(lambda: stream_answers_with(other.version), 90, "the worker to switch")
        httpx.post(f"{up.url}/api/models/rollback", json={}, timeout=30)
        wait_for(lambda: rest_version(up) == champion, 60, "the server to roll back")
        wait_for(lambda: stream_answers_with(champion), 90, "the worker to roll back")
    listing = models_cli(up, "list")
    assert f"{champion}  champion" in listing


def test_ctrl_c_stops_everything_in_order_and_leaves_no_process(up: Up) -> None:
    # The module's ``up``, after the tests above sent it traffic; it is their last user.
    children = descendants(up.process.pid)
    assert len(children) >= 4  # broker (and its Tansu process), server, worker
    assert stop_up(up) == 0
    order = [line.strip() for line in up.lines if line.startswith("stopping: ")]
    assert order == [  # the broker last, once nothing uses it
        "stopping: dashboard, monitor, model server and stream worker",
        "stopping: Kafka broker",
    ]
    assert alive(children) == set()


def test_a_port_that_was_asked_for_and_is_taken_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "modstream", "up", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "MODSTREAM_UP_BROKER_PORT": str(free_port())},
        )
    assert result.returncode == 2
    assert f"port {port} for the dashboard is already in use" in result.stderr
    assert "--port" in result.stderr


@pytest.mark.parametrize(
    ("flag", "error"),
    [
        ("--model", "no model artifact at {} (missing manifest.json)"),
        ("--data", "{}: no such file"),
    ],
)
def test_a_model_or_data_that_is_not_there_is_a_clear_error_before_anything_starts(
    tmp_path: Path, flag: str, error: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modstream", "up", flag, str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MODSTREAM_UP_BROKER_PORT": str(free_port())},
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line == f"modstream up: error: {error.format(tmp_path / 'nope')}"
    assert "starting" not in result.stdout  # no broker was started, nothing else either


def test_an_existing_kafka_that_does_not_answer_is_a_clear_error() -> None:
    nobody = f"127.0.0.1:{free_port()}"  # nothing listens there
    result = subprocess.run(
        [sys.executable, "-m", "modstream", "up", "--bootstrap-servers", nobody],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MODSTREAM_UP_CONNECT_TIMEOUT_S": "1"},
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"modstream up: error: the Kafka at {nobody} did not answer within 1s")
    assert "training" not in result.stdout  # it stopped before making a model


def test_the_dashboard_joins_predictions_to_comments_in_any_order() -> None:
    from modstream.dashboard.feeds import FeedState, Record
    from modstream.kafka_tools import seldon_request

    def record(topic: str, offset: int, value: bytes, source: int | None = None) -> Record:
        headers = {}
        if source is not None:
            headers = {
                "modstream.source.topic": "comments",
                "modstream.source.partition": "0",
                "modstream.source.offset": str(source),
            }
        return Record(topic, 0, offset, 1_000 + offset, value, headers)

    answer = json.dumps({"data": {"ndarray": [[0.1, 0.9]]}}).encode()
    state = FeedState("comments", "predictions", "comments.dlq", threshold=0.5)
    # the prediction is read before its comment, then redelivered (at-least-once)
    assert state.ingest(record("predictions", 0, answer, source=0)) == []
    [comment] = state.ingest(record("comments", 0, seldon_request("hello there")))
    assert (comment.text, comment.removed) == ("hello there", True)
    assert state.ingest(record("predictions", 1, answer, source=0)) == []
    # a dead letter read before its (broken) record
    state.ingest(record("comments.dlq", 0, b"oops", source=1))
    state.ingest(record("comments", 1, b"oops"))
    stats = state.stats()
    assert (stats["scored"], stats["dead_letters"], stats["waiting"]) == (1, 1, 0)

"""Hardening: gRPC status codes, graceful SIGTERM, a failing model, and a fuzzed OpenAPI."""

from __future__ import annotations

import logging
import random
import socket
import string
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import grpc
import httpx
import pytest
import uvicorn
from google.protobuf import json_format, struct_pb2

from modstream.dataplane import DataPlane
from modstream.grpc import prediction_pb2 as pb
from modstream.grpc import prediction_pb2_grpc as pb_grpc
from modstream.model import TextModel
from modstream.rest import build_app
from tests.integration.serve_fixtures import (
    Server,
    free_port,
    running_server,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(model_dir: Path) -> Iterator[Server]:
    yield from running_server(model_dir, "--grpc-max-message-bytes", "65536")


def _predict(server: Server, message: pb.SeldonMessage) -> pb.SeldonMessage:
    with grpc.insecure_channel(server.grpc_target) as channel:
        return pb_grpc.ModelStub(channel).Predict(message, timeout=30)


def _ndarray(*values: object) -> pb.SeldonMessage:
    message = pb.SeldonMessage()
    message.data.ndarray.CopyFrom(struct_pb2.ListValue())
    message.data.ndarray.extend(list(values))
    return message


def test_grpc_predict_answers_with_puid_and_rows(server: Server) -> None:
    reply = _predict(server, _ndarray("first", "second"))
    assert reply.meta.puid
    assert len(reply.data.ndarray.values) == 2


def test_grpc_and_rest_give_the_same_numbers_and_tags_bit_for_bit(server: Server) -> None:
    texts = ["thanks for the source", "you are an idiot", "lol", "x" * 50_000, "ünïcode ✓"]
    for text in texts:
        rest = httpx.post(f"{server.url}/predict", json={"strData": text}, timeout=30).json()
        reply = _predict(server, _ndarray(text))
        rows = [
            [v.number_value for v in row.list_value.values] for row in reply.data.ndarray.values
        ]
        assert rows == rest["data"]["ndarray"]  # exact floats, not approximately
        assert list(reply.data.names) == rest["data"]["names"]
        tags = json_format.MessageToDict(reply.meta)["tags"]
        assert tags == rest["meta"]["tags"]


@pytest.mark.parametrize(
    "message",
    [
        _ndarray(1.0),
        _ndarray(),
        _ndarray(None),
        pb.SeldonMessage(binData=b"abc"),
        pb.SeldonMessage(),
    ],
)
def test_grpc_bad_input_is_invalid_argument(server: Server, message: pb.SeldonMessage) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        _predict(server, message)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_grpc_message_over_the_limit_is_resource_exhausted(server: Server) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        _predict(server, pb.SeldonMessage(strData="x" * 100_000))
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


def _wait_in_flight(server: Server, count: int) -> None:
    """Until the server reports ``count`` requests being served (SIGTERM lands mid-request)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = httpx.get(f"{server.url}/metrics", timeout=5).text
        line = next(
            row
            for row in text.splitlines()
            if row.startswith('modstream_requests_in_flight{protocol="rest"}')
        )
        if float(line.split()[-1]) >= count:  # the metrics request itself counts as none
            return
        time.sleep(0.02)
    raise AssertionError(f"the server never had {count} requests in flight")


def _unseen_texts(seed: int, count: int = 1000) -> list[str]:
    """Texts of made-up words: no cached word features, so scoring them takes a while."""
    rng = random.Random(seed)
    words = (
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 10)))
        for _ in range(count * 60)
    )
    return [" ".join(next(words) for _ in range(60)) for _ in range(count)]


def _sigterm_amid_requests(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch, grace_s: str
) -> tuple[int, list[httpx.Response]]:
    """``serve`` with that grace period, SIGTERMed while 8 slow requests are in flight:
    its exit code and the answers."""
    monkeypatch.setenv("MODSTREAM_SHUTDOWN_GRACE_S", grace_s)
    server = start_server(model_dir)
    bodies = [{"data": {"ndarray": _unseen_texts(seed, count=500)}} for seed in range(8)]
    with ThreadPoolExecutor(8) as pool:
        futures = [
            pool.submit(httpx.post, f"{server.url}/predict", json=body, timeout=60)
            for body in bodies
        ]
        _wait_in_flight(server, len(futures))
        code = stop_server(server)
        return code, [f.result() for f in futures]


def test_sigterm_finishes_in_flight_requests_and_exits_zero(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The grace period bounds a shutdown; here it is long enough for any machine's speed,
    # so what is tested is that every request in flight is finished, not how fast.
    code, answers = _sigterm_amid_requests(model_dir, monkeypatch, "120")
    assert code == 0
    assert [a.status_code for a in answers] == [200] * 8, [a.text[:200] for a in answers]


def test_a_grace_period_of_zero_ends_requests_in_flight_instead_of_finishing_them(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, answers = _sigterm_amid_requests(model_dir, monkeypatch, "0")
    statuses = [a.status_code for a in answers]
    assert code == 0
    # a batch the model finished before SIGTERM may still be answered; the rest are not
    assert 500 in statuses and set(statuses) <= {200, 500}, statuses


def test_a_failing_model_is_500_with_the_request_id_logged(
    model: TextModel, caplog: pytest.LogCaptureFixture
) -> None:
    plane = DataPlane(model)
    port = free_port()
    config = uvicorn.Config(
        build_app(plane), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    http = uvicorn.Server(config)

    async def run() -> None:
        await plane.start()
        await http.serve()
        await plane.stop()

    thread = threading.Thread(target=lambda: __import__("asyncio").run(run()), daemon=True)
    with mock.patch.object(type(model), "predict_proba", side_effect=RuntimeError("boom")):
        thread.start()
        while not http.started:
            time.sleep(0.05)
        with caplog.at_level(logging.ERROR, logger="modstream.rest"):
            reply = httpx.post(
                f"http://127.0.0.1:{port}/predict",
                json={"meta": {"puid": "req-42"}, "strData": "x"},
                timeout=30,
            )
        http.should_exit = True
        thread.join(30)
    assert reply.status_code == 500
    assert reply.json()["status"]["reason"] == "MODEL_ERROR"
    assert "req-42" in reply.json()["status"]["info"]
    assert "req-42" in caplog.text


def test_openapi_fuzzing_finds_no_server_errors(server: Server) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, settings

    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    schema = schema.exclude(path="/metrics")
    failures: list[str] = []
    statuses: list[int] = []

    @settings(
        max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def check(case: object) -> None:
        response = case.call(base_url=server.url)  # type: ignore[attr-defined]
        statuses.append(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{case} -> {response.status_code}: {response.text[:200]}")

    for result in schema.get_all_operations():
        operation = result.ok()
        operation.as_strategy()
        from hypothesis import given

        given(operation.as_strategy())(check)()
    assert failures == []
    assert 200 in statuses and len(statuses) > 100  # the fuzzer really called the server


@pytest.mark.parametrize("taken", ["--http-port", "--grpc-port"])
def test_a_port_already_taken_is_one_line_naming_it(model_dir: Path, taken: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        ports = {"--http-port": free_port(), "--grpc-port": free_port(), taken: port}
        done = subprocess.run(
            [sys.executable, "-m", "modstream", "serve", "--model", str(model_dir),
             "--host", "127.0.0.1", *(str(x) for pair in ports.items() for x in pair)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    what = "REST" if taken == "--http-port" else "gRPC"
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"modstream serve: error: cannot listen for {what} on 127.0.0.1:{port}: "
        "Address already in use"
    ]

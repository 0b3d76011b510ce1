"""Each transport maps errors in one place: the REST app and the gRPC decorator, with a
plane whose scoring fails as a bug or a model would, served on real ports in this process
and called through real clients."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import grpc
import httpx
import pytest
import uvicorn
from prometheus_client import REGISTRY

from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput, ModelError
from modstream.grpc import prediction_pb2 as pb
from modstream.grpc import prediction_pb2_grpc as pb_grpc
from modstream.grpc import seldon_service
from modstream.grpc.calls import GrpcServer
from modstream.model import TextModel
from modstream.rest import build_app

BUG = RuntimeError("a bug")


def _count(protocol: str, route: str, status: str) -> float:
    labels = {"protocol": protocol, "route": route, "status": status}
    return REGISTRY.get_sample_value("modstream_requests_total", labels) or 0.0


def _failing(error: Exception) -> mock._patch[mock.MagicMock]:
    return mock.patch.object(DataPlane, "score_batched", autospec=True, side_effect=error)


@contextmanager
def _serving(plane: DataPlane) -> Iterator[tuple[httpx.Client, pb_grpc.ModelStub]]:
    """The REST app and the Seldon gRPC service on free ports, served by one event loop in
    a thread; yields an HTTP client and a gRPC stub."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    config = uvicorn.Config(build_app(plane), port=0, log_level="warning", lifespan="off")
    http = uvicorn.Server(config)

    async def start() -> tuple[GrpcServer, int, int]:
        server = GrpcServer("127.0.0.1", 0, max_receive=1 << 20, max_send=1 << 20)
        seldon_service.add_to_server(plane, server)
        await server.start()
        grpc_port = server.bound_port
        config.load()
        http.lifespan = config.lifespan_class(config)
        await http.startup()
        return server, grpc_port, http.servers[0].sockets[0].getsockname()[1]

    grpc_server, grpc_port, http_port = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    try:
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as client,
            grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel,
        ):
            yield client, pb_grpc.ModelStub(channel)
    finally:

        async def stop() -> None:
            await asyncio.gather(http.shutdown(), grpc_server.stop(0))

        asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


@pytest.fixture()
def rest(model: TextModel) -> Iterator[httpx.Client]:
    with _serving(DataPlane(model)) as (client, _):
        yield client


def test_rest_bug_is_500_in_protocol_form_logged_once_with_traceback(
    rest: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    before = _count("rest", "predictions", "500")
    with _failing(BUG), caplog.at_level(logging.ERROR, logger="modstream.rest"):
        reply = rest.post("/predict", json={"strData": "x"}, headers={"x-request-id": "r-1"})
    status = reply.json()["status"]
    assert (reply.status_code, status["reason"]) == (500, "INTERNAL_ERROR")
    assert "a bug" in status["info"] and "r-1" in status["info"]
    assert [r.exc_info is not None for r in caplog.records] == [True]
    assert _count("rest", "predictions", "500") == before + 1


def test_rest_model_error_keeps_its_status_and_v2_answers_in_v2_form(
    rest: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    request = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["x"]}]}
    with _failing(ModelError("model down")), caplog.at_level(logging.ERROR):
        reply = rest.post("/v2/models/moderation/infer", json=request)
    assert reply.status_code == 500
    assert reply.json()["error"].startswith("model down (request id ")
    assert len(caplog.records) == 1 and caplog.records[0].exc_info is None


def test_rest_user_errors_and_unknown_routes_use_each_protocols_format(rest: httpx.Client) -> None:
    assert rest.post("/predict", json={"strData": "x"}).json()["status"]["code"] == 503
    assert rest.post("/predict", json={"strData": 1}).json()["status"]["code"] == 400
    assert rest.get("/api/v9/nothing").json()["status"]["reason"] == "NOT_FOUND"
    assert "error" in rest.get("/v2/nothing").json()
    wrong = rest.request("DELETE", "/predict")
    assert (wrong.status_code, wrong.json()["status"]["reason"]) == (405, "METHOD_NOT_ALLOWED")
    assert "POST" in wrong.headers["allow"]


def _code(stub: pb_grpc.ModelStub, message: pb.SeldonMessage) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        stub.Predict(message, timeout=30)
    return caught.value.code()


def test_grpc_bug_is_internal_logged_once_with_traceback_and_counted(
    model: TextModel, caplog: pytest.LogCaptureFixture
) -> None:
    before = _count("grpc-seldon", "Predict", "INTERNAL")
    with (
        _serving(DataPlane(model)) as (_, stub),
        _failing(BUG),
        caplog.at_level(logging.ERROR, logger="modstream.grpc"),
    ):
        assert _code(stub, pb.SeldonMessage(strData="x")) is grpc.StatusCode.INTERNAL
    assert [r.exc_info is not None for r in caplog.records] == [True]
    assert _count("grpc-seldon", "Predict", "INTERNAL") == before + 1


def test_grpc_modstream_errors_keep_their_meaning(model: TextModel) -> None:
    with _serving(DataPlane(model)) as (_, stub):
        message = pb.SeldonMessage(strData="x")
        assert _code(stub, message) is grpc.StatusCode.UNAVAILABLE  # never started
        with _failing(InvalidInput("no")):
            assert _code(stub, message) is grpc.StatusCode.INVALID_ARGUMENT
        with _failing(ModelError("down")):
            assert _code(stub, message) is grpc.StatusCode.INTERNAL
        assert _code(stub, pb.SeldonMessage(binData=b"x")) is grpc.StatusCode.INVALID_ARGUMENT

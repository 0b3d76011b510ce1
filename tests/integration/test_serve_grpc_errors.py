"""A model that fails, called over gRPC on a real server with real clients (the Seldon stub
and ``tritonclient``): INTERNAL for the caller, logged once, counted as a failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest

from modstream.grpc import prediction_pb2 as pb
from modstream.grpc import prediction_pb2_grpc as pb_grpc
from tests.integration.serve_fixtures import Server, start_server, stop_server

pytestmark = pytest.mark.integration

SELDON_FAILED = (
    'modstream_requests_total{protocol="grpc-seldon",route="Predict",status="INTERNAL"} 1.0'
)
V2_FAILED = 'modstream_requests_total{protocol="grpc-v2",route="ModelInfer",status="INTERNAL"} 1.0'


@pytest.fixture(scope="module", params=["model", "bug"])
def failing(request: pytest.FixtureRequest, model_dir: Path) -> Iterator[tuple[str, Server]]:
    kind = str(request.param)
    server = start_server(model_dir, "--fail", kind, module="tests.integration.failing_server")
    try:
        yield kind, server
    finally:
        stop_server(server)


def _seldon_predict(server: Server) -> grpc.RpcError:
    message = pb.SeldonMessage(strData="any comment")
    with (
        grpc.insecure_channel(server.grpc_target) as channel,
        pytest.raises(grpc.RpcError) as caught,
    ):
        pb_grpc.ModelStub(channel).Predict(message, timeout=30)
    return caught.value


def _v2_infer(server: Server) -> Exception:
    import tritonclient.grpc as triton

    client = triton.InferenceServerClient(server.grpc_target)
    text = triton.InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array(["any comment"], dtype=object))
    with pytest.raises(triton.InferenceServerException) as caught:
        client.infer("moderation", [text])
    return caught.value


def test_a_failing_model_is_internal_logged_once_and_counted(
    failing: tuple[str, Server],
) -> None:
    kind, server = failing
    seldon, v2 = _seldon_predict(server), _v2_infer(server)
    assert seldon.code() is grpc.StatusCode.INTERNAL
    assert v2.status() == "StatusCode.INTERNAL"  # type: ignore[attr-defined]
    cause = "the model exploded" if kind == "model" else "a bug in the data plane"
    assert cause in str(seldon.details()) and cause in str(v2)
    metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    assert SELDON_FAILED in metrics and V2_FAILED in metrics
    assert stop_server(server) == 0
    log = server.log()
    assert log.count(cause) == 2, log  # once per failed call
    # a bug comes with its traceback, once per call; a model error is a message
    assert log.count("Traceback") == (2 if kind == "bug" else 0), log

"""The clients users have, against a real ``modstream serve``: seldon-core's ``SeldonClient``
(REST and gRPC, predictions and feedback) and ``tritonclient`` (V2 over HTTP and gRPC)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.integration.serve_fixtures import Server, running_server, seldon_python

pytestmark = pytest.mark.integration

TEXTS = ["This is an input", "you are all idiots", "great paper, thanks"]

# Runs inside the seldon-core virtual environment; prints one JSON document.
SELDON_SCRIPT = """
import json, sys
import numpy as np
from google.protobuf import json_format
from seldon_core.seldon_client import SeldonClient

http, grpc_target, texts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
out = {}
def record(name, result):
    out[name] = {"success": result.success, "msg": result.msg,
                 "response": json_format.MessageToDict(result.response) if result.response else None}
    return result
rest = SeldonClient(microservice_endpoint=http)
grpc = SeldonClient(microservice_endpoint=grpc_target)
pred = record("rest", rest.microservice(data=np.array(texts), method="predict",
                                        payload_type="ndarray"))
record("grpc", grpc.microservice(data=np.array([[t] for t in texts]), method="predict",
                                 payload_type="ndarray", transport="grpc"))
record("grpc_str", grpc.microservice(str_data=texts[0], method="predict", transport="grpc"))
record("rest_feedback", rest.microservice_feedback(prediction_request=pred.request,
       prediction_response=pred.response, reward=1.0))
record("grpc_feedback", grpc.microservice_feedback(prediction_request=pred.request,
       prediction_response=pred.response, reward=0.5, transport="grpc"))
record("rest_bad", rest.microservice(data=np.array([1.0, 2.0]), method="predict",
                                     payload_type="ndarray"))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def server(model_dir: Path) -> Iterator[Server]:
    yield from running_server(model_dir)


@pytest.fixture(scope="module")
def seldon_results(server: Server) -> dict[str, dict[str, object]]:
    python = seldon_python()
    done = subprocess.run(
        [
            str(python),
            "-c",
            SELDON_SCRIPT,
            f"127.0.0.1:{server.http_port}",
            server.grpc_target,
            json.dumps(TEXTS),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _rows(result: dict[str, object]) -> np.ndarray:
    response = result["response"]
    assert isinstance(response, dict)
    return np.asarray(response["data"]["ndarray"], dtype=float)


def test_seldon_client_rest_and_grpc_get_the_same_rows(
    seldon_results: dict[str, dict[str, object]],
) -> None:
    assert seldon_results["rest"]["success"] and seldon_results["grpc"]["success"]
    rest, grpc = _rows(seldon_results["rest"]), _rows(seldon_results["grpc"])
    assert rest.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(rest, grpc)
    np.testing.assert_allclose(rest.sum(axis=1), 1.0)
    response = seldon_results["grpc"]["response"]
    assert isinstance(response, dict)
    assert response["data"]["names"] == ["t:0", "t:1"]
    assert response["meta"]["tags"]["model_name"] == "moderation"


def test_seldon_client_str_data_scores_the_whole_string(
    seldon_results: dict[str, dict[str, object]],
) -> None:
    np.testing.assert_allclose(_rows(seldon_results["grpc_str"]), _rows(seldon_results["rest"])[:1])


def test_seldon_client_feedback_is_counted(
    server: Server, seldon_results: dict[str, dict[str, object]]
) -> None:
    import httpx

    assert seldon_results["rest_feedback"]["success"]
    assert seldon_results["grpc_feedback"]["success"]
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'modstream_feedback_total{protocol="rest"} 1.0' in metrics
    assert 'modstream_feedback_total{protocol="grpc"} 1.0' in metrics


def test_seldon_client_sees_bad_input_fail(seldon_results: dict[str, dict[str, object]]) -> None:
    assert seldon_results["rest_bad"]["success"] is False


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_tritonclient_infers_and_reads_metadata(server: Server, transport: str) -> None:
    if transport == "http":
        import tritonclient.http as triton

        client = triton.InferenceServerClient(f"127.0.0.1:{server.http_port}")
    else:
        import tritonclient.grpc as triton  # type: ignore[no-redef]

        client = triton.InferenceServerClient(server.grpc_target)
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("moderation")
    text = triton.InferInput("text", [len(TEXTS)], "BYTES")
    text.set_data_from_numpy(np.array(TEXTS, dtype=object))
    result = client.infer(
        "moderation", [text], outputs=[triton.InferRequestedOutput("probabilities")]
    )
    proba = result.as_numpy("probabilities")
    assert proba.shape == (len(TEXTS), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    with pytest.raises(triton.InferenceServerException, match="not served"):
        client.infer("no-such-model", [text])

"""``modstream serve`` over REST with a plain HTTP client: Seldon and V2 protocols, errors,
metrics and the OpenAPI document, against a real server process."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import requests

from tests.integration.serve_fixtures import Server, running_server

pytestmark = pytest.mark.integration

MAX_TEXT_CHARS = 2000


@pytest.fixture(scope="module")
def server(model_dir: Path) -> Iterator[Server]:
    yield from running_server(model_dir, "--max-text-chars", str(MAX_TEXT_CHARS))


@pytest.fixture()
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def test_reference_request_gets_the_reference_response(client: httpx.Client) -> None:
    reply = client.post("/api/v1.0/predictions", json={"data": {"ndarray": ["This is an input"]}})
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"data", "meta"}
    assert body["data"]["names"] == ["t:0", "t:1"]
    [[keep, removed]] = body["data"]["ndarray"]
    assert keep + removed == pytest.approx(1.0)
    assert body["meta"]["puid"]
    assert body["meta"]["tags"]["model_name"] == "moderation"


def test_one_row_per_text_in_input_order(client: httpx.Client) -> None:
    texts = ["thanks for the source", "you are an idiot", "lol", "great study"]
    each = [
        client.post("/predict", json={"strData": t}).json()["data"]["ndarray"][0] for t in texts
    ]
    together = client.post("/predict", json={"data": {"names": ["text"], "ndarray": texts}}).json()
    np.testing.assert_allclose(together["data"]["ndarray"], each)


def test_every_seldon_payload_kind_scores_whole_texts(client: httpx.Client) -> None:
    text = "a whole sentence, not its characters"
    kinds = [
        {"strData": text},
        {"jsonData": {"text": text}},
        {"jsonData": [text]},
        {"data": {"ndarray": [[text]]}},
        {"data": {"ndarray": [text]}},
    ]
    rows = [client.post("/api/v1.0/predictions", json=k).json()["data"]["ndarray"] for k in kinds]
    assert all(len(r) == 1 for r in rows)
    for row in rows:
        np.testing.assert_allclose(row, rows[0])


def test_form_field_json_and_puid_echo(client: httpx.Client) -> None:
    reply = client.post(
        "/predict", data={"json": '{"meta": {"puid": "abc-1"}, "data": {"ndarray": ["hi"]}}'}
    )
    assert reply.status_code == 200
    assert reply.json()["meta"]["puid"] == "abc-1"


def test_long_text_is_truncated_with_a_note(client: httpx.Client) -> None:
    reply = client.post("/predict", json={"strData": "word " * 1000})
    assert reply.status_code == 200
    assert "truncated" in reply.json()["meta"]["tags"]["notes"][0]


@pytest.mark.parametrize(
    ("content", "info"),
    [
        (b'{"data": {"ndarray": [', "not valid JSON"),
        (b'{"strData": "\xff\xfe"}', "UTF-8"),
        (b'{"data": {"ndarray": []}}', "empty"),
        (b'{"data": {"ndarray": [null]}}', "must be a text"),
        (b'{"data": {"ndarray": [1.5]}}', "must be a text"),
        (b"null", "JSON object"),
        (b'{"binData": "AA=="}', "strData"),
    ],
)
def test_bad_input_is_400_with_seldon_status(
    client: httpx.Client, content: bytes, info: str
) -> None:
    reply = client.post(
        "/api/v1.0/predictions", content=content, headers={"content-type": "application/json"}
    )
    assert reply.status_code == 400
    status = reply.json()["status"]
    assert (status["code"], status["status"], status["reason"]) == (400, "FAILURE", "BAD_REQUEST")
    assert info in status["info"]


def test_body_over_the_limit_is_413(client: httpx.Client) -> None:
    reply = client.post("/api/v1.0/predictions", json={"strData": "x" * 1_100_000})
    assert reply.status_code == 413
    assert reply.json()["status"]["code"] == 413


BIG_BODY = json.dumps({"strData": "x" * 5_000_000}).encode()


def _post_with(client: str, url: str) -> tuple[int, dict[str, Any]]:
    """POST the 5 MB body the way each ordinary Python client does it."""
    headers = {"content-type": "application/json"}
    if client == "urllib":  # sends Connection: close and the whole body before reading
        request = urllib.request.Request(url, data=BIG_BODY, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
    if client == "requests":
        answer = requests.post(url, data=BIG_BODY, headers=headers, timeout=60)
        return answer.status_code, answer.json()
    chunks = (BIG_BODY[i : i + 65536] for i in range(0, len(BIG_BODY), 65536))
    content = BIG_BODY if client == "httpx" else chunks  # chunked: no Content-Length
    answer = httpx.post(url, content=content, headers=headers, timeout=60)
    return answer.status_code, answer.json()


@pytest.mark.parametrize("client", ["urllib", "requests", "httpx", "httpx-chunked"])
def test_a_5_mb_body_gets_a_413_every_client_can_read(server: Server, client: str) -> None:
    status, body = _post_with(client, f"{server.url}/api/v1.0/predictions")
    assert status == 413
    assert body["status"]["reason"] == "PAYLOAD_TOO_LARGE"
    assert "limit of 1048576" in body["status"]["info"]
    status, body = _post_with(client, f"{server.url}/v2/models/moderation/infer")
    assert status == 413 and "limit" in body["error"]


def test_unknown_route_is_404_in_protocol_form(client: httpx.Client) -> None:
    assert client.get("/api/v9/unknown").json()["status"]["code"] == 404
    assert "error" in client.post("/v2/models/other/infer", json={}).json()
    assert client.get("/v2/models/other/ready").status_code == 404


def test_health_and_metadata(client: httpx.Client) -> None:
    assert client.get("/health/ping").text == "pong"
    assert client.get("/health/status").json()["data"]["names"] == ["t:0", "t:1"]
    assert client.get("/metadata").json()["name"] == "moderation"
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").status_code == 200
    assert client.get("/v2").json()["name"] == "modstream"
    meta = client.get("/v2/models/moderation").json()
    assert meta["inputs"][0]["datatype"] == "BYTES"
    version = meta["versions"][0]
    assert client.get(f"/v2/models/moderation/versions/{version}/ready").json()["ready"]
    assert client.get("/v2/models/moderation/versions/nope").status_code == 404


def test_v2_infer_returns_fp64_probabilities(client: httpx.Client) -> None:
    payload = {
        "id": "r-7",
        "inputs": [
            {"name": "text", "shape": [2], "datatype": "BYTES", "data": ["hello", "you fool"]}
        ],
    }
    body = client.post("/v2/models/moderation/infer", json=payload).json()
    assert body["id"] == "r-7"
    [output] = body["outputs"]
    assert (output["datatype"], output["shape"]) == ("FP64", [2, 2])
    seldon = client.post("/predict", json={"data": {"ndarray": ["hello", "you fool"]}}).json()
    assert output["data"] == pytest.approx([p for row in seldon["data"]["ndarray"] for p in row])


def test_v2_errors_use_the_error_object(client: httpx.Client) -> None:
    bad = {"inputs": [{"name": "text", "shape": [1], "datatype": "FP32", "data": [1.0]}]}
    reply = client.post("/v2/models/moderation/infer", json=bad)
    assert reply.status_code == 400
    assert "BYTES" in reply.json()["error"]


def test_feedback_and_requests_show_in_metrics(client: httpx.Client) -> None:
    feedback = {
        "request": {"data": {"ndarray": ["a comment"]}},
        "response": {"meta": {"puid": "p-1"}, "data": {"ndarray": [[0.2, 0.8]]}},
        "truth": {"data": {"ndarray": [[0, 1]]}},
        "reward": 1.0,
    }
    assert client.post("/api/v1.0/feedback", json=feedback).status_code == 200
    client.post("/predict", json={"strData": "count me"})
    text = client.get("/metrics").text
    assert 'modstream_feedback_total{protocol="rest"}' in text
    assert 'modstream_requests_total{protocol="rest",route="predictions",status="200"}' in text
    assert "modstream_model_batch_texts_bucket" in text
    assert "modstream_model_info{" in text


def test_openapi_document_is_served(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1.0/predictions" in spec["paths"]
    assert "/v2/models/{name}/infer" in spec["paths"]

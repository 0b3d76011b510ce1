"""Many clients at once on a real ``modstream serve``: single-comment Seldon requests over
REST and gRPC, merged into shared model calls, get the very same answers, bit for bit, as
each comment sent alone."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format

from modstream.grpc import prediction_pb2 as pb
from modstream.grpc import prediction_pb2_grpc as pb_grpc
from tests.integration.serve_fixtures import Server, running_server

pytestmark = pytest.mark.integration

CLIENTS = 8
COMMENTS = [
    f"{opening} {subject}, {ending}"
    for opening in ("great paper on", "you idiots know nothing about", "source for")
    for subject in ("sleep and memory", "the new vaccine", "dark matter", "bee colonies")
    for ending in ("thanks!", "lol", "what a joke")
]


@pytest.fixture(scope="module")
def server(model_dir: Path) -> Iterator[Server]:
    yield from running_server(model_dir)


def _answer(document: dict[str, Any]) -> tuple[object, ...]:
    """What a user compares: names, the probabilities, the tags (the puid differs per call)."""
    data, meta = document["data"], document["meta"]
    return data["names"], data["ndarray"], meta["tags"]


def _rest(http: httpx.Client, comment: str) -> tuple[object, ...]:
    reply = http.post("/api/v1.0/predictions", json={"data": {"ndarray": [comment]}})
    assert reply.status_code == 200, reply.text
    return _answer(reply.json())


def _grpc(stub: Any, comment: str) -> tuple[object, ...]:
    request = pb.SeldonMessage()
    request.data.ndarray.values.add().string_value = comment
    reply = stub.Predict(request, timeout=30)
    return _answer(json_format.MessageToDict(reply))


def test_concurrent_rest_and_grpc_answers_equal_each_comment_alone(server: Server) -> None:
    with (
        httpx.Client(base_url=server.url, timeout=30) as http,
        grpc.insecure_channel(server.grpc_target) as channel,
    ):
        stub = pb_grpc.ModelStub(channel)
        alone = {comment: _rest(http, comment) for comment in COMMENTS}
        grpc_alone = _grpc(stub, COMMENTS[0])
        calls = [(transport, comment) for comment in COMMENTS * 3 for transport in ("REST", "gRPC")]

        def send(call: tuple[str, str]) -> tuple[object, ...]:
            transport, comment = call
            return _rest(http, comment) if transport == "REST" else _grpc(stub, comment)

        with ThreadPoolExecutor(CLIENTS) as pool:
            together = list(pool.map(send, calls))
    removal = {str(answer[1]) for answer in alone.values()}
    assert len(removal) > 1  # the comments do get different scores
    assert grpc_alone == alone[COMMENTS[0]]
    for call, answer in zip(calls, together, strict=True):
        assert answer == alone[call[1]], call

"""Seldon protocol over REST, at the paths the seldon-core Python wrapper serves."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from modstream.dataplane import DataPlane
from modstream.errors import NotReady
from modstream.protocol import response_id
from modstream.protocol import seldon as codec
from modstream.rest.common import endpoint, header_id, json_response, read_seldon_json

PREDICT_PATHS = ("/api/v1.0/predictions", "/api/v0.1/predictions", "/predict")
FEEDBACK_PATHS = ("/api/v1.0/feedback", "/api/v0.1/feedback", "/send-feedback")
HEALTH_PROBE = "health check"


def seldon_routes(plane: DataPlane, max_body: int) -> list[Route]:
    """Prediction, feedback, health and metadata routes."""

    async def predict(request: Request) -> Response:
        message = codec.decode_request(await read_seldon_json(request, max_body))
        request.state.puid = puid = response_id(message.puid, header_id(request))
        scores = await plane.score_batched(message.texts, comment_id=puid)
        return json_response(codec.encode_response(message, scores, request_id=puid))

    async def feedback(request: Request) -> Response:
        message = codec.decode_feedback(await read_seldon_json(request, max_body))
        plane.record_feedback("rest", message.reward, len(message.truth or []))
        return json_response(codec.encode_feedback_response(puid=message.puid, model=plane.facts))

    async def ping(request: Request) -> Response:
        return PlainTextResponse("pong")

    async def status(request: Request) -> Response:
        if not plane.ready:
            raise NotReady("the model server is not ready")
        probe = codec.SeldonRequest([HEALTH_PROBE])
        return json_response(codec.encode_response(probe, await plane.score_batched(probe.texts)))

    async def metadata(request: Request) -> Response:
        return json_response(codec.encode_metadata(plane.metadata()))

    routes = [
        Route(path, endpoint(plane, "seldon", "predictions", predict), methods=["POST", "GET"])
        for path in PREDICT_PATHS
    ]
    routes += [
        Route(path, endpoint(plane, "seldon", "feedback", feedback), methods=["POST", "GET"])
        for path in FEEDBACK_PATHS
    ]
    routes += [
        Route("/health/ping", endpoint(plane, "seldon", "ping", ping), methods=["GET"]),
        Route("/health/status", endpoint(plane, "seldon", "status", status), methods=["GET"]),
        Route(
            "/api/v1.0/health/status", endpoint(plane, "seldon", "status", status), methods=["GET"]
        ),
        Route("/metadata", endpoint(plane, "seldon", "metadata", metadata), methods=["GET"]),
        Route(
            "/api/v1.0/metadata", endpoint(plane, "seldon", "metadata", metadata), methods=["GET"]
        ),
    ]
    return routes

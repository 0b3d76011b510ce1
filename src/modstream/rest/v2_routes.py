"""V2 / Open Inference protocol over REST, with Triton's binary tensor extension."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modstream import __version__
from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput, NotReady
from modstream.facts import ModelFacts
from modstream.protocol import decode_json_bytes, dumps, response_id
from modstream.protocol import v2 as codec
from modstream.rest.common import endpoint, header_id, json_response, read_body


def _split_binary(raw: bytes, header: str | None) -> tuple[bytes, bytes | None]:
    if header is None:
        return raw, None
    if not header.isdigit() or int(header) > len(raw):
        raise InvalidInput("Inference-Header-Content-Length does not fit the body")
    size = int(header)
    return raw[:size], raw[size:]


def v2_routes(plane: DataPlane, max_body: int) -> list[Route]:
    """Health, server and model metadata, readiness and inference routes."""

    async def live(request: Request) -> Response:
        return json_response({"live": True})

    async def ready(request: Request) -> Response:
        if not plane.ready:
            raise NotReady("the model server is not ready")
        return json_response({"ready": True})

    async def server_metadata(request: Request) -> Response:
        return json_response(codec.server_metadata(__version__))

    def served(request: Request) -> ModelFacts:
        version = request.path_params.get("version")
        model = plane.facts_for(version)  # the champion, or a loaded canary/shadow by version
        codec.check_model(model, request.path_params["name"], version)
        return model

    async def model_metadata(request: Request) -> Response:
        return json_response(codec.model_metadata(served(request)))

    async def model_ready(request: Request) -> Response:
        model = served(request)
        if not plane.ready:
            raise NotReady(f"model {model.name!r} is not ready")
        return json_response({"name": model.name, "ready": True})

    async def infer(request: Request) -> Response:
        served(request)
        raw = await read_body(request, max_body)
        document, binary = _split_binary(raw, request.headers.get(codec.BINARY_HEADER))
        message = codec.decode_infer_request(decode_json_bytes(document), binary)
        request.state.puid = puid = response_id(message.id, header_id(request))
        version = request.path_params.get("version") or None
        scores = await plane.score_batched(message.texts, comment_id=puid, version=version)
        body, tensor = codec.encode_infer_response(message, scores, request_id=puid)
        if tensor is None:
            return json_response(body)
        head = dumps(body)
        return Response(
            head + tensor,
            media_type="application/octet-stream",
            headers={"Inference-Header-Content-Length": str(len(head))},
        )

    model = "/v2/models/{name}"
    versioned = "/v2/models/{name}/versions/{version}"
    routes = [
        Route("/v2/health/live", endpoint(plane, "v2", "live", live), methods=["GET"]),
        Route("/v2/health/ready", endpoint(plane, "v2", "ready", ready), methods=["GET"]),
        Route("/v2", endpoint(plane, "v2", "server_metadata", server_metadata), methods=["GET"]),
    ]
    for prefix in (model, versioned):
        routes += [
            Route(prefix, endpoint(plane, "v2", "model_metadata", model_metadata), methods=["GET"]),
            Route(
                f"{prefix}/ready",
                endpoint(plane, "v2", "model_ready", model_ready),
                methods=["GET"],
            ),
            Route(f"{prefix}/infer", endpoint(plane, "v2", "infer", infer), methods=["POST"]),
        ]
    return routes

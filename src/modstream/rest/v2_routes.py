"""V2 / Open Inference protocol over REST, with Triton's binary tensor extension."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modstream import __version__
from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput, NotFound, NotReady
from modstream.protocol import decode_json_bytes, dumps
from modstream.protocol import v2 as codec
from modstream.rest.common import endpoint, json_response, read_body

PLATFORM = "modstream-sklearn"
EXTENSIONS = ["binary_tensor_data"]


def check_model(plane: DataPlane, name: str, version: str | None) -> None:
    """``NotFound`` unless ``name`` (and ``version``, when given) is the served model."""
    model = plane.model
    if name != model.name:
        raise NotFound(f"model {name!r} is not served here (serving {model.name!r})")
    if version not in (None, "", model.version):
        raise NotFound(f"version {version!r} of model {name!r} is not served here")


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
        return json_response(
            {"name": "modstream", "version": __version__, "extensions": EXTENSIONS}
        )

    async def model_metadata(request: Request) -> Response:
        params = request.path_params
        check_model(plane, params["name"], params.get("version"))
        model = plane.model
        return json_response(codec.model_metadata(model.name, model.version, PLATFORM))

    async def model_ready(request: Request) -> Response:
        params = request.path_params
        check_model(plane, params["name"], params.get("version"))
        if not plane.ready:
            raise NotReady(f"model {params['name']!r} is not ready")
        return json_response({"name": plane.model.name, "ready": True})

    async def infer(request: Request) -> Response:
        params = request.path_params
        check_model(plane, params["name"], params.get("version"))
        raw = await read_body(request, max_body)
        document, binary = _split_binary(raw, request.headers.get(codec.BINARY_HEADER))
        message = codec.decode_infer_request(decode_json_bytes(document), binary)
        request.state.puid = message.id or plane.new_puid()
        proba = await plane.predict(message.texts)
        body, tensor = codec.encode_infer_response(
            message, proba, model_name=plane.model.name, model_version=plane.model.version
        )
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

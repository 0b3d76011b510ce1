"""The V2 model repository extension over REST: index, load and unload.

``POST /v2/repository/index`` (optional body ``{"ready": true}`` keeps the loaded ones),
``POST /v2/repository/models/{name}/load`` and ``.../unload`` with an optional body
``{"parameters": {...}}``; what they mean is decided in ``modstream.registry.repository``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput
from modstream.protocol import decode_json_bytes
from modstream.registry.repository import READY, ModelRepository
from modstream.rest.common import endpoint, json_response, read_body

__all__ = ["repository_routes"]


async def _body(request: Request, limit: int) -> dict[str, Any]:
    raw = await read_body(request, limit)
    body = decode_json_bytes(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


async def _parameters(request: Request, limit: int) -> dict[str, Any]:
    parameters = (await _body(request, limit)).get("parameters", {})
    if not isinstance(parameters, dict):
        raise InvalidInput("parameters must be a JSON object")
    return parameters


def repository_routes(plane: DataPlane, repository: ModelRepository, max_body: int) -> list[Route]:
    """The three repository routes of ``repository``."""

    async def index(request: Request) -> Response:
        ready_only = bool((await _body(request, max_body)).get("ready", False))
        entries = await asyncio.to_thread(repository.index)
        return json_response([e for e in entries if not ready_only or e["state"] == READY])

    async def load(request: Request) -> Response:
        parameters = await _parameters(request, max_body)
        await asyncio.to_thread(repository.load, request.path_params["name"], parameters)
        return json_response({})

    async def unload(request: Request) -> Response:
        parameters = await _parameters(request, max_body)
        await asyncio.to_thread(repository.unload, request.path_params["name"], parameters)
        return json_response({})

    models = "/v2/repository/models/{name}"
    return [
        Route("/v2/repository/index", endpoint(plane, "v2", "repository_index", index),
              methods=["POST"]),
        Route(f"{models}/load", endpoint(plane, "v2", "repository_load", load), methods=["POST"]),
        Route(f"{models}/unload", endpoint(plane, "v2", "repository_unload", unload),
              methods=["POST"]),
    ]  # fmt: skip

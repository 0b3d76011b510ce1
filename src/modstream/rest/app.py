"""The Starlette app: Seldon and V2 routes, metrics, OpenAPI; 404/405 in protocol form."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modstream import metrics
from modstream.dataplane import DataPlane
from modstream.errors import ModstreamError, NotFound
from modstream.openapi import openapi_document
from modstream.registry.repository import ModelRepository
from modstream.rest.common import error_response, json_response
from modstream.rest.repository_routes import repository_routes
from modstream.rest.seldon_routes import seldon_routes
from modstream.rest.v2_routes import v2_routes
from modstream.settings import defaults


def build_app(
    plane: DataPlane,
    *,
    max_body_bytes: int = defaults.MAX_BODY_BYTES,
    repository: ModelRepository | None = None,
) -> Starlette:
    """The REST application over ``plane``; the plane's lifecycle is the server's business.

    ``repository`` answers the V2 repository routes (default: the plane's one model).
    """
    repository = repository or ModelRepository(plane.facts.name, lambda: plane.models)

    async def metrics_route(request: Request) -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    async def openapi(request: Request) -> Response:
        return json_response(openapi_document(plane.facts.name))

    routes = [
        *seldon_routes(plane, max_body_bytes),
        *v2_routes(plane, max_body_bytes),
        *repository_routes(plane, repository, max_body_bytes),
        Route("/metrics", metrics_route, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/seldon.json", openapi, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown routes and wrong methods, answered in the format of the protocol asked for."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error: ModstreamError = NotFound(f"no route {request.method} {request.url.path}")
    else:
        error = ModstreamError(
            f"{request.method} is not allowed on {request.url.path}",
            status=exc.status_code,
            reason="METHOD_NOT_ALLOWED" if exc.status_code == 405 else None,
        )
    protocol = "v2" if request.url.path.startswith("/v2") else "seldon"
    return error_response(request, protocol, error, headers=dict(exc.headers or {}))

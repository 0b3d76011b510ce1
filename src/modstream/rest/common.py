"""What every REST route shares: body reading with a size limit, timing, error mapping.

``error_response`` is the one place REST maps an exception to a response (route errors
through ``endpoint``, unknown routes and methods through the app's handler): Seldon
routes answer with Seldon's status object, V2 routes with ``{"error": ...}``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from modstream import metrics
from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput, ModstreamError, PayloadTooLarge
from modstream.protocol import decode_json_bytes, dumps
from modstream.protocol import seldon as seldon_codec
from modstream.protocol import v2 as v2_codec

log = logging.getLogger("modstream.rest")

Handler = Callable[[Request], Awaitable[Response]]
ErrorEncoder = Callable[[ModstreamError], dict[str, Any]]
# The most of an oversized body read (and dropped) so its sender can see the 413.
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
ENCODERS: dict[str, ErrorEncoder] = {
    "seldon": seldon_codec.encode_error,
    "v2": v2_codec.encode_error,
}


def json_response(
    body: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; ``PayloadTooLarge`` once it passes ``limit`` bytes.

    An oversized body is still read to its end (and dropped): clients such as urllib,
    requests and httpx send the whole body before they read the answer, and a server that
    closes on unread data makes their kernel see a reset instead of the 413.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        if "100-continue" not in request.headers.get("expect", "").lower():
            await _drain(request.stream())  # else the client waits for our word to send
        raise PayloadTooLarge(f"request body of {declared} bytes exceeds the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    stream = request.stream()
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            await _drain(stream, size)
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(stream: AsyncIterator[bytes], size: int = 0) -> None:
    """Read and drop what is left of a body, up to ``DRAIN_LIMIT_BYTES`` in all."""
    try:
        async for chunk in stream:
            size += len(chunk)
            if size > DRAIN_LIMIT_BYTES:
                return  # the 413 goes out with Connection: close; past this, a reset is fair
    except ClientDisconnect:
        return


async def read_seldon_json(request: Request, limit: int) -> object:
    """A SeldonMessage from a JSON body, the ``json=`` form field or the ``json`` query field."""
    raw = await read_body(request, limit)
    content_type = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" in content_type:
        try:
            fields = parse_qs(raw.decode("utf-8"), strict_parsing=False)
        except UnicodeDecodeError as exc:
            raise InvalidInput("form body is not valid UTF-8") from exc
        if "json" in fields:
            return decode_json_bytes(fields["json"][0].encode("utf-8"))
        if not raw.lstrip().startswith((b"{", b"[")):
            raise InvalidInput("form body has no json field")
        # curl -d sends JSON labelled as a form: take it for what it is
    if not raw and "json" in request.query_params:
        return decode_json_bytes(request.query_params["json"].encode("utf-8"))
    return decode_json_bytes(raw)


def header_id(request: Request) -> str | None:
    """The request id a client or proxy put in ``X-Request-Id``, if any."""
    return request.headers.get("x-request-id") or None


def endpoint(plane: DataPlane, protocol: str, route: str, handler: Handler) -> Handler:
    """Wrap ``handler`` with in-flight tracking, metrics and the protocol's error format."""
    gauge = metrics.in_flight("rest")

    async def wrapped(request: Request) -> Response:
        started = time.perf_counter()
        plane.in_flight += 1
        gauge.inc()
        try:
            response = await handler(request)
        except Exception as exc:
            response = error_response(request, protocol, exc)
        finally:
            plane.in_flight -= 1
            gauge.dec()
        metrics.observe_request("rest", route, response.status_code, time.perf_counter() - started)
        return response

    return wrapped


def error_response(
    request: Request, protocol: str, exc: Exception, headers: dict[str, str] | None = None
) -> Response:
    """The one place REST turns an exception into a response in ``protocol``'s error format.

    A ``ModstreamError`` keeps its status; anything else is a bug: logged once with its
    traceback and answered 500. Server-side failures name the request id, if there is one.
    """
    where = f"{request.method} {request.url.path}"
    request_id = getattr(request.state, "puid", None) or header_id(request)
    if not isinstance(exc, ModstreamError):
        log.error(
            "unexpected failure on %s (request id %s)", where, request_id or "-", exc_info=exc
        )
        exc = ModstreamError(f"internal error: {exc}")
    elif exc.status >= 500:
        log.error("%s failed (request id %s): %s", where, request_id or "-", exc.message)
    if exc.status >= 500 and request_id:
        message = f"{exc.message} (request id {request_id})"
        exc = type(exc)(message, status=exc.status, reason=exc.reason)
    if exc.status == 413:  # the body may be partly unread: this connection is done
        headers = {**(headers or {}), "connection": "close"}
    return json_response(ENCODERS[protocol](exc), exc.status, headers=headers)

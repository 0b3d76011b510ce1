"""The one place gRPC maps an exception to a status code.

A ``ModstreamError`` becomes the code of its status; anything else is a bug: INTERNAL,
logged once with its traceback and counted under that code in the request metrics.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from modstream import metrics
from modstream.dataplane import DataPlane
from modstream.errors import ModstreamError
from modstream.grpc.calls import Abort, CallContext

log = logging.getLogger("modstream.grpc")

CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    404: grpc.StatusCode.NOT_FOUND,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}

Reply = TypeVar("Reply")
Method = Callable[[Any, Any, CallContext], Awaitable[Reply]]


def status_code(error: ModstreamError) -> grpc.StatusCode:
    return CODES.get(error.status, grpc.StatusCode.INTERNAL)


def _mapped(protocol: str, route: str, exc: Exception) -> tuple[grpc.StatusCode, str]:
    if not isinstance(exc, ModstreamError):
        log.error("%s/%s: unexpected failure", protocol, route, exc_info=exc)
        return grpc.StatusCode.INTERNAL, f"internal error: {exc}"
    code = status_code(exc)
    if code is grpc.StatusCode.INTERNAL:
        log.error("%s/%s failed: %s", protocol, route, exc.message)
    return code, exc.message


def rpc(protocol: str, route: str) -> Callable[[Method[Reply]], Method[Reply]]:
    """Decorate a servicer method: in-flight tracking, metrics and error mapping."""

    def decorate(method: Method[Reply]) -> Method[Reply]:
        @functools.wraps(method)
        async def wrapped(self: Any, request: Any, context: CallContext) -> Reply:
            plane: DataPlane = self.plane
            gauge = metrics.in_flight("grpc")
            started = time.perf_counter()
            plane.in_flight += 1
            gauge.inc()
            code = grpc.StatusCode.OK
            try:
                return await method(self, request, context)
            except Abort:
                raise  # the method aborted on purpose; the call ends with its status
            except Exception as exc:
                code, message = _mapped(protocol, route, exc)
                await context.abort(code, message)
                raise  # abort raises; this keeps type checkers content
            finally:
                plane.in_flight -= 1
                gauge.dec()
                metrics.observe_request(
                    f"grpc-{protocol}", route, code.name, time.perf_counter() - started
                )

        return wrapped

    return decorate

"""The one place gRPC maps ``ModstreamError`` to a status code."""

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

log = logging.getLogger("modstream.grpc")

CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    404: grpc.StatusCode.NOT_FOUND,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}

Reply = TypeVar("Reply")
Method = Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[Reply]]


def status_code(error: ModstreamError) -> grpc.StatusCode:
    return CODES.get(error.status, grpc.StatusCode.INTERNAL)


def rpc(protocol: str, route: str) -> Callable[[Method[Reply]], Method[Reply]]:
    """Decorate a servicer method: in-flight tracking, metrics and error mapping."""

    def decorate(method: Method[Reply]) -> Method[Reply]:
        @functools.wraps(method)
        async def wrapped(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Reply:
            plane: DataPlane = self.plane
            gauge = metrics.in_flight("grpc")
            started = time.perf_counter()
            plane.in_flight += 1
            gauge.inc()
            code = grpc.StatusCode.OK
            try:
                return await method(self, request, context)
            except ModstreamError as exc:
                code = status_code(exc)
                if code is grpc.StatusCode.INTERNAL:
                    log.error("%s/%s failed: %s", protocol, route, exc.message)
                await context.abort(code, exc.message)
                raise  # abort raises; this keeps type checkers content
            finally:
                plane.in_flight -= 1
                gauge.dec()
                metrics.observe_request(
                    f"grpc-{protocol}", route, code.name, time.perf_counter() - started
                )

        return wrapped

    return decorate

"""The gRPC server ``modstream serve`` runs: unary calls to the generated servicers.

``grpc.aio``'s server costs about 200-500 µs of CPU per call on 2 cores before any work is done
(``BENCHMARKS.md``, serving), as much as a whole REST request with the model. This server
speaks HTTP/2 itself (``modstream.grpc.http2``) on the event loop ``serve`` already runs,
and calls the same servicers through the same generated registration
(``add_*Servicer_to_server``), so message types, method names and status codes are those
of the ``.proto`` files and ``grpc``'s own enums. What it serves is what the services
need: unary methods; the deadline a client sets (``grpc-timeout``); identity or gzip
request compression; message size limits both ways; graceful stop (GOAWAY, calls in
flight finish within the grace period). Streaming methods and TLS are not served.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NoReturn

import grpc

from modstream.grpc.http2 import RESPONSE_HEAD, Connection, Stream, literal
from modstream.webserver import listening

log = logging.getLogger("modstream.grpc")

__all__ = ["Abort", "CallContext", "GrpcServer"]

_TIMEOUT_UNITS = {b"H": 3600.0, b"M": 60.0, b"S": 1.0, b"m": 1e-3, b"u": 1e-6, b"n": 1e-9}
_MAX_DETAILS = 4_096  # characters of an error message sent in grpc-message


class Abort(Exception):
    """End a call with ``code`` and ``details``: raised by ``CallContext.abort``."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


class CallContext:
    """What a servicer method gets beside its request (the part of
    ``grpc.aio.ServicerContext`` the services use)."""

    def __init__(self, headers: dict[bytes, bytes]) -> None:
        self._headers = headers

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in self._headers.items()
            if not name.startswith(b":")
        )

    async def abort(self, code: grpc.StatusCode, details: str = "") -> NoReturn:
        raise Abort(code, details)


Method = Callable[[Any, CallContext], Awaitable[Any]]


class GrpcServer:
    """Unary gRPC methods on ``host:port``; ``start``, then ``stop(grace)``."""

    def __init__(self, host: str, port: int, *, max_receive: int, max_send: int) -> None:
        self.host, self.port = host, port
        self.max_receive, self.max_send = max_receive, max_send
        self._methods: dict[bytes, grpc.RpcMethodHandler] = {}
        self._connections: set[Connection] = set()
        self._listener: asyncio.Server | None = None

    # the two calls the generated ``add_*Servicer_to_server`` functions make
    def add_generic_rpc_handlers(self, handlers: Iterable[object]) -> None:
        """Nothing to do: every method also arrives by ``add_registered_method_handlers``."""

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        for name, handler in handlers.items():
            self._methods[f"/{service}/{name}".encode()] = handler

    async def start(self) -> None:
        """Listen; a port that cannot be had is a ``ModstreamError`` saying so."""
        loop = asyncio.get_running_loop()
        limit = self.max_receive + 5 + 16_384  # a message, its prefix, one frame of slack
        self._listener = await loop.create_server(
            lambda: Connection(self._answer, self._connections, limit),
            sock=listening(self.host, self.port, "gRPC"),
        )

    @property
    def bound_port(self) -> int:
        """The port listened on (the one the system chose, for port 0)."""
        assert self._listener is not None, "not started"
        return int(self._listener.sockets[0].getsockname()[1])

    async def stop(self, grace: float) -> None:
        """Stop accepting; calls in flight have ``grace`` seconds to finish (0: none, they
        are cancelled), then all connections close."""
        if self._listener is not None:
            self._listener.close()
        for connection in list(self._connections):
            connection.go_away()
        running = [
            stream.task
            for connection in self._connections
            for stream in connection.streams.values()
            if stream.task is not None
        ]
        if running and grace > 0:  # 0: the calls in flight are cancelled at once
            await asyncio.wait(running, timeout=grace)
        await asyncio.sleep(0)  # let finished calls write their answers
        for connection in list(self._connections):
            connection.close()

    async def _answer(self, stream: Stream) -> tuple[bytes, bytes | None]:
        """``(trailers, message)`` for a finished request, or ``(status block, None)``."""
        if not stream.headers.get(b"content-type", b"").startswith(b"application/grpc"):
            return _NOT_GRPC, None
        try:
            message = await self._call(stream.headers, bytes(stream.body))
        except Abort as exc:
            return _status(exc.code, exc.details, only=True), None
        except Exception as exc:  # the services map their own errors: this is a bug
            path = stream.headers.get(b":path", b"").decode("latin-1")
            log.error("%s: unexpected failure", path, exc_info=exc)
            return _status(grpc.StatusCode.INTERNAL, f"internal error: {exc}", only=True), None
        return _OK, message

    async def _call(self, headers: dict[bytes, bytes], body: bytes) -> bytes:
        path = headers.get(b":path", b"")
        handler = self._methods.get(path)
        if handler is None or headers.get(b":method") != b"POST":
            raise Abort(
                grpc.StatusCode.UNIMPLEMENTED, f"Method not found: {path.decode(errors='replace')}"
            )
        if handler.request_streaming or handler.response_streaming:
            raise Abort(grpc.StatusCode.UNIMPLEMENTED, "only unary methods are served")
        parse = handler.request_deserializer or bytes  # none: the method takes raw bytes
        try:
            request = parse(self._message(headers, body))
        except Abort:
            raise
        except Exception as exc:
            raise Abort(
                grpc.StatusCode.INTERNAL, f"the request could not be parsed: {exc}"
            ) from None
        try:
            deadline = _timeout(headers.get(b"grpc-timeout"))
            if deadline is None:
                reply = await handler.unary_unary(request, CallContext(headers))
            else:
                async with asyncio.timeout(deadline):
                    reply = await handler.unary_unary(request, CallContext(headers))
        except TimeoutError:
            raise Abort(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded") from None
        data: bytes = handler.response_serializer(reply) if handler.response_serializer else reply
        if len(data) > self.max_send:
            raise Abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"Sent message larger than max ({len(data)} vs. {self.max_send})",
            )
        return data

    def _message(self, headers: dict[bytes, bytes], body: bytes) -> bytes:
        """The one length-prefixed message of a unary request, decompressed."""
        if len(body) < 5:
            raise Abort(grpc.StatusCode.INTERNAL, "the request carries no message")
        length = int.from_bytes(body[1:5], "big")
        if length > self.max_receive:
            raise Abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"Received message larger than max ({length} vs. {self.max_receive})",
            )
        if len(body) != 5 + length:
            raise Abort(grpc.StatusCode.INTERNAL, "a unary call takes exactly one message")
        if not body[0]:
            return body[5:]
        encoding = headers.get(b"grpc-encoding", b"identity")
        if encoding != b"gzip":
            raise Abort(
                grpc.StatusCode.UNIMPLEMENTED, f"compression {encoding.decode()!r} is not served"
            )
        inflate = zlib.decompressobj(wbits=31)
        data = inflate.decompress(body[5:], self.max_receive + 1)
        if len(data) > self.max_receive or inflate.unconsumed_tail:
            raise Abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"Received message larger than max when decompressed ({self.max_receive})",
            )
        return data


def _timeout(value: bytes | None) -> float | None:
    """A ``grpc-timeout`` header in seconds (``None``: no deadline, or one not understood)."""
    if not value or len(value) < 2 or not value[:-1].isdigit():
        return None
    unit = _TIMEOUT_UNITS.get(value[-1:])
    return None if unit is None else int(value[:-1]) * unit


def _status(code: grpc.StatusCode, details: str, *, only: bool) -> bytes:
    """The trailers of a call, or (``only``) the single header block of a call that failed."""
    block = literal(b"grpc-status", str(code.value[0]).encode())
    if details:
        block += literal(b"grpc-message", _percent(details[:_MAX_DETAILS]))
    return RESPONSE_HEAD + block if only else block


def _percent(text: str) -> bytes:
    """grpc-message encoding: printable ASCII except '%' as is, every other byte as %XX."""
    return b"".join(
        bytes((byte,)) if 0x20 <= byte <= 0x7E and byte != 0x25 else b"%%%02X" % byte
        for byte in text.encode()
    )


_OK = _status(grpc.StatusCode.OK, "", only=False)
# A request that is not gRPC at all: HTTP's answer, with gRPC's status for a gRPC client
# that sent the wrong content-type.
_NOT_GRPC = (
    literal(b":status", b"415")
    + literal(b"content-type", b"text/plain")
    + _status(grpc.StatusCode.UNKNOWN, "content-type must be application/grpc", only=False)
)

"""modstream's gRPC server on a real port, called by grpcio's own client and, where a
client library would hide what is tested (small windows, split frames, a server-side
deadline, PING), by raw HTTP/2 frames over a socket.

The methods are a test service of raw bytes (``Echo``, ``Big``, ``Slow``) so that what is
seen is the transport: ``modstream serve``'s services run on it in test_serve_*.py.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from modstream.grpc import http2 as h2
from modstream.grpc.calls import GrpcServer

LIMIT = 64 * 1024
SERVICE = "test.Bytes"


class Running:
    """The server, its port and the loop it runs on (in a thread), and what ``Slow`` saw."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = GrpcServer("127.0.0.1", 0, max_receive=LIMIT, max_send=1 << 22)
        self.cancelled = threading.Event()
        self.server.add_registered_method_handlers(
            SERVICE,
            {
                "Echo": grpc.unary_unary_rpc_method_handler(self._echo),
                "Big": grpc.unary_unary_rpc_method_handler(self._big),
                "Slow": grpc.unary_unary_rpc_method_handler(self._slow),
                "Broken": grpc.unary_unary_rpc_method_handler(self._broken),
            },
        )

    async def _echo(self, request: bytes, context: object) -> bytes:
        return request

    async def _big(self, request: bytes, context: object) -> bytes:
        return b"x" * int(request)

    async def _slow(self, request: bytes, context: object) -> bytes:
        try:
            await asyncio.sleep(float(request))
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return b"done"

    async def _broken(self, request: bytes, context: object) -> bytes:
        raise RuntimeError("a bug in the method")

    def run(self, coroutine: object, timeout: float = 30) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.bound_port}"


@pytest.fixture()
def running() -> Iterator[Running]:
    running = Running()
    running.thread.start()
    running.run(running.server.start())
    try:
        yield running
    finally:
        running.run(running.server.stop(0))
        running.loop.call_soon_threadsafe(running.loop.stop)
        running.thread.join(30)
        running.loop.close()


def _method(channel: grpc.Channel, name: str) -> grpc.UnaryUnaryMultiCallable:
    return channel.unary_unary(f"/{SERVICE}/{name}")


class RawClient:
    """HTTP/2 frames over a blocking socket, as a gRPC client would send them."""

    def __init__(self, target: str, window: int = h2.MAX_WINDOW) -> None:
        self.window = window  # per stream; the connection's stays at HTTP/2's 65,535
        host, port = target.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        settings = h2.SETTING_WINDOW.to_bytes(2, "big") + window.to_bytes(4, "big")
        self.sock.sendall(h2.PREFACE + h2.frame(h2.SETTINGS, 0, 0, settings))
        self._buffer = b""

    def send(self, kind: int, flags: int, stream: int, payload: bytes = b"") -> None:
        self.sock.sendall(h2.frame(kind, flags, stream, payload))

    def request_block(self, method: str, *extra: tuple[bytes, bytes]) -> bytes:
        fields = [
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":path", f"/{SERVICE}/{method}".encode()),
            (b":authority", b"localhost"),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
            *extra,
        ]
        return b"".join(h2.literal(name, value) for name, value in fields)

    def read_frame(self) -> tuple[int, int, int, bytes]:
        while True:
            if len(self._buffer) >= 9:
                length = int.from_bytes(self._buffer[:3], "big")
                if len(self._buffer) >= 9 + length:
                    head, self._buffer = self._buffer[:9], self._buffer[9:]
                    payload, self._buffer = self._buffer[:length], self._buffer[length:]
                    stream = int.from_bytes(head[5:9], "big")
                    return head[3], head[4], stream, payload
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            self._buffer += data

    def answer(self, stream: int, give_back: bool = False) -> tuple[bytes, dict[bytes, bytes]]:
        """The DATA bytes and the trailers of ``stream`` (``give_back``: open the windows
        again by what each DATA frame used, as a client reading slowly would). Fails if
        the server sends more than either window allows."""
        data, trailers = b"", {}
        stream_window, connection_window = self.window, h2.DEFAULT_WINDOW
        decoder = h2.HeaderBlocks()
        while True:
            kind, flags, sid, payload = self.read_frame()
            if kind == h2.HEADERS and sid == stream:
                headers = decoder.decode(payload)
                if flags & h2.END_STREAM:
                    trailers = headers
                    return data, trailers
            elif kind == h2.DATA and sid == stream:
                data += payload
                assert len(payload) <= min(stream_window, connection_window), "window overrun"
                stream_window -= len(payload)
                connection_window -= len(payload)
                if give_back and payload:
                    stream_window += len(payload)
                    connection_window += len(payload)
                    size = len(payload).to_bytes(4, "big")
                    self.send(h2.WINDOW_UPDATE, 0, 0, size)
                    self.send(h2.WINDOW_UPDATE, 0, stream, size)

    def close(self) -> None:
        self.sock.close()


def _message(payload: bytes) -> bytes:
    return b"\x00" + len(payload).to_bytes(4, "big") + payload


def test_many_calls_at_once_on_one_connection_each_get_their_own_answer(
    running: Running,
) -> None:
    with grpc.insecure_channel(running.target) as channel:
        echo = _method(channel, "Echo")
        futures = [echo.future(f"comment {i}".encode(), timeout=30) for i in range(300)]
        assert [f.result() for f in futures] == [f"comment {i}".encode() for i in range(300)]


def test_an_answer_bigger_than_the_clients_window_arrives_whole(running: Running) -> None:
    client = RawClient(running.target, window=1_000)
    try:
        client.send(h2.HEADERS, h2.END_HEADERS, 1, client.request_block("Big"))
        client.send(h2.DATA, h2.END_STREAM, 1, _message(b"200000"))
        data, trailers = client.answer(1, give_back=True)
    finally:
        client.close()
    assert trailers[b"grpc-status"] == b"0"
    assert data == _message(b"x" * 200_000)


def test_a_request_in_pieces_is_one_call(running: Running) -> None:
    """A header block over three frames (HEADERS, two CONTINUATIONs), the message over
    many DATA frames, one of them padded."""
    client = RawClient(running.target)
    block = client.request_block("Echo")
    message = _message("a comment in pieces, ünïcödé too".encode())
    try:
        client.send(h2.HEADERS, 0, 1, block[:10])
        client.send(h2.CONTINUATION, 0, 1, block[10:40])
        client.send(h2.CONTINUATION, h2.END_HEADERS, 1, block[40:])
        client.send(h2.DATA, h2.PADDED, 1, b"\x03" + message[:7] + b"\x00" * 3)
        for at in range(7, len(message)):
            client.send(h2.DATA, 0, 1, message[at : at + 1])
        client.send(h2.DATA, h2.END_STREAM, 1)
        data, trailers = client.answer(1)
    finally:
        client.close()
    assert (trailers[b"grpc-status"], data) == (b"0", message)


def test_a_gzip_compressed_request_is_answered(running: Running) -> None:
    with grpc.insecure_channel(running.target, compression=grpc.Compression.Gzip) as channel:
        assert _method(channel, "Echo")(b"squeeze me " * 100, timeout=30) == b"squeeze me " * 100


def test_the_deadline_a_client_sets_ends_the_call_on_the_server(running: Running) -> None:
    client = RawClient(running.target)
    try:
        started = time.monotonic()
        block = client.request_block("Slow", (b"grpc-timeout", b"200m"))
        client.send(h2.HEADERS, h2.END_HEADERS, 1, block)
        client.send(h2.DATA, h2.END_STREAM, 1, _message(b"30"))
        data, trailers = client.answer(1)
        waited = time.monotonic() - started
    finally:
        client.close()
    assert trailers[b"grpc-status"] == str(grpc.StatusCode.DEADLINE_EXCEEDED.value[0]).encode()
    assert data == b"" and waited < 10  # not the 30 s the method would have taken
    assert running.cancelled.wait(5)


def test_a_call_the_client_cancels_stops_its_work(running: Running) -> None:
    with grpc.insecure_channel(running.target) as channel:
        future = _method(channel, "Slow").future(b"30", timeout=60)
        time.sleep(0.3)
        future.cancel()
        assert running.cancelled.wait(10)


def test_an_unknown_method_is_unimplemented(running: Running) -> None:
    with grpc.insecure_channel(running.target) as channel, pytest.raises(grpc.RpcError) as caught:
        _method(channel, "Nope")(b"", timeout=30)
    assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert "Nope" in (caught.value.details() or "")


def test_a_method_that_fails_unexpectedly_is_internal_and_logged(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    with grpc.insecure_channel(running.target) as channel, pytest.raises(grpc.RpcError) as caught:
        _method(channel, "Broken")(b"", timeout=30)
    assert caught.value.code() is grpc.StatusCode.INTERNAL
    assert "a bug in the method" in (caught.value.details() or "")
    logged = [r for r in caplog.records if r.name == "modstream.grpc" and r.exc_info]
    assert len(logged) == 1 and "Broken" in logged[0].getMessage()


def test_a_message_over_the_limit_is_refused_and_the_connection_serves_on(
    running: Running,
) -> None:
    with grpc.insecure_channel(running.target) as channel:
        echo = _method(channel, "Echo")
        with pytest.raises(grpc.RpcError) as caught:
            echo(b"y" * (4 * LIMIT), timeout=30)
        assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert echo(b"small", timeout=30) == b"small"


def test_a_client_that_does_not_speak_http2_is_closed_and_others_are_served(
    running: Running,
) -> None:
    client = RawClient.__new__(RawClient)
    host, port = running.target.rsplit(":", 1)
    client.sock, client._buffer = socket.create_connection((host, int(port)), timeout=10), b""
    client.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    kinds = []
    with pytest.raises(ConnectionError):  # the server closes the connection
        while True:
            kind, _, _, payload = client.read_frame()
            kinds.append(kind)
            if kind == h2.GOAWAY:
                assert int.from_bytes(payload[4:8], "big") == h2.PROTOCOL_ERROR
    client.close()
    assert kinds[-1] == h2.GOAWAY
    with grpc.insecure_channel(running.target) as channel:
        assert _method(channel, "Echo")(b"still here", timeout=30) == b"still here"


def test_a_ping_is_answered_with_its_own_payload(running: Running) -> None:
    client = RawClient(running.target)
    try:
        client.send(h2.PING, 0, 0, b"12345678")
        while (frame := client.read_frame())[0] != h2.PING:
            pass
    finally:
        client.close()
    assert frame[1] & h2.ACK and frame[3] == b"12345678"


def test_stopping_lets_calls_in_flight_finish_and_takes_no_new_ones(running: Running) -> None:
    target = running.target
    with grpc.insecure_channel(target) as channel:
        future = _method(channel, "Slow").future(b"0.5", timeout=30)
        time.sleep(0.2)
        running.run(running.server.stop(10))
        assert future.result() == b"done"
    with grpc.insecure_channel(target) as channel, pytest.raises(grpc.RpcError) as caught:
        _method(channel, "Echo")(b"", timeout=5)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE


def test_stopping_with_no_grace_period_cancels_the_calls_in_flight(running: Running) -> None:
    with grpc.insecure_channel(running.target) as channel:
        future = _method(channel, "Slow").future(b"30", timeout=60)
        time.sleep(0.3)
        started = time.monotonic()
        running.run(running.server.stop(0), timeout=10)
        assert time.monotonic() - started < 5  # not the 30 s the call would take
        assert running.cancelled.wait(10)
        with pytest.raises(grpc.RpcError) as caught:
            future.result(timeout=10)
    assert caught.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)


def test_a_request_that_is_not_grpc_is_answered_http_415(running: Running) -> None:
    client = RawClient(running.target)
    try:
        block = client.request_block("Echo").replace(b"application/grpc", b"application/json")
        client.send(h2.HEADERS, h2.END_HEADERS, 1, block)
        client.send(h2.DATA, h2.END_STREAM, 1, b'{"data": {"ndarray": ["hi"]}}')
        data, headers = client.answer(1)
    finally:
        client.close()
    assert data == b""
    assert headers[b":status"] == b"415"
    assert headers[b"grpc-status"] == b"2"
    assert headers[b"grpc-message"] == b"content-type must be application/grpc"
    with grpc.insecure_channel(running.target) as channel:
        assert _method(channel, "Echo")(b"served", timeout=30) == b"served"

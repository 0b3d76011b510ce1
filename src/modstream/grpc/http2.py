"""The HTTP/2 side of unary gRPC calls: one ``asyncio.Protocol`` per client connection.

What a gRPC client needs from a server and nothing more (RFC 9113, cleartext with prior
knowledge, as gRPC's insecure channels speak it): the preface and settings exchange,
HPACK-compressed request headers (``hpack`` keeps the decoding state), request bodies
over one or more DATA frames, flow control both ways, PING, RST_STREAM and GOAWAY. A
finished request goes to ``Calls.call``; its answer goes back as response headers, the
message in DATA frames as the client's windows allow, and trailers with the gRPC status.

Response headers are written as HPACK literals that never enter the dynamic table, so
answering costs no compression state. A peer that breaks the protocol gets GOAWAY with
the error and the connection is closed; the server goes on serving the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

import hpack

log = logging.getLogger("modstream.grpc")

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY = range(8)
WINDOW_UPDATE, CONTINUATION = 8, 9
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY_FLAG = 0x4, 0x8, 0x20
NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x3
FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR = 0x6, 0x7, 0x8, 0x9
MAX_WINDOW = 2**31 - 1
DEFAULT_WINDOW, DEFAULT_FRAME_SIZE = 65_535, 16_384
MAX_STREAMS = 1_000  # concurrent calls per connection; more are refused (the client retries)
MAX_HEADER_LIST = 16_384  # bytes of decoded request headers
SETTING_HEADER_TABLE, SETTING_MAX_STREAMS, SETTING_WINDOW = 0x1, 0x3, 0x4
SETTING_FRAME_SIZE, SETTING_HEADER_LIST = 0x5, 0x6
# Ours: big windows, so a client never waits for us to let it send a request.
_SETTINGS = b"".join(
    key.to_bytes(2, "big") + value.to_bytes(4, "big")
    for key, value in (
        (SETTING_MAX_STREAMS, MAX_STREAMS),
        (SETTING_WINDOW, MAX_WINDOW),
        (SETTING_HEADER_LIST, MAX_HEADER_LIST),
    )
)

Headers = dict[bytes, bytes]


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return (
        len(payload).to_bytes(3, "big") + bytes((kind, flags)) + stream.to_bytes(4, "big") + payload
    )


def _integer(value: int, prefix_bits: int) -> bytes:
    """An HPACK integer with an N-bit prefix (RFC 7541 5.1), the prefix's flag bits zero."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes((value,))
    out, value = bytearray((limit,)), value - limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def literal(name: bytes, value: bytes) -> bytes:
    """A header field as an HPACK literal without indexing, new name, no Huffman coding."""
    return b"\x00" + _integer(len(name), 7) + name + _integer(len(value), 7) + value


STATUS_200 = b"\x88"  # ":status: 200", entry 8 of HPACK's static table
RESPONSE_HEAD = STATUS_200 + literal(b"content-type", b"application/grpc")


class HeaderBlocks:
    """Request header blocks decoded, each remembered while HPACK's dynamic table stands still.

    A client sends the same block bytes for the same headers call after call; decoding them
    again gives the same headers as long as the dynamic table they may refer to is unchanged.
    So a block that changed the table (an insertion, a resize) empties the memory, and one
    that did not is remembered: about a tenth of a call's CPU saved (``BENCHMARKS.md``).
    """

    MEMORY = 64  # blocks per connection

    def __init__(self) -> None:
        self._decoder = hpack.Decoder(max_header_list_size=MAX_HEADER_LIST)
        self._known: dict[bytes, Headers] = {}

    def decode(self, block: bytes) -> Headers:
        """The block's headers (shared between calls: read them, never change them)."""
        known = self._known.get(block)
        if known is not None:
            return known
        table = self._decoder.header_table
        entries = table.dynamic_entries  # a new entry always goes in front
        size, first, limit = len(entries), entries[0] if entries else None, table.maxsize
        headers: Headers = dict(self._decoder.decode(block, raw=True))  # names, values: bytes
        changed = len(entries) != size or table.maxsize != limit
        if changed or (entries[0] if entries else None) is not first:
            self._known.clear()
        elif len(self._known) < self.MEMORY:
            self._known[block] = headers
        return headers


class ConnectionError_(Exception):
    """The peer broke the protocol: the connection ends with GOAWAY and ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(eq=False)
class Stream:
    """One call: its request as it arrives, then its answer as the windows let it out."""

    id: int
    headers: Headers
    window: int  # what we may still send on it
    body: bytearray = field(default_factory=bytearray)
    task: asyncio.Task[None] | None = None
    pending: bytes = b""  # answer DATA not yet sent
    trailers: bytes = b""
    answered: bool = False  # a response was written or is queued
    unread: bool = False  # the client was still sending: reset the stream after answering


Handler = Callable[[Stream], Awaitable[tuple[bytes, bytes | None]]]


class Connection(asyncio.Protocol):
    """One client connection; ``answer`` turns a finished request into
    ``(trailer block, message or None)``; ``None`` means a trailers-only answer."""

    def __init__(self, answer: Handler, tracked: set[Connection], max_request: int) -> None:
        self._answer, self._tracked, self._max_request = answer, tracked, max_request
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._preface = False
        self._blocks = HeaderBlocks()
        self.streams: dict[int, Stream] = {}
        self._blocked: dict[int, Stream] = {}
        self._continuing: tuple[int, int, bytearray] | None = None
        self._send_window, self._initial_window = DEFAULT_WINDOW, DEFAULT_WINDOW
        self._frame_size = DEFAULT_FRAME_SIZE
        self._received = 0  # DATA bytes since our last connection WINDOW_UPDATE
        self.last_stream = 0
        self.going_away = False

    # -- connection life --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self._tracked.add(self)
        raise_to = (MAX_WINDOW - DEFAULT_WINDOW).to_bytes(4, "big")
        self.transport.write(
            frame(SETTINGS, 0, 0, _SETTINGS) + frame(WINDOW_UPDATE, 0, 0, raise_to)
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._tracked.discard(self)
        for stream in self.streams.values():
            if stream.task is not None:
                stream.task.cancel()
        self.streams.clear()

    def go_away(self, code: int = NO_ERROR, reason: str = "") -> None:
        """Tell the client no new call is taken here; close at once if none is running."""
        if self.transport is None or self.transport.is_closing():
            return
        if not self.going_away or code != NO_ERROR:
            payload = self.last_stream.to_bytes(4, "big") + code.to_bytes(4, "big")
            self.transport.write(frame(GOAWAY, 0, 0, payload + reason.encode()[:256]))
        self.going_away = True
        if code != NO_ERROR or not self.streams:
            self.transport.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- frames in --------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        try:
            self._read(data)
        except ConnectionError_ as exc:
            log.info("gRPC client broke the HTTP/2 protocol (%s); closing its connection", exc)
            self.go_away(exc.code, str(exc))
        except hpack.HPACKError as exc:
            log.info("gRPC client's header block could not be decoded (%s)", exc)
            self.go_away(COMPRESSION_ERROR, "header block not decodable")

    def _read(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._preface:
            if len(buffer) < len(PREFACE):
                if not PREFACE.startswith(bytes(buffer)):
                    raise ConnectionError_(PROTOCOL_ERROR, "not an HTTP/2 connection preface")
                return
            if buffer[: len(PREFACE)] != PREFACE:
                raise ConnectionError_(PROTOCOL_ERROR, "not an HTTP/2 connection preface")
            del buffer[: len(PREFACE)]
            self._preface = True
        start, end = 0, len(buffer)
        while end - start >= 9:
            length = int.from_bytes(buffer[start : start + 3], "big")
            if length > DEFAULT_FRAME_SIZE:  # we never allow larger frames
                raise ConnectionError_(FRAME_SIZE_ERROR, f"a frame of {length} bytes")
            if end - start - 9 < length:
                break
            kind, flags = buffer[start + 3], buffer[start + 4]
            stream = int.from_bytes(buffer[start + 5 : start + 9], "big") & MAX_WINDOW
            payload = bytes(buffer[start + 9 : start + 9 + length])
            start += 9 + length
            self._frame(kind, flags, stream, payload)
        del buffer[:start]

    def _frame(self, kind: int, flags: int, stream: int, payload: bytes) -> None:
        if self._continuing is not None and kind != CONTINUATION:
            raise ConnectionError_(PROTOCOL_ERROR, "a header block was interrupted")
        if kind == DATA:
            self._on_data(stream, flags, payload)
        elif kind in (HEADERS, CONTINUATION):
            self._on_header_block(kind, stream, flags, payload)
        elif kind == SETTINGS:
            self._on_settings(stream, flags, payload)
        elif kind == WINDOW_UPDATE:
            self._on_window_update(stream, payload)
        elif kind == PING:
            if stream != 0 or len(payload) != 8:
                raise ConnectionError_(PROTOCOL_ERROR, "a malformed PING")
            if not flags & ACK:
                self._write(frame(PING, ACK, 0, payload))
        elif kind == RST_STREAM:
            self._on_reset(stream)
        elif kind == GOAWAY:
            self.going_away = True  # the client will not start calls here any more
        elif kind == PUSH_PROMISE:
            raise ConnectionError_(PROTOCOL_ERROR, "a client may not push")
        # PRIORITY and unknown frame types are ignored, as RFC 9113 asks

    def _on_data(self, sid: int, flags: int, payload: bytes) -> None:
        if sid == 0:
            raise ConnectionError_(PROTOCOL_ERROR, "DATA on stream 0")
        self._received += len(payload)
        if self._received > MAX_WINDOW // 2:  # give the client its connection window back
            self._write(frame(WINDOW_UPDATE, 0, 0, self._received.to_bytes(4, "big")))
            self._received = 0
        stream = self.streams.get(sid)
        if stream is None or stream.answered:
            return  # a call already reset or answered: its late DATA is dropped
        stream.body += _unpadded(flags, payload)
        if len(stream.body) > self._max_request:  # answered now; the rest is not read
            stream.unread = not flags & END_STREAM
            self._start(stream)
        elif flags & END_STREAM:
            self._start(stream)

    def _on_header_block(self, kind: int, sid: int, flags: int, payload: bytes) -> None:
        if kind == HEADERS:
            if sid == 0 or sid % 2 == 0:
                raise ConnectionError_(PROTOCOL_ERROR, f"HEADERS on stream {sid}")
            payload = _unpadded(flags, payload)
            if flags & PRIORITY_FLAG:
                payload = payload[5:]
            self._continuing = (sid, flags, bytearray(payload))
        elif self._continuing is None or self._continuing[0] != sid:
            raise ConnectionError_(PROTOCOL_ERROR, "CONTINUATION without HEADERS")
        else:
            self._continuing[2].extend(payload)
        if len(self._continuing[2]) > MAX_HEADER_LIST * 2:
            raise ConnectionError_(PROTOCOL_ERROR, "a header block over the size limit")
        if flags & END_HEADERS:
            sid, first_flags, block = self._continuing
            self._continuing = None
            self._on_headers(sid, first_flags, bytes(block))

    def _on_headers(self, sid: int, flags: int, block: bytes) -> None:
        headers = self._blocks.decode(block)  # also when refused: HPACK has state
        stream = self.streams.get(sid)
        if stream is not None:  # trailers from the client: they only end the request
            if not flags & END_STREAM:
                raise ConnectionError_(PROTOCOL_ERROR, "a second header block left open")
            if not stream.answered:
                self._start(stream)
            return
        if sid <= self.last_stream:
            raise ConnectionError_(PROTOCOL_ERROR, f"stream {sid} is not new")
        self.last_stream = sid
        if self.going_away or len(self.streams) >= MAX_STREAMS:
            self._write(frame(RST_STREAM, 0, sid, REFUSED_STREAM.to_bytes(4, "big")))
            return
        stream = Stream(sid, headers, self._initial_window)
        self.streams[sid] = stream
        if flags & END_STREAM:
            self._start(stream)

    def _on_settings(self, sid: int, flags: int, payload: bytes) -> None:
        if sid != 0 or len(payload) % 6:
            raise ConnectionError_(FRAME_SIZE_ERROR, "a malformed SETTINGS frame")
        if flags & ACK:
            return
        for at in range(0, len(payload), 6):
            key, value = (
                int.from_bytes(payload[at : at + 2], "big"),
                int.from_bytes(payload[at + 2 : at + 6], "big"),
            )
            if key == SETTING_WINDOW:
                if value > MAX_WINDOW:
                    raise ConnectionError_(FLOW_CONTROL_ERROR, "an initial window over 2^31-1")
                for stream in self.streams.values():
                    stream.window += value - self._initial_window
                self._initial_window = value
            elif key == SETTING_FRAME_SIZE:
                if not DEFAULT_FRAME_SIZE <= value < 2**24:
                    raise ConnectionError_(PROTOCOL_ERROR, f"a max frame size of {value}")
                self._frame_size = value
        self._write(frame(SETTINGS, ACK, 0))
        self._flush_blocked()

    def _on_window_update(self, sid: int, payload: bytes) -> None:
        if len(payload) != 4:
            raise ConnectionError_(FRAME_SIZE_ERROR, "a malformed WINDOW_UPDATE")
        increment = int.from_bytes(payload, "big") & MAX_WINDOW
        if sid == 0:
            if increment == 0 or self._send_window + increment > MAX_WINDOW:
                raise ConnectionError_(FLOW_CONTROL_ERROR, "a bad connection window update")
            self._send_window += increment
            self._flush_blocked()
        elif (stream := self.streams.get(sid)) is not None:
            stream.window += increment
            if stream.pending:
                self._send(stream)

    def _on_reset(self, sid: int) -> None:
        stream = self.streams.pop(sid, None)
        self._blocked.pop(sid, None)
        if stream is not None and stream.task is not None:
            stream.task.cancel()  # the client gave up on the call
        self._closed_one()

    # -- answers out ------------------------------------------------------------------
    def _start(self, stream: Stream) -> None:
        stream.answered = True
        stream.task = asyncio.get_running_loop().create_task(self._run(stream))

    async def _run(self, stream: Stream) -> None:
        trailers, message = await self._answer(stream)
        if self.streams.get(stream.id) is not stream:
            return  # reset by the client meanwhile
        if message is None:  # trailers only: the status in the one header block
            self._write(frame(HEADERS, END_STREAM | END_HEADERS, stream.id, trailers))
            self._finish(stream)
            return
        stream.pending = b"\x00" + len(message).to_bytes(4, "big") + message
        stream.trailers = trailers
        self._send(stream, frame(HEADERS, END_HEADERS, stream.id, RESPONSE_HEAD))

    def _send(self, stream: Stream, head: bytes = b"") -> None:
        """As much of the answer as both windows allow; the trailers once all of it is out
        (``head``, the response headers, goes first, in the same write)."""
        out: list[bytes] = [head]
        while stream.pending:
            size = min(len(stream.pending), self._send_window, stream.window, self._frame_size)
            if size <= 0:
                self._blocked[stream.id] = stream
                break
            out.append(frame(DATA, 0, stream.id, stream.pending[:size]))
            stream.pending = stream.pending[size:]
            self._send_window -= size
            stream.window -= size
        if not stream.pending:
            out.append(frame(HEADERS, END_STREAM | END_HEADERS, stream.id, stream.trailers))
            self._blocked.pop(stream.id, None)
        self._write(b"".join(out))
        if not stream.pending:
            self._finish(stream)

    def _flush_blocked(self) -> None:
        for stream in list(self._blocked.values()):
            if self._send_window <= 0:
                return
            self._send(stream)

    def _finish(self, stream: Stream) -> None:
        if stream.unread:  # RFC 9113 8.1: answered early, the rest of the request unwanted
            self._write(frame(RST_STREAM, 0, stream.id, NO_ERROR.to_bytes(4, "big")))
        self.streams.pop(stream.id, None)
        self._closed_one()

    def _closed_one(self) -> None:
        if self.going_away and not self.streams:
            self.close()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


def _unpadded(flags: int, payload: bytes) -> bytes:
    if not flags & PADDED:
        return payload
    if not payload or payload[0] >= len(payload):
        raise ConnectionError_(PROTOCOL_ERROR, "padding longer than its frame")
    return payload[1 : len(payload) - payload[0]]

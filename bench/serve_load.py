"""Load generator of the serving bench (``bench_serve.py`` runs it in its own process).

Both transports get the same client: ``concurrency`` coroutines on one asyncio loop, each
with its own keep-alive connection and one request in flight, sending pre-encoded bytes and
reading the answer without decoding it. REST is raw HTTP/1.1; gRPC is raw HTTP/2 (the
frames a gRPC client sends, header block encoded once), so neither client's library cost
is in the figures and the server's cost is what shows. ``grpcio`` instead measures with
grpc.aio's own channel, which costs the load process far more CPU per call.

    python bench/serve_load.py rest|grpc|grpcio PORT CONCURRENCY SECONDS [SERVER_PID]

With ``SERVER_PID`` it also reports the server's CPU time per request (all its threads, from
``/proc``), which other load on the machine inflates far less than requests/s.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import struct
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from modstream.grpc.http2 import (  # the frame and header encodings are HTTP/2's and HPACK's
    ACK,
    DATA,
    END_HEADERS,
    END_STREAM,
    GOAWAY,
    HEADERS,
    PING,
    PREFACE,
    RST_STREAM,
    SETTINGS,
)
from modstream.grpc.http2 import frame as _frame
from modstream.grpc.http2 import literal as _literal

ROOT = Path(__file__).resolve().parents[1]
DEV_CSV = ROOT.parent / "shared" / "data" / "rscience_dev.csv"
PREDICT = "/seldon.protos.Model/Predict"

Worker = Callable[[int, list[bytes], float, list[float]], Awaitable[None]]


def texts(n: int = 256) -> list[str]:
    """Real comments when the dev sample is there, else made-up ones."""
    if DEV_CSV.is_file():
        from modstream.datasets.reader import read_dataset

        return [str(t) for t in list(read_dataset(DEV_CSV).texts)[:n]]
    return [f"comment number {i}, with a few words in it" for i in range(n)]


def rest_bodies(comments: list[str]) -> list[bytes]:
    return [json.dumps({"data": {"ndarray": [t]}}).encode() for t in comments]


def grpc_bodies(comments: list[str]) -> list[bytes]:
    """Serialised single-comment ``SeldonMessage`` requests (``data.ndarray``)."""
    from google.protobuf import struct_pb2

    from modstream.grpc import prediction_pb2 as pb

    bodies = []
    for text in comments:
        message = pb.SeldonMessage()
        message.data.ndarray.CopyFrom(
            struct_pb2.ListValue(values=[struct_pb2.Value(string_value=text)])
        )
        bodies.append(message.SerializeToString())
    return bodies


# -- REST: HTTP/1.1 --------------------------------------------------------------------------
async def http_worker(port: int, bodies: list[bytes], stop: float, out: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    while time.perf_counter() < stop:
        body = bodies[i % len(bodies)]
        i += 1
        started = time.perf_counter()
        writer.write(
            b"POST /api/v1.0/predictions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace"))
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        if b"connection: close" in head.lower():  # gunicorn's sync worker: one request each
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        out.append(time.perf_counter() - started)
    writer.close()


# -- gRPC: HTTP/2 ----------------------------------------------------------------------------
WINDOW = 2**30  # the client never runs short of receive window in a bench run


def _header_block(port: int, path: str) -> bytes:
    fields = [
        (b":method", b"POST"),
        (b":scheme", b"http"),
        (b":path", path.encode()),
        (b":authority", f"127.0.0.1:{port}".encode()),
        (b"content-type", b"application/grpc"),
        (b"te", b"trailers"),
    ]
    return b"".join(_literal(name, value) for name, value in fields)


async def _h2_connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    settings = struct.pack(">HI", 0x4, WINDOW)  # SETTINGS_INITIAL_WINDOW_SIZE
    writer.write(PREFACE + _frame(SETTINGS, 0, 0, settings))
    writer.write(_frame(0x8, 0, 0, struct.pack(">I", WINDOW - 65535)))  # WINDOW_UPDATE
    return reader, writer


async def _h2_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, sid: int) -> int:
    """Read frames until stream ``sid`` ends; the size of its answer (0: no message)."""
    size = 0
    while True:
        head = await reader.readexactly(9)
        length, kind, flags, stream = (
            int.from_bytes(head[:3], "big"),
            head[3],
            head[4],
            int.from_bytes(head[5:], "big") & 0x7FFFFFFF,
        )
        payload = await reader.readexactly(length) if length else b""
        if kind == SETTINGS and not flags & ACK:
            writer.write(_frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            writer.write(_frame(PING, ACK, 0, payload))
        elif kind in (RST_STREAM, GOAWAY):
            raise RuntimeError(f"HTTP/2 frame {kind} ended the call: {payload!r}")
        elif stream == sid and kind == DATA:
            size += length
        if stream == sid and kind in (DATA, HEADERS) and flags & END_STREAM:
            return size


async def grpc_worker(port: int, bodies: list[bytes], stop: float, out: list[float]) -> None:
    """Unary ``Predict`` calls, one stream at a time on this worker's own connection.

    A call answered without a message (a trailers-only error status) stops the run.
    """
    reader, writer = await _h2_connect(port)
    block = _header_block(port, PREDICT)
    i, sid = 0, 1
    while time.perf_counter() < stop:
        body = bodies[i % len(bodies)]
        i += 1
        started = time.perf_counter()
        message = b"\x00" + struct.pack(">I", len(body)) + body
        writer.write(
            _frame(HEADERS, END_HEADERS, sid, block) + _frame(DATA, END_STREAM, sid, message)
        )
        if not await _h2_answer(reader, writer, sid):
            raise RuntimeError(f"Predict answered stream {sid} without a message")
        sid += 2
        out.append(time.perf_counter() - started)
    writer.close()


async def grpcio_worker(port: int, bodies: list[bytes], stop: float, out: list[float]) -> None:
    """The same calls through grpc.aio, one channel per worker."""
    import grpc

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        predict = channel.unary_unary(PREDICT)
        i = 0
        while time.perf_counter() < stop:
            body = bodies[i % len(bodies)]
            i += 1
            started = time.perf_counter()
            await predict(body)
            out.append(time.perf_counter() - started)


WORKERS: dict[str, Worker] = {"rest": http_worker, "grpc": grpc_worker, "grpcio": grpcio_worker}


def _cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system, all threads) of this process, or of process ``pid``."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(
    kind: str, port: int, concurrency: int, seconds: float, server_pid: int | None = None
) -> dict[str, float]:
    """Requests/s, latency percentiles and CPU per request, measured after 1 s of warm-up."""
    comments = texts()
    bodies = rest_bodies(comments) if kind == "rest" else grpc_bodies(comments)
    worker = WORKERS[kind]
    for warm in (True, False):
        out: list[float] = []
        stop = time.perf_counter() + (1.0 if warm else seconds)
        started = time.perf_counter()
        client, server = _cpu_seconds(None), _cpu_seconds(server_pid) if server_pid else 0.0
        await asyncio.gather(*(worker(port, bodies[w:], stop, out) for w in range(concurrency)))
        elapsed, client = time.perf_counter() - started, _cpu_seconds(None) - client
        server = _cpu_seconds(server_pid) - server if server_pid else float("nan")
    out.sort()
    return {
        "requests": len(out),
        "rps": len(out) / elapsed,
        "p50_ms": out[len(out) // 2] * 1000,
        "p99_ms": out[int(len(out) * 0.99)] * 1000,
        "client_cpu_us": client / len(out) * 1e6,
        "server_cpu_us": server / len(out) * 1e6,
    }


if __name__ == "__main__":
    kind, port, concurrency, seconds = sys.argv[1:5]
    pid = int(sys.argv[5]) if len(sys.argv) > 5 else None
    print(json.dumps(asyncio.run(load(kind, int(port), int(concurrency), float(seconds), pid))))

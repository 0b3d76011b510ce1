"""Serving benchmark: ``modstream serve`` against seldon-core's wrapper, same artifact.

    python bench/bench_serve.py --model /tmp/model --seldon-venv ~/.cache/modstream/venv-seldon

Single-comment Seldon requests (REST JSON and gRPC ``Predict``) at concurrency 1 and 8,
one serving process each, only to 127.0.0.1. The load generator runs in its own process
(this file with ``--load``): raw keep-alive HTTP/1.1 over asyncio streams, and grpc.aio.
Writes a markdown section to bench/results/serve.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEV_CSV = ROOT.parent / "shared" / "data" / "rscience_dev.csv"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _texts(n: int = 256) -> list[str]:
    if DEV_CSV.is_file():
        from modstream.datasets.reader import read_dataset

        return [str(t) for t in list(read_dataset(DEV_CSV).texts)[:n]]
    return [f"comment number {i}, with a few words in it" for i in range(n)]


# -- load generator (runs in its own process) ---------------------------------------------
async def _http_worker(port: int, bodies: list[bytes], stop: float, out: list[float]) -> None:
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


async def _grpc_worker(port: int, bodies: list[bytes], stop: float, out: list[float]) -> None:
    """Pre-serialised ``SeldonMessage`` requests, replies left as bytes: like the HTTP worker,
    the client does no encoding work per request, so the server's cost is what shows."""
    import grpc

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        predict = channel.unary_unary("/seldon.protos.Model/Predict")
        i = 0
        while time.perf_counter() < stop:
            body = bodies[i % len(bodies)]
            i += 1
            started = time.perf_counter()
            await predict(body)
            out.append(time.perf_counter() - started)


def _grpc_bodies(texts: list[str]) -> list[bytes]:
    from google.protobuf import struct_pb2

    from modstream.grpc import prediction_pb2 as pb

    bodies = []
    for text in texts:
        message = pb.SeldonMessage()
        message.data.ndarray.CopyFrom(
            struct_pb2.ListValue(values=[struct_pb2.Value(string_value=text)])
        )
        bodies.append(message.SerializeToString())
    return bodies


async def _load(kind: str, port: int, concurrency: int, seconds: float) -> dict[str, float]:
    texts = _texts()
    if kind == "rest":
        bodies = [json.dumps({"data": {"ndarray": [t]}}).encode() for t in texts]
    else:
        bodies = _grpc_bodies(texts)
    for warm in (True, False):
        out: list[float] = []
        stop = time.perf_counter() + (1.0 if warm else seconds)
        started = time.perf_counter()
        workers = [
            _http_worker(port, bodies[w:], stop, out)
            if kind == "rest"
            else _grpc_worker(port, bodies[w:], stop, out)
            for w in range(concurrency)
        ]
        await asyncio.gather(*workers)
        elapsed = time.perf_counter() - started
    out.sort()
    return {
        "requests": len(out),
        "rps": len(out) / elapsed,
        "p50_ms": out[len(out) // 2] * 1000,
        "p99_ms": out[int(len(out) * 0.99)] * 1000,
    }


# -- servers ------------------------------------------------------------------------------
def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early ({process.returncode})")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready")


def _start_modstream(model: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    http, grpc_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modstream",
            "serve",
            "--model",
            str(model),
            "--http-port",
            str(http),
            "--grpc-port",
            str(grpc_port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_ready(f"http://127.0.0.1:{http}/v2/health/ready", process)
    return process, http, grpc_port


def _start_wrapper(model: Path, venv: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    http, grpc_port, metrics = _free_port(), _free_port(), _free_port()
    env = {**os.environ, "MODSTREAM_MODEL": str(model)}
    process = subprocess.Popen(
        [
            str(venv / "bin" / "seldon-core-microservice"),
            "modstream.seldon_wrapper.ModerationModel",
            "--service-type",
            "MODEL",
            "--http-port",
            str(http),
            "--grpc-port",
            str(grpc_port),
            "--metrics-port",
            str(metrics),
            "--workers",
            "1",
            "--log-level",
            "WARNING",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _wait_ready(f"http://127.0.0.1:{http}/health/ping", process)
    return process, http, grpc_port


def _stop(process: subprocess.Popen[bytes], group: bool = False) -> None:
    if group:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.send_signal(signal.SIGTERM)
    process.wait(30)


def _run_load(kind: str, port: int, concurrency: int, seconds: float) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--load", kind, str(port), str(concurrency), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _measure(name: str, http: int, grpc_port: int, seconds: float) -> list[tuple[str, ...]]:
    rows = []
    for kind, port in (("REST", http), ("gRPC", grpc_port)):
        for concurrency in (1, 8):
            r = _run_load(kind.lower(), port, concurrency, seconds)
            rows.append(
                (
                    name,
                    kind,
                    str(concurrency),
                    f"{r['rps']:.0f}",
                    f"{r['p50_ms']:.2f}",
                    f"{r['p99_ms']:.2f}",
                    str(int(r["requests"])),
                )
            )
            print(" | ".join(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument(
        "--seldon-venv", type=Path, default=Path.home() / ".cache" / "modstream" / "venv-seldon"
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument(
        "--no-wrapper", action="store_true", help="measure modstream serve only (REST vs gRPC)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "serve.md")
    args = parser.parse_args()
    process, http, grpc_port = _start_modstream(args.model)
    try:
        rows = _measure("modstream serve", http, grpc_port, args.seconds)
    finally:
        _stop(process)
    if not args.no_wrapper:
        process, http, grpc_port = _start_wrapper(args.model, args.seldon_venv)
        try:
            rows += _measure("seldon-core wrapper", http, grpc_port, args.seconds)
        finally:
            _stop(process, group=True)
    _write(args, rows)


def _write(args: argparse.Namespace, rows: list[tuple[str, ...]]) -> None:
    header = ("server", "transport", "concurrency", "req/s", "p50 ms", "p99 ms", "requests")
    lines = [
        "## Serving: modstream serve vs the seldon-core wrapper",
        "",
        f"Same artifact ({args.model.name}, trained on rscience_dev.csv), single-comment "
        f"Seldon requests, {args.seconds:.0f} s per cell after 1 s warm-up, one serving "
        f"process each (wrapper: seldon-core 1.18.2, 1 gunicorn worker), load generator in "
        f"its own process, {os.cpu_count()} cores shared. "
        f"Command: `python bench/bench_serve.py --model MODEL_DIR`.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        kind, port, concurrency, seconds = sys.argv[2:6]
        result = asyncio.run(_load(kind, int(port), int(concurrency), float(seconds)))
        print(json.dumps(result))
    else:
        main()

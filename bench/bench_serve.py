"""Serving benchmark: ``modstream serve`` against seldon-core's wrapper, same artifact.

    python bench/bench_serve.py --model /tmp/model --seldon-venv ~/.cache/modstream/venv-seldon

Single-comment Seldon requests (REST JSON and gRPC ``Predict``) at concurrency 1 and 8,
one serving process each, only to 127.0.0.1. The load generator runs in its own process
(``bench/serve_load.py``): raw keep-alive HTTP/1.1 and raw HTTP/2 over asyncio streams, the
same client design for both transports. REST and gRPC alternate within each round (the order
swapped every round) so both see the same machine load; each cell also reports the serving
process's CPU time per request. The same cells run against the transports' floor
(``bench/serve_floor.py``: the same two servers answering a fixed response, no model), so
the table shows what each transport costs before modstream does anything, and once more
with grpc.aio's server in place of modstream's (what ``modstream serve`` ran before).
Writes a markdown section to bench/results/serve.md.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
LOAD = Path(__file__).resolve().parent / "serve_load.py"
FLOOR = Path(__file__).resolve().parent / "serve_floor.py"
OURS = "modstream serve"
FLOOR_NAME = "transport floor (fixed answer, no model)"
AIO_FLOOR = "transport floor with grpc.aio (fixed answer, no model)"
WRAPPER = "seldon-core wrapper"
_TITLES = {
    WRAPPER: "the seldon-core wrapper",
    FLOOR_NAME: "the transports' floor",
    AIO_FLOOR: "the transports' floor with grpc.aio",
}
Server = tuple["subprocess.Popen[bytes]", int, int]  # process, HTTP port, gRPC port


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def _start_modstream(model: Path) -> Server:
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


def _start_floor(grpc_kind: str) -> Server:
    """uvicorn + Starlette and a gRPC server (``modstream`` or ``aio``), nothing behind."""
    http, grpc_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [sys.executable, str(FLOOR), str(http), str(grpc_port), grpc_kind],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_ready(f"http://127.0.0.1:{http}/v2/health/ready", process)
    return process, http, grpc_port


def _start_wrapper(model: Path, venv: Path) -> Server:
    http, grpc_port, metrics = _free_port(), _free_port(), _free_port()
    command = [
        str(venv / "bin" / "seldon-core-microservice"),
        "modstream.seldon_wrapper.ModerationModel",
        *("--service-type", "MODEL", "--http-port", str(http), "--grpc-port", str(grpc_port)),
        *("--metrics-port", str(metrics), "--workers", "1", "--log-level", "WARNING"),
    ]
    env = {**os.environ, "MODSTREAM_MODEL": str(model)}
    with tempfile.TemporaryFile() as errors:  # the child keeps its own handle
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True
        )
        try:
            _wait_ready(f"http://127.0.0.1:{http}/health/ping", process)
        except RuntimeError as exc:
            errors.seek(0)
            last = errors.read().decode(errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"{exc}: {' '.join(last)}") from exc
    return process, http, grpc_port


def _stop(process: subprocess.Popen[bytes], group: bool = False) -> None:
    if group:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.send_signal(signal.SIGTERM)
    process.wait(30)


def _run_load(
    kind: str, port: int, concurrency: int, seconds: float, server_pid: int
) -> dict[str, float]:
    command = [sys.executable, str(LOAD), kind, str(port), str(concurrency), str(seconds)]
    done = subprocess.run([*command, str(server_pid)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _model_calls(http_port: int) -> tuple[float, float]:
    """Texts scored and model calls so far, from ``/metrics`` (0, 0 where not exported)."""
    text = httpx.get(f"http://127.0.0.1:{http_port}/metrics", timeout=10).text
    found = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        for part in found:
            if line.startswith(f"modstream_model_batch_texts_{part} "):
                found[part] = float(line.split()[-1])
    return found["sum"], found["count"]


def _cell(
    name: str, server: Server, kind: str, concurrency: int, args: argparse.Namespace
) -> tuple[str, ...]:
    """One load run: req/s, latency, server and client CPU per request, texts per model call."""
    process, port = server[0], server[1] if kind == "REST" else server[2]
    ours = name == OURS
    texts, calls = _model_calls(server[1]) if ours else (0.0, 0.0)
    client = args.grpc_client if kind == "gRPC" else "rest"
    r = _run_load(client, port, concurrency, args.seconds, process.pid)
    texts_after, calls_after = _model_calls(server[1]) if ours else (0.0, 0.0)
    per_call = (texts_after - texts) / max(calls_after - calls, 1)
    return (
        kind,
        str(concurrency),
        f"{r['rps']:.0f}",
        f"{r['p50_ms']:.2f}",
        f"{r['p99_ms']:.2f}",
        f"{r['server_cpu_us']:.0f}",
        f"{r['client_cpu_us']:.0f}",
        f"{per_call:.1f}" if ours else "-",
        str(int(r["requests"])),
    )


def _measure(
    name: str, server: Server, args: argparse.Namespace, rounds: int
) -> list[tuple[str, ...]]:
    """``rounds`` rounds; in each, every concurrency runs REST and gRPC back to back, the
    order swapped every round, so both see the same machine load."""
    rows = []
    for round_no in range(1, rounds + 1):
        for concurrency in args.concurrency:
            for kind in ["REST", "gRPC"] if round_no % 2 else ["gRPC", "REST"]:
                rows.append((name, str(round_no), *_cell(name, server, kind, concurrency, args)))
                print(" | ".join(rows[-1]), flush=True)
    return rows


def _summary(rows: list[tuple[str, ...]]) -> list[str]:
    """Per server and concurrency: each transport's median req/s and server CPU per
    request, and gRPC/REST."""
    cells: dict[tuple[str, str], dict[str, list[tuple[str, str]]]] = {}
    for name, _, kind, concurrency, rps, _p50, _p99, cpu, *_ in rows:
        cells.setdefault((name, concurrency), {}).setdefault(kind, []).append((rps, cpu))
    lines = []
    for (name, concurrency), by_kind in cells.items():
        (rest, rest_cpu), (grpc_, grpc_cpu) = (_medians(by_kind[k]) for k in ("REST", "gRPC"))
        lines.append(
            f"- {name}, concurrency {concurrency}: median REST {rest:.0f} req/s, "
            f"gRPC {grpc_:.0f} req/s (gRPC/REST {grpc_ / rest:.2f}); server CPU "
            f"per request REST {rest_cpu:.0f} µs, gRPC {grpc_cpu:.0f} µs "
            f"({len(by_kind['REST'])} rounds)"
        )
    return lines


def _medians(cells: list[tuple[str, str]]) -> tuple[float, float]:
    """The median req/s and the median server CPU per request of a transport's cells."""
    rps, cpu = zip(*cells, strict=True)
    return statistics.median(map(float, rps)), statistics.median(map(float, cpu))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument(
        "--seldon-venv", type=Path, default=Path.home() / ".cache" / "modstream" / "venv-seldon"
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating REST/gRPC rounds")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--grpc-client",
        choices=["grpc", "grpcio"],
        default="grpc",
        help="raw HTTP/2 like the REST client (default), or grpc.aio's channel",
    )
    parser.add_argument(
        "--no-wrapper", action="store_true", help="measure modstream serve only (REST vs gRPC)"
    )
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the transports' floor (no model)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "serve.md")
    args = parser.parse_args()
    server = _start_modstream(args.model)
    try:
        rows = _measure(OURS, server, args, args.rounds)
    finally:
        _stop(server[0])
    for name, grpc_kind in [] if args.no_floor else [(FLOOR_NAME, "modstream"), (AIO_FLOOR, "aio")]:
        server = _start_floor(grpc_kind)
        try:
            rows += _measure(name, server, args, args.rounds)
        finally:
            _stop(server[0])
    notes = []
    if not args.no_wrapper:
        try:
            server = _start_wrapper(args.model, args.seldon_venv)
        except RuntimeError as exc:  # the figures above still get written, with the reason
            notes.append(f"- seldon-core wrapper not measured: {exc}")
            print(notes[-1], file=sys.stderr)
        else:
            try:
                rows += _measure(WRAPPER, server, args, 1)
            finally:
                _stop(server[0], group=True)
    _write(args, rows, notes)


def _write(args: argparse.Namespace, rows: list[tuple[str, ...]], notes: list[str]) -> None:
    header = (
        "server",
        "round",
        "transport",
        "concurrency",
        "req/s",
        "p50 ms",
        "p99 ms",
        "server CPU µs/req",
        "client CPU µs/req",
        "texts/model call",
        "requests",
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    measured = {row[0] for row in rows}
    versus = [title for name, title in _TITLES.items() if name in measured]
    wrapper = " (wrapper: seldon-core 1.18.2, 1 gunicorn worker)" if WRAPPER in measured else ""
    command = " ".join("MODEL_DIR" if arg == str(args.model) else arg for arg in sys.argv[1:])
    lines = [
        "## Serving: modstream serve" + (f", beside {' and '.join(versus)}" if versus else ""),
        "",
        f"Same artifact ({args.model.name}, trained on rscience_dev.csv), single-comment "
        f"Seldon requests, {args.seconds:.0f} s per cell after 1 s warm-up, REST and gRPC "
        f"alternating in each round, one serving process each{wrapper}, load generator in "
        f"its own process (`bench/serve_load.py`, gRPC client: {args.grpc_client}), {os.cpu_count()} cores shared, load average at "
        f"the end {load}. Command: `python bench/bench_serve.py {command}`.",
        "",
        *_summary(rows),
        *notes,
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[4 : -len(rows) - 3]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

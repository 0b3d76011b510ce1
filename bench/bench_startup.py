"""Start-up benchmark: how long until modstream answers, for each command users start.

    python bench/bench_startup.py --model /tmp/model [--runs 5]
        [--baseline-src OLD/src --baseline-model OLD_MODEL] [--out bench/results/startup.md]

Per run, a fresh process is started and timed from outside, from spawn to the point below;
its wall time and the CPU time it used by then (less sensitive to a busy machine) are kept:
- ``modstream --help`` and ``modstream serve --help``: its exit;
- ``modstream serve``: ``GET /v2/health/ready`` answering 200 (polled every 10 ms);
- ``modstream stream``: its log line saying which topics it works on, written once the
  model has scored its warm-up text and the producer has the output topic's metadata;
  with ``--workers 2``, that line from both worker processes (the CPU column then counts
  the supervising process only).
With ``--baseline-src``, the same is measured for that source tree in the same run, the
two alternating, so both see the same machine. The median of the runs is reported.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

from modstream.broker import EmbeddedBroker

ROOT = Path(__file__).resolve().parents[1]
Probe = Callable[[subprocess.Popen[bytes], Path, int], bool]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as reply:
            return int(reply.status) == 200
    except OSError:
        return False


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(
    command: list[str], src: Path, probe: Probe | None, timeout: float = 120
) -> tuple[float, float]:
    """Wall and CPU seconds from spawn to ``probe`` saying ready (or to exit without one)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(src)}
    with tempfile.NamedTemporaryFile(suffix=".log") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "modstream", *[a.replace("{port}", str(port)) for a in command]],
            stdout=subprocess.DEVNULL if probe is None else log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            if probe is None:
                _, _, usage = os.wait4(process.pid, 0)
                process.returncode = 0
                return time.perf_counter() - started, usage.ru_utime + usage.ru_stime
            while not probe(process, Path(log.name), port):
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited: {Path(log.name).read_text()}")
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"{command[0]} not ready in {timeout:.0f} s")
                time.sleep(0.01)
            return time.perf_counter() - started, _cpu_seconds(process.pid)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(60)


def _serve_ready(process: subprocess.Popen[bytes], log: Path, port: int) -> bool:
    return _answers(f"http://127.0.0.1:{port}/v2/health/ready")


def _stream_ready(process: subprocess.Popen[bytes], log: Path, port: int) -> bool:
    return "worker 0: " in log.read_text()


def _two_workers_ready(process: subprocess.Popen[bytes], log: Path, port: int) -> bool:
    text = log.read_text()
    return "worker 0: " in text and "worker 1: " in text


def _cases(model: str, broker: EmbeddedBroker) -> list[tuple[str, list[str], Probe | None]]:
    tag = uuid.uuid4().hex[:8]
    broker.create_topics({f"in-{tag}": 1, f"out-{tag}": 1})
    stream = [
        "stream", "--model", model, "--bootstrap-servers", broker.bootstrap_servers,
        "--input-topic", f"in-{tag}", "--output-topic", f"out-{tag}", "--group", f"g-{tag}",
    ]  # fmt: skip
    return [
        ("modstream --help", ["--help"], None),
        ("modstream serve --help", ["serve", "--help"], None),
        (
            "modstream serve, until /v2/health/ready",
            ["serve", "--model", model, "--http-port", "{port}", "--grpc-port", "0"],
            _serve_ready,
        ),
        ("modstream stream, until ready", stream, _stream_ready),
        ("modstream stream --workers 2, until both are ready", [*stream, "--workers", "2"],
         _two_workers_ready),
    ]  # fmt: skip


def timing_parser(doc: str | None, out: str) -> argparse.ArgumentParser:
    """The options of a benchmark that times fresh processes of this tree, and of another
    (``--baseline-src``) in the same run: ``--model``, ``--runs``, ``--out``."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline-src", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / out)
    return parser


def main() -> None:
    parser = timing_parser(__doc__, "startup.md")
    parser.add_argument("--baseline-model")
    args = parser.parse_args()
    trees = [("this tree", ROOT / "src", args.model)]
    if args.baseline_src:
        trees.append(("baseline", args.baseline_src, args.baseline_model or args.model))
    load_before = os.getloadavg()
    rows = []
    with EmbeddedBroker() as broker:
        cases = {tree: _cases(model, broker) for tree, _, model in trees}
        for index in range(len(cases[trees[0][0]])):
            times: dict[str, list[tuple[float, float]]] = {tree: [] for tree, _, _ in trees}
            for _ in range(args.runs):
                for tree, src, _ in trees:  # alternate, so both see the same machine
                    _, command, probe = cases[tree][index]
                    times[tree].append(_timed(command, src, probe))
            name = cases[trees[0][0]][index][0]
            medians = [
                statistics.median(run[kind] for run in times[tree])
                for tree, _, _ in trees
                for kind in (0, 1)
            ]
            rows.append((name, *medians))
            print(" | ".join([name, *(f"{s:.2f} s" for s in medians)]), flush=True)
    _write(args, trees, rows, load_before, os.getloadavg())


def _write(
    args: argparse.Namespace,
    trees: list[tuple[str, Path, str]],
    rows: list[tuple[object, ...]],
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> None:
    header = ["start-up, median of runs"]
    header += [f"{tree} {kind} s" for tree, _, _ in trees for kind in ("wall", "CPU")]
    lines = [
        "## Start-up: spawn to ready",
        "",
        f"{args.runs} runs each, {os.cpu_count()} cores, {platform.python_version()}, "
        f"load average {load_before[0]:.1f} before and {load_after[0]:.1f} after. "
        f"Command: `python bench/bench_startup.py --model MODEL_DIR"
        + (" --baseline-src OLD/src --baseline-model OLD_MODEL" if args.baseline_src else "")
        + "`.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join([str(r[0]), *(f"{s:.2f}" for s in r[1:])]) + " |" for r in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

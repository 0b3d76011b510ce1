"""``modstream up`` as a user feels it: from spawn to its banner, and from Ctrl-C to its exit.

    python bench/bench_up.py --model /tmp/model [--runs 5]
        [--baseline-src OLD/src] [--out bench/results/up.md]

Per run, ``modstream up --model MODEL`` starts on free ports (its embedded broker
included); it is timed from spawn until it prints ``modstream is up`` (the broker, the model
server, the stream worker in its group, the monitor and the dashboard all answer), then
from SIGINT (Ctrl-C) until the process has exited, every child stopped. With
``--baseline-src`` the same is measured for that source tree in the same run, the two
alternating, so both see the same machine. Medians of the runs are reported.
"""

from __future__ import annotations

import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_startup import ROOT, free_port, timing_parser

_PORT_FLAGS = ["--port", "--http-port", "--grpc-port", "--metrics-port", "--monitor-port",
               "--broker-port"]  # fmt: skip


def _timed_up(model: str, src: Path, timeout: float = 180) -> tuple[float, float]:
    """Seconds from spawn to the banner, and from SIGINT to the exit of ``up``."""
    flags = [item for flag in _PORT_FLAGS for item in (flag, str(free_port()))]
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "modstream", "up", "--model", model, *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    up = threading.Event()
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "modstream is up" in line:
                up.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not up.wait(timeout):
            raise RuntimeError("modstream up did not start:\n" + "".join(lines[-30:]))
        start_s = time.perf_counter() - started
        interrupted = time.perf_counter()
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout)
        stop_s = time.perf_counter() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(10)
    if code != 0:
        raise RuntimeError(f"modstream up exited {code}:\n" + "".join(lines[-30:]))
    return start_s, stop_s


def main() -> None:
    args = timing_parser(__doc__, "up.md").parse_args()
    trees = [("this tree", ROOT / "src")]
    if args.baseline_src:
        trees.append(("baseline", args.baseline_src))
    load_before = os.getloadavg()
    runs: dict[str, list[tuple[float, float]]] = {tree: [] for tree, _ in trees}
    for index in range(args.runs):
        for tree, src in trees:  # alternate, so both see the same machine
            start_s, stop_s = _timed_up(args.model, src)
            runs[tree].append((start_s, stop_s))
            print(f"run {index + 1} {tree}: up in {start_s:.2f} s, stopped in {stop_s:.2f} s",
                  flush=True)  # fmt: skip
    load_after = os.getloadavg()
    lines = [
        "## `modstream up`: spawn to banner, Ctrl-C to exit",
        "",
        f"{args.runs} runs each, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load_before[0]:.1f} before and {load_after[0]:.1f} after. Command: "
        "`python bench/bench_up.py --model MODEL_DIR"
        + (" --baseline-src OLD/src" if args.baseline_src else "")
        + "`.",
        "",
        "| tree | up, median s (runs) | Ctrl-C to exit, median s (runs) |",
        "|---|---|---|",
    ]
    for tree, _ in trees:
        starts = [run[0] for run in runs[tree]]
        stops = [run[1] for run in runs[tree]]
        lines.append(
            f"| {tree} | {statistics.median(starts):.2f} ({_listed(starts)}) "
            f"| {statistics.median(stops):.2f} ({_listed(stops)}) |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {args.out}")


def _listed(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()

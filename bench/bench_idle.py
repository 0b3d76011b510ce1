"""What an idle ``modstream up`` costs the Kafka it is pointed at, and itself.

    python bench/bench_idle.py --model MODEL_DIR [--brokers kafka,embedded] \
        [--compare-src OTHER_CHECKOUT] [--rounds 2] [--seconds 20]

On one warm broker, each round first measures the broker alone (nothing connected to
it: its own floor), then runs ``modstream up --bootstrap-servers`` (worker, model server,
monitor, registry followers and dashboard) with nothing to read, waits until it says it
is up and 5 s more, and reports the CPU the broker and ``up`` (all its processes) spend
over ``--seconds``, as a share of one core. ``--compare-src`` runs another checkout's
``up`` (its ``src/``) the same way in every round, beside this one's (first in every other
round), so the two meet the same machine. The time from start to "modstream is up" is reported too.

Writes ``bench/results/idle.md`` and ``.json`` (``--out`` to change, ending in ``.md``).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from stream_kit import (
    BROKER_LABELS,
    ROOT,
    broker,
    cpu_seconds,
    listener_pids,
    load_note,
    machine,
    save,
)

from modstream.broker import free_port

SETTLE_S = 5.0


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--brokers", default="kafka", help="kafka, embedded, or both")
    parser.add_argument("--compare-src", type=Path, help="another checkout to run alike")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each sample")
    parser.add_argument("--out", type=Path, help="result file (.md; .json beside it)")
    args = parser.parse_args()
    if args.out is not None and args.out.suffix != ".md":
        parser.error("--out must end in .md (the .json is written beside it)")
    return args


def git_head(checkout: Path) -> str:
    run = subprocess.run(["git", "-C", str(checkout), "log", "-1", "--format=%h"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    return run.stdout.strip() or "?"


class UpProcess:
    """``modstream up`` from ``checkout`` against ``servers``, on free ports."""

    def __init__(self, checkout: Path, model: str, servers: str) -> None:
        ports = ["--port", "--http-port", "--grpc-port", "--metrics-port", "--monitor-port"]
        flags = [item for name in ports for item in (name, str(free_port()))]
        tag = uuid.uuid4().hex[:8]  # a registry of its own per run, as on a new cluster
        env = {**os.environ, "PYTHONPATH": str(checkout / "src"),
               "MODSTREAM_UP_MODELS_TOPIC": f"bench-models-{tag}",
               "MODSTREAM_UP_POLICIES_TOPIC": f"bench-policies-{tag}"}  # fmt: skip
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "modstream", "up", "--model", model,
             "--bootstrap-servers", servers, *flags],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.up = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if "modstream is up" in line:
                self.up.set()

    def wait_up(self, timeout: float = 240.0) -> float:
        """Seconds from start to "modstream is up"."""
        deadline = time.monotonic() + timeout
        while not self.up.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("modstream up did not start:\n" + "".join(self.lines[-40:]))
        return time.monotonic() - self.started

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(90)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def sample(broker_pids: list[int], own: list[int], seconds: float) -> tuple[float, float]:
    """Shares of one core (%) that the broker and ``own`` used over ``seconds``."""
    b0, o0, t0 = cpu_seconds(broker_pids), cpu_seconds(own), time.monotonic()
    time.sleep(seconds)
    dt = time.monotonic() - t0
    return 100 * (cpu_seconds(broker_pids) - b0) / dt, 100 * (cpu_seconds(own) - o0) / dt


def run_broker(kind: str, args: argparse.Namespace, checkouts: dict[str, Path]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    with broker(kind) as server:
        servers = server.bootstrap_servers
        pids = listener_pids(servers)
        for round_no in range(1, args.rounds + 1):
            floor, _ = sample(pids, [], args.seconds)
            rows.append({"round": round_no, "what": "broker alone", "broker_pct": floor})
            print(f"{kind} round {round_no}: broker alone {floor:.2f}%", flush=True)
            order = list(checkouts.items())
            for name, checkout in order if round_no % 2 else order[::-1]:
                up = UpProcess(checkout, args.model, servers)
                try:
                    ready_s = up.wait_up()
                    time.sleep(SETTLE_S)
                    own = [up.process.pid]
                    broker_pct, up_pct = sample(pids, own, args.seconds)
                finally:
                    up.stop()
                rows.append({"round": round_no, "what": name, "broker_pct": broker_pct,
                             "up_pct": up_pct, "ready_s": ready_s})  # fmt: skip
                print(f"{kind} round {round_no}: {name}: broker {broker_pct:.2f}%, "
                      f"up {up_pct:.2f}%, up after {ready_s:.1f} s", flush=True)  # fmt: skip
    return {"broker": BROKER_LABELS[kind], "rows": rows}


def cell(rows: list[dict[str, Any]], what: str, key: str, unit: str) -> str:
    """The median of ``key`` over the rounds of ``what``, each round in brackets."""
    values = [r[key] for r in rows if r["what"] == what]
    each = ", ".join(f"{v:.1f}" for v in values)
    return f"{statistics.median(values):.1f}{unit} ({each})"


def markdown(results: dict[str, Any], args: argparse.Namespace) -> str:
    names = list(results["checkouts"])
    out = ["# An idle `modstream up` on an existing broker", "",
           f"`python bench/bench_idle.py --model MODEL --brokers {args.brokers}"
           + (" --compare-src OTHER" if args.compare_src else "")
           + f" --rounds {args.rounds} --seconds {args.seconds:g}`; "
           f"{results['machine_before']['cores']} cores, {results['machine_before']['time']}, "
           f"{load_note(results['machine_before'])} before, "
           f"{load_note(results['machine_after'])} after.", "",
           "Checkouts: " + ", ".join(f"{n} = {results['checkouts'][n]}" for n in names) + ".",
           "Shares of one core over each sample; medians over the rounds, each round in brackets.",
           "", "| broker | what runs | broker CPU | `up`'s own CPU | up after |",
           "|---|---|---|---|---|"]  # fmt: skip
    for entry in results["brokers"]:
        rows, label = entry["rows"], entry["broker"]
        out.append(f"| {label} | nothing | {cell(rows, 'broker alone', 'broker_pct', '%')} | | |")
        for name in names:
            out.append(f"| {label} | `up` ({name}) | {cell(rows, name, 'broker_pct', '%')} "
                       f"| {cell(rows, name, 'up_pct', '%')} "
                       f"| {cell(rows, name, 'ready_s', ' s')} |")  # fmt: skip
    return "\n".join(out) + "\n"


def main() -> None:
    args = arguments()
    checkouts = {f"this checkout ({git_head(ROOT)})": ROOT}
    if args.compare_src is not None:
        checkouts[f"compared ({git_head(args.compare_src)})"] = args.compare_src.resolve()
    before = machine()
    entries = [run_broker(kind.strip(), args, checkouts) for kind in args.brokers.split(",")]
    results = {
        "machine_before": before,
        "machine_after": machine(),
        "checkouts": {name: str(path) for name, path in checkouts.items()},
        "seconds": args.seconds,
        "brokers": entries,
    }
    save("idle", results, markdown(results, args), args.out)


if __name__ == "__main__":
    main()

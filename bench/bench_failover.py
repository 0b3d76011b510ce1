"""Time to resume after the leader broker dies, on a three-node Apache Kafka.

    python bench/bench_failover.py --model /tmp/model [--rate 100] [--down 15]
        [--out bench/results/failover.md]

Runs the failover test's scenario (``tests/integration/failover_scenario.py``) once
at-least-once and once ``--exactly-once``: one ``modstream stream`` worker under a paced
load, the node leading its input, output and dead-letter topics SIGKILLed, restarted
``--down`` seconds later. Reports how long after the kill the first input sent after it
was answered, the longest silence of the output, and inputs lost or repeated.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the Apache Kafka harness and the scenario live in tests/

from tests.integration.failover_scenario import Failover, run_failover  # noqa: E402
from tests.kafka import KafkaCluster  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--rate", type=float, default=100.0, help="inputs per second")
    parser.add_argument("--down", type=float, default=15.0, help="seconds before the restart")
    parser.add_argument("--out", default="bench/results/failover.md")
    args = parser.parse_args()
    results: dict[str, Failover] = {}
    with tempfile.TemporaryDirectory(prefix="bench-failover-") as workdir:
        root = Path(workdir)
        with KafkaCluster(3, workdir=root / "kafka") as cluster:
            for mode in ("at-least-once", "exactly-once"):
                run_dir = root / mode
                run_dir.mkdir()
                results[mode] = run_failover(
                    cluster, Path(args.model), run_dir, exactly_once=mode == "exactly-once",
                    rate=args.rate, down_s=args.down,
                )  # fmt: skip
                print(f"{mode}: resumed {results[mode].resume_s:.1f} s after the kill", flush=True)
    report = render(args, results)
    Path(args.out).write_text(report)
    print(report)


def render(args: argparse.Namespace, results: dict[str, Failover]) -> str:
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    rows = []
    for mode, run in results.items():
        lost = len(run.inputs - set(run.answers))
        repeated = sum(n - 1 for n in run.answers.values())
        rows.append(
            f"| {mode} | {run.resume_s:.1f} s | {run.longest_gap_s:.1f} s | {len(run.inputs):,}"
            f" | {lost} | {repeated} | {'yes' if run.healed else 'NO'} |"
        )
    table = "\n".join(rows)
    return f"""## Broker failover (`bench/bench_failover.py`)

Apache Kafka 4 (KRaft), three nodes on this machine (replication factor 3,
`min.insync.replicas=2`, default `broker.session.timeout.ms` of 9 s); one `modstream stream`
worker at a paced {args.rate:g} inputs/s; the node leading the input, output and
dead-letter topics SIGKILLed, restarted {args.down:g} s later. Load: `{load}`.

| mode | time to resume | longest output silence | inputs | lost | repeated | healed |
|---|---|---|---|---|---|---|
{table}

Time to resume: from the SIGKILL to the first answer, seen by a `read_committed` reader,
to an input sent after the kill. Leadership moves once the controller fences the dead
broker, after `broker.session.timeout.ms` without its heartbeat; the worker's queued
answers are delivered to the new leader by the idempotent producer, so nothing is lost.
"""


if __name__ == "__main__":
    main()

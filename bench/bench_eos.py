"""Exactly-once throughput as a share of at-least-once, on a three-node Apache Kafka.

    python bench/bench_eos.py --model /tmp/model [--data CSV] [--messages 20000]
        [--rounds 3] [--out bench/results/eos.md]

Starts a three-node KRaft cluster (replication factor 3, ``min.insync.replicas=2``) with
the test harness, warms it up as ``bench_stream.py`` warms a broker (untimed drains until
its CPU per answer settles), then for each round measures one ``modstream stream`` worker
draining the same backlog into fresh topics, at-least-once and then ``--exactly-once``
(the order alternates between rounds so a drift in machine load does not favour one mode).
Throughput is taken as ``bench_stream.py`` takes it (answers as its reader receives them,
the backlog loaded by a separate process); the reader is ``read_committed`` (librdkafka's
default), so an exactly-once answer counts once its transaction commits.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the Apache Kafka harness lives in tests/kafka

from bench_stream import Bench, warm_up  # noqa: E402
from stream_kit import PARTITIONS, dev_data, drains_note, write_texts  # noqa: E402

from modstream.datasets import read_dataset  # noqa: E402
from tests.kafka import KafkaCluster  # noqa: E402


def sustained(cluster: KafkaCluster, args: argparse.Namespace, texts: Path,
              exactly_once: bool) -> float:  # fmt: skip
    """Messages/s of one worker draining a backlog loaded before it starts."""
    options = ("--exactly-once",) if exactly_once else ()
    result = Bench(cluster, args, texts).sustained(1, *options)
    if result["lost"]:
        raise RuntimeError(f"only {result['answered']} of {args.messages} answered")
    return float(result["rate"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default=str(dev_data()))
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--max-batch", type=int, default=256)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--warm-up-drains", type=int, default=8, help="most untimed drains before timing"
    )
    parser.add_argument("--out", default="bench/results/eos.md")
    args = parser.parse_args()
    args.worker_option = []
    corpus = read_dataset(args.data).texts
    texts = [corpus[i % len(corpus)] for i in range(args.messages)]
    results: dict[bool, list[float]] = {False: [], True: []}
    drains: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-eos-") as workdir, \
            KafkaCluster(3, workdir=Path(workdir)) as cluster:  # fmt: skip
        texts_file = write_texts(texts, Path(workdir) / "texts.jsonl")
        if args.warm_up_drains > 0:  # a fresh JVM compiles over its first drains
            drains = warm_up(Bench(cluster, args, texts_file), "kafka", args.warm_up_drains)
        for round_ in range(args.rounds):
            for exactly_once in (False, True) if round_ % 2 == 0 else (True, False):
                rate = sustained(cluster, args, texts_file, exactly_once)
                results[exactly_once].append(rate)
                mode = "exactly-once" if exactly_once else "at-least-once"
                print(f"round {round_ + 1} {mode}: {rate:,.0f} msg/s", flush=True)
    report = render(args, results, drains)
    Path(args.out).write_text(report)
    print(report)


def render(args: argparse.Namespace, results: dict[bool, list[float]], drains: list[dict]) -> str:
    alo, eos = statistics.median(results[False]), statistics.median(results[True])
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    rows = "\n".join(
        f"| {i + 1} | {a:,.0f} | {e:,.0f} | {e / a:.0%} |"
        for i, (a, e) in enumerate(zip(results[False], results[True], strict=True))
    )
    warmed = (
        "Timed after untimed at-least-once drains that warmed the cluster up until its CPU per "
        "answer settled (msg/s, brokers' CPU ms per answer): " + drains_note(drains) + "."
        if drains
        else "Timed without warming the cluster up first."
    )
    return f"""## Exactly-once vs at-least-once (`bench/bench_eos.py`)

Apache Kafka 4 (KRaft), three nodes on this machine, replication factor 3,
`min.insync.replicas=2`, {PARTITIONS} input partitions; one `modstream stream` worker,
`--max-batch {args.max_batch} --max-wait-ms {args.max_wait_ms:g}`, {args.messages:,} messages per run,
{platform.processor() or platform.machine()} with {os.cpu_count()} cores; load: `{load}`.
{warmed}

| round | at-least-once msg/s | exactly-once msg/s | share |
|---|---|---|---|
{rows}
| **median** | **{alo:,.0f}** | **{eos:,.0f}** | **{eos / alo:.0%}** |

Each exactly-once batch is one transaction (answers, dead letters and consumed offsets
committed together), so its cost is one transaction commit per batch on top of the
at-least-once offset commit; larger batches amortise it.
"""


if __name__ == "__main__":
    main()

"""Model rollout on the stream: switch time, losses and latency, and the cost of a shadow.

    python bench/bench_swap.py switch [--rate 500] [--seconds 60] [--workers 2]
        [--no-events] [--exactly-once] [--v1 DIR --v2 DIR] [--data CSV]
        [--kafka | --bootstrap-servers HOST:PORT]
    python bench/bench_swap.py shadow [--messages 20000] [--v1 DIR --v2 DIR] [--data CSV]
    python bench/bench_swap.py policy [--rate 500] [--seconds 60] [--workers 2] [--v1 DIR --v2 DIR]

``switch``: ``modstream stream --registry --workers N`` under a steady stream of keyed
comments; a third of the way in, ``promote v2``; two thirds in, ``rollback``. Reports,
per event, the time from the event (its ``at``) to the first answer of the new version
on each input partition (every worker owns some partitions, so the slowest partition is
the slowest worker), the inputs the broker acknowledged and how many of them were left
unanswered once no answer came for 15 s (and, after the workers stopped, how many inputs
were past their committed offsets or dead-lettered: what explains an unanswered one),
answers repeated, whether any partition ever went back and forth within a switch (a
batch mixing versions would), and the p99 latency (sent to answer read) in steady state
and in the 5 s after each event, also per 5 s of sending.
``--no-events`` runs the same without the events: the baseline the latency is read against.

``shadow``: one worker drains a backlog of ``--messages`` comments, once with the champion
alone and once with a shadow of equal cost (another version trained the same way);
reports both throughputs, their ratio, and the shadow topic's record count (a shadow
that never ran would show a ratio near 1 and no shadow answers).

``policy``: the same load on workers following a policies topic that first keeps every
comment; a third of the way in the policy changes to remove every comment, two thirds in
back to keep. Reports, per change, the time from writing it to the first answer with the
new decision on each input partition, and how often the decision changed per partition
(twice when each worker switched once and never went back).

Without ``--v1/--v2`` two versions are trained on the demo corpus (equal cost). With
``--bootstrap-servers`` an existing Kafka is used, with ``--kafka`` a one-node Apache
Kafka is started (the test harness in tests/kafka), else an embedded broker.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
from confluent_kafka import Producer
from swap_kit import (
    Reader,
    Row,
    Stream,
    changes,
    comment,
    count_records,
    drain,
    event_time,
    first_answers,
    seconds_until,
    train_versions,
    under_load,
)

from modstream.broker import EmbeddedBroker
from modstream.policy import Thresholds
from modstream.policy.rules import DEFAULT
from modstream.policy.source import write_policy


def switch(args: argparse.Namespace, bootstrap: str, v1: str, v2: str) -> dict[str, Any]:
    extra = ["--exactly-once"] if args.exactly_once else []
    stream = Stream(bootstrap, v1, v2, args.workers, *extra)

    def promote() -> float:
        return event_time(stream.admin.promote(str(stream.v2))[0].at)

    def rollback() -> float:
        return event_time(stream.admin.rollback()[0].at)

    def nothing() -> float:
        return time.time()

    events = [nothing, nothing] if args.no_events else [promote, rollback]
    rows, sent, times = under_load(stream, args.rate, args.seconds, args.texts, events)
    result = summarise(rows, sent, list(zip(times, (stream.v2, stream.v1), strict=True)))
    return {**result, **inputs_at_the_end(stream, rows)}


def summarise(
    rows: list[Row], sent: dict[str, float], events: list[tuple[float, str]]
) -> dict[str, Any]:
    first = first_answers(rows)
    switches = [
        {
            "to": version,
            "seconds_per_partition": seconds_until(first, at, lambda r, v=version: r.version == v),
        }
        for at, version in events
    ]
    latency = {r.key: r.read - sent[r.key] for r in first.values() if r.key in sent}
    start = min(sent.values())
    steady = [lat for k, lat in latency.items() if sent[k] - start > 5 and sent[k] < events[0][0]]
    during = [lat for k, lat in latency.items()
              if any(at <= sent[k] < at + 5 for at, _ in events)]  # fmt: skip
    buckets: dict[int, list[float]] = {}
    for key, lat in latency.items():
        buckets.setdefault(int((sent[key] - start) // 5) * 5, []).append(lat)
    return {
        "sent": len(sent),
        "repeated_answers": len(rows) - len(first),
        "switches": switches,
        "version_changes_per_partition": changes(first, lambda r: r.version),
        "p99_steady_ms": p99_ms(steady),
        "p99_switch_ms": p99_ms(during),
        "events_at_s": [round(at - start, 1) for at, _ in events],
        "p99_ms_by_5s_sent": {t: p99_ms(v) for t, v in sorted(buckets.items())},
    }


def inputs_at_the_end(stream: Stream, rows: list[Row]) -> dict[str, Any]:
    """Inputs the broker never acknowledged, acknowledged ones never answered, and (after
    the workers stopped) inputs past their committed offsets and dead letters."""
    answered = {r.key for r in rows}
    return {
        "acknowledged": len(stream.acknowledged),
        "unanswered": len(stream.acknowledged - answered),
        "inputs_at_the_end": stream.behind(),
    }


def p99_ms(seconds: list[float]) -> float | None:
    return round(1000 * float(np.percentile(seconds, 99)), 1) if seconds else None


def policy(args: argparse.Namespace, bootstrap: str, v1: str, _v2: str) -> dict[str, Any]:
    config, topic = {"bootstrap.servers": bootstrap}, f"policies-{uuid.uuid4().hex[:8]}"
    write_policy(config, topic, DEFAULT, Thresholds(remove=1.0))  # every comment kept

    def setting(remove: float) -> Callable[[], float]:
        def change() -> float:
            at = time.time()  # before the write: the delay includes the write itself
            write_policy(config, topic, DEFAULT, Thresholds(remove=remove))
            return at

        return change

    stream = Stream(bootstrap, v1, v1, args.workers, "--policies-topic", topic)
    events = [setting(0.0), setting(1.0)]  # everything removed, then everything kept again
    rows, sent, times = under_load(stream, args.rate, args.seconds, args.texts, events)
    first = first_answers(rows)
    return {
        "sent": len(sent),
        **inputs_at_the_end(stream, rows),
        "changes": [
            {
                "to": decision,
                "seconds_per_partition": seconds_until(
                    first, at, lambda r, d=decision: r.decision == d
                ),
            }
            for at, decision in zip(times, ("remove", "keep"), strict=True)
        ],
        "decision_changes_per_partition": changes(first, lambda r: r.decision),
    }


def shadow(args: argparse.Namespace, bootstrap: str, v1: str, v2: str) -> dict[str, Any]:
    rates, shadowed, unanswered = {}, 0, {}
    for label in ("champion alone", "champion + shadow"):
        stream = Stream(bootstrap, v1, v2, 1)
        try:
            if label != "champion alone":
                stream.admin.shadow(str(stream.v2))
            producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
            for n in range(args.messages):
                producer.produce(stream.input, key=f"c-{n}".encode(), value=comment(args.texts, n))
                if n % 1000 == 0:
                    producer.poll(0)
            producer.flush(60)
            reader = Reader(bootstrap, stream.output)
            reader.start()
            stream.wait_ready()
            drain(reader, args.messages)
            reader.stopping.set()
            reader.join(30)
            stamps = sorted(r.produced for r in reader.rows)
            rates[label] = round((len(stamps) - 1) / (stamps[-1] - stamps[0]), 1)
            unanswered[label] = args.messages - len({r.key for r in reader.rows})
            shadowed = count_records(bootstrap, f"{stream.output}.shadow")
        finally:
            stream.stop()
    ratio = rates["champion + shadow"] / rates["champion alone"]
    return {
        "messages": args.messages, "per_second": rates, "ratio": round(ratio, 3),
        "unanswered": unanswered, "shadow_answers": shadowed,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["switch", "shadow", "policy"])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument(
        "--no-events", action="store_true", help="switch: the same run without promote/rollback"
    )
    parser.add_argument("--v1")
    parser.add_argument("--v2")
    parser.add_argument("--bootstrap-servers")
    parser.add_argument("--kafka", action="store_true", help="a one-node Apache Kafka (harness)")
    parser.add_argument("--exactly-once", action="store_true", help="switch: transactional workers")
    parser.add_argument(
        "--data", help="comments to send (a dataset CSV); default: short made-up ones"
    )
    args = parser.parse_args()
    args.texts = []
    if args.data:
        from modstream.datasets import read_dataset

        args.texts = read_dataset(args.data).texts
    with ExitStack() as stack:
        bootstrap = args.bootstrap_servers
        if args.kafka:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/kafka
            from tests.kafka import KafkaCluster

            workdir = Path(tempfile.mkdtemp(prefix="bench-swap-kafka-"))
            bootstrap = stack.enter_context(KafkaCluster(1, workdir=workdir)).bootstrap_servers
        elif bootstrap is None:
            bootstrap = stack.enter_context(EmbeddedBroker()).bootstrap_servers
        v1, v2 = args.v1, args.v2
        if not (v1 and v2):
            v1, v2 = train_versions(Path(tempfile.mkdtemp(prefix="bench-swap-")))
        run = {"switch": switch, "shadow": shadow, "policy": policy}[args.what]
        print(json.dumps(run(args, bootstrap, v1, v2), indent=2))


if __name__ == "__main__":
    main()

"""Model rollout on the stream: switch time, losses and latency, and the cost of a shadow.

    python bench/bench_swap.py switch [--rate 500] [--seconds 60] [--workers 2]
        [--no-events] [--exactly-once] [--v1 DIR --v2 DIR] [--data CSV]
        [--kafka | --bootstrap-servers HOST:PORT]
    python bench/bench_swap.py shadow [--messages 20000] [--v1 DIR --v2 DIR] [--data CSV]

``switch``: ``modstream stream --registry --workers N`` under a steady stream of keyed
comments; a third of the way in, ``promote v2``; two thirds in, ``rollback``. Reports,
per event, the time from the event (its ``at``) to the first answer of the new version
on each input partition (every worker owns some partitions, so the slowest partition is
the slowest worker), inputs left unanswered once no answer came for 15 s (and, after the
workers stopped, how many inputs were past their committed offsets or dead-lettered: what
explains an unanswered one), answers repeated, whether any partition ever went back and
forth within a switch (a batch mixing versions would), and the p99 latency (sent to answer
read) in steady state and in the 5 s after each event, also per 5 s of sending.
``--no-events`` runs the same without the events: the baseline the latency is read against.

``shadow``: one worker drains a backlog of ``--messages`` comments, once with the champion
alone and once with a shadow of equal cost (another version trained the same way);
reports both throughputs, their ratio, and the shadow topic's record count (a shadow
that never ran would show a ratio near 1 and no shadow answers).

Without ``--v1/--v2`` two versions are trained on the demo corpus (equal cost). With
``--bootstrap-servers`` an existing Kafka is used, with ``--kafka`` a one-node Apache
Kafka is started (the test harness in tests/kafka), else an embedded broker.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from confluent_kafka import Consumer, Producer, TopicPartition

from modstream.broker import EmbeddedBroker, free_port
from modstream.registry.admin import RegistryAdmin
from modstream.registry.client import Registry
from modstream.registry.publish import publish

PARTITIONS = 4
FAST = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "fetch.wait.max.ms": 5}


def train_versions(root: Path) -> tuple[str, str]:
    from modstream.demo import demo_dataset
    from modstream.model import save_model, train_model

    paths = []
    for name in ("v1", "v2"):
        model = train_model(demo_dataset(), "default", n_jobs=1)
        paths.append(str(save_model(model, root / name)))
    return paths[0], paths[1]


class Stream:
    """Topics, a registry and ``modstream stream --registry`` worker processes."""

    def __init__(self, bootstrap: str, v1: str, v2: str, workers: int, *extra: str) -> None:
        tag = uuid.uuid4().hex[:8]
        self.bootstrap = bootstrap
        self.input, self.output, self.topic = f"in-{tag}", f"out-{tag}", f"models-{tag}"
        config = {"bootstrap.servers": bootstrap}
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient(config)
        news = [NewTopic(t, num_partitions=PARTITIONS) for t in (self.input, self.output)]
        for future in admin.create_topics(news).values():
            future.result(30)
        self.registry = Registry(config, self.topic)
        cache = Path(tempfile.mkdtemp(prefix="bench-swap-cache-"))
        self.v1 = publish(self.registry, v1, cache=cache).version
        self.v2 = publish(self.registry, v2, cache=cache).version
        self.admin = RegistryAdmin(self.registry, "moderation")
        self.admin.promote(str(self.v1))
        self.metrics_port = free_port()
        self.group = f"g-{tag}"
        self.log = Path(f"/tmp/bench-swap-{tag}.log")
        command = [
            sys.executable, "-m", "modstream", "stream", "--registry", "--models-topic",
            self.topic, "--bootstrap-servers", bootstrap, "--input-topic", self.input,
            "--output-topic", self.output, "--group", self.group, "--workers", str(workers),
            "--metrics-port", str(self.metrics_port), *extra,
        ]  # fmt: skip
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        self.workers = workers

    def wait_ready(self, timeout: float = 180) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        ports = [self.metrics_port + i for i in range(self.workers)]
        while time.monotonic() < deadline:
            try:
                urls = [f"http://127.0.0.1:{p}/ready" for p in ports]
                if all(httpx.get(u, timeout=2).status_code == 200 for u in urls):
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        raise SystemExit(f"workers not ready; see {self.log}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)

    def behind(self) -> dict[str, int]:
        """Once the workers stopped: inputs past the group's committed offsets (never
        answered for good), and the records in the dead-letter topic."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": self.group})
        try:
            parts = [TopicPartition(self.input, p) for p in range(PARTITIONS)]
            behind = sum(
                _end(consumer, tp) - max(tp.offset, 0) for tp in consumer.committed(parts, 10)
            )
            dead = records_in(consumer, f"{self.input}.dlq")
            return {"not_committed": behind, "dead_lettered": dead}
        finally:
            consumer.close()

    def shadow_answers(self) -> int:
        """Records in the shadow topic (``<output>.shadow``)."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": self.group})
        try:
            return records_in(consumer, f"{self.output}.shadow")
        finally:
            consumer.close()


def _end(consumer: Consumer, tp: TopicPartition) -> int:
    return int(consumer.get_watermark_offsets(tp, timeout=10)[1])


def records_in(consumer: Consumer, topic: str) -> int:
    """Records ever written to ``topic``; 0 when it does not exist (nothing was written)."""
    topics = consumer.list_topics(timeout=10).topics
    if topic not in topics:
        return 0
    return sum(_end(consumer, TopicPartition(topic, p)) for p in topics[topic].partitions)


class Reader(threading.Thread):
    """Every answer: key, version, source partition/offset, its timestamp, when read."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.consumer = Consumer(
            {**FAST, "bootstrap.servers": bootstrap, "group.id": f"r-{uuid.uuid4().hex[:8]}",
             "auto.offset.reset": "earliest", "enable.auto.commit": False}
        )  # fmt: skip
        self.consumer.subscribe([topic])
        self.rows: list[tuple[str, str, int, int, float, float]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for m in self.consumer.consume(2000, 0.1):
                if m.error() is None:
                    head = {k: (v or b"").decode() for k, v in m.headers() or []}
                    self.rows.append((
                        m.key().decode(), head["modstream.model.version"],
                        int(head["modstream.source.partition"]),
                        int(head["modstream.source.offset"]),
                        m.timestamp()[1] / 1000.0, time.time(),
                    ))  # fmt: skip
        self.consumer.close()


def comment(texts: list[str], n: int) -> bytes:
    """The ``n``-th comment: a text of ``--data`` (cycled), else a short made-up one."""
    text = texts[n % len(texts)] if texts else f"comment number {n}, source?"
    return json.dumps({"data": {"ndarray": [text]}}).encode()


def feed(
    bootstrap: str,
    topic: str,
    rate: float,
    seconds: float,
    sent: dict[str, float],
    texts: list[str],
) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2})
    started, n = time.monotonic(), 0
    while (elapsed := time.monotonic() - started) < seconds:
        while n < int(elapsed * rate):
            key = f"c-{n}"
            producer.produce(topic, key=key.encode(), value=comment(texts, n))
            sent[key] = time.time()
            n += 1
        producer.poll(0)
        time.sleep(0.002)
    producer.flush(30)


def drain(reader: Reader, expected: int, quiet_s: float = 15.0) -> None:
    """Wait until every input is answered, or no new answer came for ``quiet_s``."""
    seen, last_change = 0, time.monotonic()
    while seen < expected and time.monotonic() - last_change < quiet_s:
        time.sleep(0.5)
        now = len({r[0] for r in reader.rows})
        if now != seen:
            seen, last_change = now, time.monotonic()


def event_time(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def switch(args: argparse.Namespace, bootstrap: str, v1: str, v2: str) -> dict[str, Any]:
    extra = ["--exactly-once"] if args.exactly_once else []
    stream = Stream(bootstrap, v1, v2, args.workers, *extra)
    try:
        stream.wait_ready()
        reader = Reader(bootstrap, stream.output)
        reader.start()
        sent: dict[str, float] = {}
        feeder = threading.Thread(
            target=feed, args=(bootstrap, stream.input, args.rate, args.seconds, sent, args.texts)
        )
        feeder.start()
        time.sleep(args.seconds / 3)
        promoted = (
            time.time()
            if args.no_events
            else event_time(stream.admin.promote(str(stream.v2))[0].at)
        )
        time.sleep(args.seconds / 3)
        rolled = time.time() if args.no_events else event_time(stream.admin.rollback()[0].at)
        feeder.join()
        drain(reader, len(sent))
        reader.stopping.set()
        reader.join(30)
    finally:
        stream.stop()  # the workers finish their batch and commit: then count what is left
    result = summarise(reader.rows, sent, [(promoted, stream.v2), (rolled, stream.v1)])
    return {**result, "inputs_at_the_end": stream.behind()}


def summarise(
    rows: list[tuple[str, str, int, int, float, float]],
    sent: dict[str, float],
    events: list[tuple[float, str | None]],
) -> dict[str, Any]:
    first: dict[tuple[int, int], tuple[str, float, float, str]] = {}
    for key, version, partition, offset, produced, read in rows:
        first.setdefault((partition, offset), (version, produced, read, key))
    switches = []
    for at, version in events:
        delays = {}
        for partition in range(PARTITIONS):
            times = [p for (part, _), (v, p, _, _) in first.items()
                     if part == partition and v == version and p >= at]  # fmt: skip
            delays[partition] = round(min(times) - at, 3) if times else None
        switches.append({"to": version, "seconds_per_partition": delays})
    flips = {}
    for partition in range(PARTITIONS):
        seq = [v for (part, _), (v, *_rest) in sorted(first.items()) if part == partition]
        flips[partition] = sum(1 for a, b in itertools.pairwise(seq) if a != b)
    latency = {key: read - sent[key] for (_, (_, _, read, key)) in first.items() if key in sent}
    steady = [
        lat
        for k, lat in latency.items()
        if sent[k] - min(sent.values()) > 5 and sent[k] < events[0][0]
    ]
    during = [lat for k, lat in latency.items()
              if any(at <= sent[k] < at + 5 for at, _ in events)]  # fmt: skip
    start = min(sent.values())
    buckets: dict[int, list[float]] = {}
    for key, lat in latency.items():
        buckets.setdefault(int((sent[key] - start) // 5) * 5, []).append(lat)
    return {
        "sent": len(sent),
        "unanswered": len(set(sent) - {r[0] for r in rows}),
        "repeated_answers": len(rows) - len(first),
        "switches": switches,
        "version_changes_per_partition": flips,
        "p99_steady_ms": round(1000 * float(np.percentile(steady, 99)), 1) if steady else None,
        "p99_switch_ms": round(1000 * float(np.percentile(during, 99)), 1) if during else None,
        "events_at_s": [round(at - start, 1) for at, _ in events],
        "p99_ms_by_5s_sent": {
            t: round(1000 * float(np.percentile(v, 99)), 1) for t, v in sorted(buckets.items())
        },
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
            stamps = sorted(r[4] for r in reader.rows)
            rates[label] = round((len(stamps) - 1) / (stamps[-1] - stamps[0]), 1)
            unanswered[label] = args.messages - len({r[0] for r in reader.rows})
            shadowed = stream.shadow_answers()
        finally:
            stream.stop()
    ratio = rates["champion + shadow"] / rates["champion alone"]
    return {
        "messages": args.messages, "per_second": rates, "ratio": round(ratio, 3),
        "unanswered": unanswered, "shadow_answers": shadowed,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["switch", "shadow"])
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
        run = switch if args.what == "switch" else shadow
        print(json.dumps(run(args, bootstrap, v1, v2), indent=2))


if __name__ == "__main__":
    main()

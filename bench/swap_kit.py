"""What the rollout benchmarks share: worker processes following a registry, a paced
keyed load, a reader that keeps every answer, and when each partition first showed a
change (``bench_swap.py`` runs them)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from modstream.broker import free_ports
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
        self.metrics_port = free_ports(workers)
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
        self.input_ends: dict[int, int] = {}  # partition -> last acknowledged offset + 1
        self.acknowledged: set[str] = set()  # keys of the inputs the broker acknowledged

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
            committed = {tp.partition: max(tp.offset, 0) for tp in consumer.committed(parts, 10)}
        finally:
            consumer.close()
        behind = sum(end - committed[p] for p, end in self.input_ends.items())
        dead = count_records(self.bootstrap, f"{self.input}.dlq")
        return {"not_committed": behind, "dead_lettered": dead}


def count_records(bootstrap: str, topic: str, idle_s: float = 3.0) -> int:
    """The committed records in ``topic``, read from its beginning until none came for
    ``idle_s``; 0 when it does not exist. (Not from watermarks: the embedded broker's
    high watermark is not the next record offset.)"""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"count-{uuid.uuid4().hex[:8]}",
         "enable.auto.commit": False, "isolation.level": "read_committed"}
    )  # fmt: skip
    try:
        topics = consumer.list_topics(timeout=10).topics
        if topic not in topics:
            return 0
        partitions = topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        count, last = 0, time.monotonic()
        while time.monotonic() - last < idle_s:
            read = sum(1 for m in consumer.consume(1000, 0.5) if m.error() is None)
            if read:
                count, last = count + read, time.monotonic()
        return count
    finally:
        consumer.close()


class Row(NamedTuple):
    """One answer as read: its key, version, decision, source input, produced and read times."""

    key: str
    version: str
    decision: str
    partition: int
    offset: int
    produced: float
    read: float


class Reader(threading.Thread):
    """Every answer of a topic, as ``Row``s in arrival order."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.consumer = Consumer(
            {**FAST, "bootstrap.servers": bootstrap, "group.id": f"r-{uuid.uuid4().hex[:8]}",
             "auto.offset.reset": "earliest", "enable.auto.commit": False}
        )  # fmt: skip
        self.consumer.subscribe([topic])
        self.rows: list[Row] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for m in self.consumer.consume(2000, 0.1):
                if m.error() is None:
                    head = {k: (v or b"").decode() for k, v in m.headers() or []}
                    self.rows.append(Row(
                        m.key().decode(), head["modstream.model.version"],
                        head["modstream.decision"], int(head["modstream.source.partition"]),
                        int(head["modstream.source.offset"]), m.timestamp()[1] / 1000.0,
                        time.time(),
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
    stream: Stream,
) -> None:
    """Send ``rate`` comments/s for ``seconds``; note when each key was sent, which the
    broker acknowledged and, per partition, the offset after the last acknowledged one."""
    ends = stream.input_ends

    def acknowledged(error: Any, message: Any) -> None:
        if error is None:
            ends[message.partition()] = max(ends.get(message.partition(), 0), message.offset() + 1)
            stream.acknowledged.add(message.key().decode())

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2})
    started, n = time.monotonic(), 0
    while (elapsed := time.monotonic() - started) < seconds:
        while n < int(elapsed * rate):
            key = f"c-{n}"
            producer.produce(
                topic, key=key.encode(), value=comment(texts, n), on_delivery=acknowledged
            )
            sent[key] = time.time()
            n += 1
        producer.poll(0)
        time.sleep(0.002)
    producer.flush(120)


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


def under_load(
    stream: Stream, rate: float, seconds: float, texts: list[str], events: list[Callable[[], float]]
) -> tuple[list[Row], dict[str, float], list[float]]:
    """Feed ``rate`` comments/s for ``seconds``, run the events at equal spacing, drain and
    stop the workers. Returns the answers, when each key was sent, and each event's time."""
    try:
        stream.wait_ready()
        reader = Reader(stream.bootstrap, stream.output)
        reader.start()
        sent: dict[str, float] = {}
        feeder = threading.Thread(
            target=feed,
            args=(stream.bootstrap, stream.input, rate, seconds, sent, texts, stream),
        )
        feeder.start()
        times = []
        for event in events:
            time.sleep(seconds / (len(events) + 1))
            times.append(event())
        feeder.join()
        drain(reader, len(sent))
        reader.stopping.set()
        reader.join(30)
    finally:
        stream.stop()  # the workers finish their batch and commit: then count what is left
    return reader.rows, sent, times


def first_answers(rows: list[Row]) -> dict[tuple[int, int], Row]:
    """The first answer of each input (partition, offset)."""
    first: dict[tuple[int, int], Row] = {}
    for row in rows:
        first.setdefault((row.partition, row.offset), row)
    return first


def seconds_until(
    first: dict[tuple[int, int], Row], at: float, shows: Callable[[Row], bool]
) -> dict[int, float | None]:
    """Per input partition, from ``at`` to the first answer produced after it that ``shows``
    the change (``None``: never)."""
    delays: dict[int, float | None] = {}
    for partition in range(PARTITIONS):
        times = [r.produced for (part, _), r in first.items()
                 if part == partition and r.produced >= at and shows(r)]  # fmt: skip
        delays[partition] = round(min(times) - at, 3) if times else None
    return delays


def changes(first: dict[tuple[int, int], Row], value: Callable[[Row], str]) -> dict[int, int]:
    """Per input partition, how often ``value`` changed from one input to the next."""
    result = {}
    for partition in range(PARTITIONS):
        seq = [value(r) for (part, _), r in sorted(first.items()) if part == partition]
        result[partition] = sum(1 for a, b in itertools.pairwise(seq) if a != b)
    return result

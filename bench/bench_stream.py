"""Kafka streaming benchmark on the embedded broker, all figures from one run.

    python bench/bench_stream.py --model /tmp/model [--data CSV] [--messages 20000]
        [--out bench/results/stream.md]

1. offline batch-predict throughput of the same model (batches of --max-batch texts);
2. one ``modstream stream`` worker's sustained throughput (output timestamps, first to last);
3. ``--workers 2`` the same way;
4. end-to-end latency (input produced -> output received by a consumer) at half of (2);
5. a 10,000-message burst into a running worker: how many inputs got no answer.

Each input is one comment as a Seldon request; its ``meta.puid`` carries its index and
send time, so answers are matched to inputs without broker watermarks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import numpy as np
from confluent_kafka import Consumer, Producer

from modstream.broker import EmbeddedBroker
from modstream.datasets import read_dataset
from modstream.model import load_model

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "rscience_dev.csv"
FAST = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "fetch.wait.max.ms": 5}
PARTITIONS = 4


def request(text: str, index: int) -> bytes:
    puid = f"{index}:{time.time_ns()}"
    return json.dumps({"data": {"ndarray": [text]}, "meta": {"puid": puid}}).encode()


def offline_throughput(model_dir: str, texts: list[str], batch: int) -> float:
    model = load_model(model_dir)
    model.predict_proba(texts[:batch])  # warm-up
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        model.predict_proba(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - start)


class Run:
    """Topics, a worker process and a reader for one measurement."""

    def __init__(self, broker: EmbeddedBroker, args: argparse.Namespace, workers: int) -> None:
        tag = uuid.uuid4().hex[:8]
        self.broker, self.args = broker, args
        self.input, self.output = f"in-{tag}", f"out-{tag}"
        broker.create_topics({self.input: PARTITIONS, self.output: PARTITIONS})
        self.log = Path(f"/tmp/bench-stream-{tag}.log")
        command = [
            sys.executable, "-m", "modstream", "stream", "--model", args.model,
            "--bootstrap-servers", broker.bootstrap_servers, "--input-topic", self.input,
            "--output-topic", self.output, "--group", f"g-{tag}", "--workers", str(workers),
            "--max-batch", str(args.max_batch), "--max-wait-ms", str(args.max_wait_ms),
        ]  # fmt: skip
        self.command = command
        self.workers = workers
        self.reader = Consumer(
            {**FAST, "bootstrap.servers": broker.bootstrap_servers, "group.id": f"r-{tag}",
             "auto.offset.reset": "earliest", "enable.auto.commit": False}
        )  # fmt: skip
        self.reader.subscribe([self.output])
        self.producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 1})

    def start_workers(self) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                self.command, stdout=sink, stderr=subprocess.STDOUT, env=env
            )

    def wait_assigned(self, timeout: float = 120) -> None:
        """Until every worker holds partitions (no rebalance during the measurement)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            held = {line.split("worker ")[-1].split()[0] for line in text.splitlines()
                    if " assigned " in line and not line.endswith("nothing")}  # fmt: skip
            if len(held) >= self.workers and "revoked" not in text.split("assigned")[-1]:
                time.sleep(4 if self.workers > 1 else 0.5)  # let a late rebalance settle
                self._reader_joined(deadline)
                return
            time.sleep(0.2)
        raise RuntimeError(f"workers did not join: {self.log.read_text()[-2000:]}")

    def _reader_joined(self, deadline: float) -> None:
        # The reader must hold its partitions before anything is sent, or the first
        # answers wait for its group join and the latency measures that instead.
        while not self.reader.assignment() and time.monotonic() < deadline:
            self.reader.consume(1, 0.1)

    def send(self, texts: list[str], rate: float | None = None) -> None:
        start = time.perf_counter()
        for i, text in enumerate(texts):
            if rate is not None:
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            self.producer.produce(self.input, value=request(text, i))
            self.producer.poll(0)
        self.producer.flush(60)

    def collect(self, count: int, timeout: float = 300) -> list[tuple[int, float, float]]:
        """(input index, send time, output timestamp) per answer; receive time in latency."""
        seen: dict[int, tuple[int, float, float]] = {}
        deadline = time.monotonic() + timeout
        while len(seen) < count and time.monotonic() < deadline:
            for message in self.reader.consume(5000, 0.002):
                if message.error() is not None:
                    continue
                received = time.time()
                index, sent_ns = json.loads(message.value())["meta"]["puid"].split(":")
                latency = received - int(sent_ns) / 1e9
                seen.setdefault(int(index), (int(index), latency, message.timestamp()[1] / 1e3))
        return list(seen.values())

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(60)
        self.reader.close()


def sustained(
    broker: EmbeddedBroker, args: argparse.Namespace, texts: list[str], workers: int
) -> float:
    run = Run(broker, args, workers)
    # The input is loaded before the workers start, so the load generator does not
    # compete with them for CPU: this measures the workers (and the broker) alone.
    run.send(texts)
    run.start_workers()
    try:
        run.wait_assigned()
        answers = run.collect(len(texts))
    finally:
        run.close()
    stamps = sorted(a[2] for a in answers)
    # Skip the first batch per worker: it measures the producer's start, not the worker.
    skip = min(len(stamps) // 10, args.max_batch * workers)
    return (len(stamps) - skip) / (stamps[-1] - stamps[skip])


def latency(
    broker: EmbeddedBroker, args: argparse.Namespace, texts: list[str], rate: float
) -> tuple[float, float, int]:
    run = Run(broker, args, 1)
    run.start_workers()
    try:
        run.wait_assigned()
        count = int(min(len(texts), rate * args.latency_seconds))
        answers: list[tuple[int, float, float]] = []
        # Read while sending, so every answer's receive time is when it arrived.
        reader = threading.Thread(target=lambda: answers.extend(run.collect(count)))
        reader.start()
        run.send(texts[:count], rate=rate)
        reader.join()
    finally:
        run.close()
    # The first second is warm-up (client connections, topic metadata): not measured.
    ms = np.array([a[1] for a in answers if a[0] >= rate]) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), len(ms)


def burst(broker: EmbeddedBroker, args: argparse.Namespace, texts: list[str]) -> tuple[int, float]:
    run = Run(broker, args, 1)
    size = 10_000
    batch = (texts * (size // len(texts) + 1))[:size]
    run.start_workers()
    try:
        run.wait_assigned()
        start = time.perf_counter()
        run.send(batch)
        answers = run.collect(size, timeout=300)
        elapsed = time.perf_counter() - start
    finally:
        run.close()
    return size - len({a[0] for a in answers}), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default=str(DEV))
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--max-batch", type=int, default=256)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--out", default="bench/results/stream.md")
    args = parser.parse_args()
    corpus = read_dataset(args.data).texts
    texts = [corpus[i % len(corpus)] for i in range(args.messages)]
    offline = offline_throughput(args.model, texts, args.max_batch)
    print(f"offline {offline:,.0f}/s", flush=True)
    with EmbeddedBroker() as broker:
        one = sustained(broker, args, texts, 1)
        print(f"one worker {one:,.0f}/s", flush=True)
        two = sustained(broker, args, texts, 2)
        print(f"two workers {two:,.0f}/s", flush=True)
        p50, p99, answered = latency(broker, args, texts, one / 2)
        print(f"latency p50 {p50:.1f} ms p99 {p99:.1f} ms ({answered})", flush=True)
        lost, drained = burst(broker, args, texts)
        print(f"burst lost {lost} in {drained:.1f}s", flush=True)
    report = render(args, offline, one, two, (p50, p99, answered), (lost, drained))
    Path(args.out).write_text(report)
    print(report)


def render(args: argparse.Namespace, offline: float, one: float, two: float,
           lat: tuple[float, float, int], burst_result: tuple[int, float]) -> str:  # fmt: skip
    p50, p99, answered = lat
    lost, drained = burst_result
    cpus = os.cpu_count()
    return f"""## Kafka streaming (`bench/bench_stream.py`)

Embedded broker (Tansu, in memory), {PARTITIONS} input partitions, one comment per Seldon
request, `--max-batch {args.max_batch} --max-wait-ms {args.max_wait_ms:g}`, {args.messages:,} messages,
{platform.processor() or platform.machine()} with {cpus} cores.
Throughput is measured from the output records' timestamps (first batch excluded), with
the input loaded before the workers start.

| measure | result | target |
|---|---|---|
| offline batch predict (same model, batches of {args.max_batch}) | {offline:,.0f} texts/s | - |
| one worker, sustained | {one:,.0f} msg/s ({one / offline:.0%} of offline) | >= 90% |
| two workers (`--workers 2`) | {two:,.0f} msg/s ({two / one:.2f}x one) | >= 1.7x |
| end-to-end at {one / 2:,.0f} msg/s (half of one worker), p50 | {p50:.1f} ms | - |
| end-to-end p99 ({answered:,} messages after a 1 s warm-up) | {p99:.1f} ms | <= 50 ms |
| 10,000-message burst: inputs without an answer | {lost} (drained in {drained:.1f} s) | 0 |

End-to-end latency is from the producer's send time (carried in `meta.puid`) to a consumer
receiving the answer, both on this machine. With 2 cores, two workers compete with the
broker, the load generator and the reader for CPU, so the 2-worker figure is a floor.
MLServer's Kafka server was not measured in this run.
"""


if __name__ == "__main__":
    main()

"""modstream's Kafka worker against MLServer's Kafka server, same model, one run.

    python bench/bench_mlserver.py --model /tmp/model [--messages 5000]
        [--mlserver /tmp/venv-mlserver/bin/mlserver] [--out bench/results/mlserver.md]

MLServer runs from its own virtualenv (``--mlserver``) with ``bench/mlserver_runtime.py``
serving the same artifact. Both systems read one comment per message from a 4-partition
topic on the embedded broker and write one answer per message; throughput is taken from
the output records' timestamps (first 10% excluded), and answers are counted by request id.
MLServer is measured with its default settings and again with adaptive batching.
Its virtualenv: ``pip install mlserver==1.7.1 uvloop==0.21.0`` plus modstream's runtime
dependencies and ``pip install --no-deps -e .`` (uvloop 0.23 stops its worker processes).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from confluent_kafka import Consumer, Producer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_stream

from modstream.broker import EmbeddedBroker, free_port
from modstream.datasets import read_dataset
from modstream.model import load_model

BENCH = Path(__file__).resolve().parent
MODEL_NAME = "modstream"


@dataclass
class Outcome:
    label: str
    rate: float
    answered: int
    sent: int
    max_diff: float
    errors: int


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_quiet(limit: float = 1.0, patience: float = 600) -> float:
    """Poll the 1-minute load every 20 s until it is at most ``limit`` (bounded)."""
    deadline = time.monotonic() + patience
    load = load_average()
    while load > limit and time.monotonic() < deadline:
        print(f"load {load:.2f} > {limit}: waiting", flush=True)
        time.sleep(20)
        load = load_average()
    return load


def rate_of(stamps: list[float], skip: int) -> float:
    """Answers per second between the ``skip``-th and the last output timestamp."""
    return (len(stamps) - skip) / max(stamps[-1] - stamps[skip], 1e-9)


def v2_request(text: str, request_id: str) -> bytes:
    tensor = {"name": "text", "shape": [1, 1], "datatype": "BYTES", "data": [text]}
    return json.dumps({"id": request_id, "inputs": [tensor]}).encode()


class MLServerRun:
    """Config in /tmp, an ``mlserver start`` process, and a reader of its output topic."""

    def __init__(self, broker: EmbeddedBroker, args: argparse.Namespace,
                 batching: tuple[int, float] | None) -> None:  # fmt: skip
        tag = uuid.uuid4().hex[:8]
        self.input, self.output = f"mls-in-{tag}", f"mls-out-{tag}"
        broker.create_topics(
            {self.input: bench_stream.PARTITIONS, self.output: bench_stream.PARTITIONS}
        )
        self.root = Path(f"/tmp/bench-mlserver-{tag}")
        self.http_port = free_port()
        self._write_config(broker.bootstrap_servers, args.model, batching)
        self.log = self.root / "mlserver.log"
        self.mlserver = args.mlserver
        self.reader = Consumer(
            {**bench_stream.FAST, "bootstrap.servers": broker.bootstrap_servers,
             "group.id": f"r-{tag}", "auto.offset.reset": "earliest", "enable.auto.commit": False}
        )  # fmt: skip
        self.reader.subscribe([self.output])
        self.producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 1})

    def _write_config(self, servers: str, model: str, batching: tuple[int, float] | None) -> None:
        (self.root / MODEL_NAME).mkdir(parents=True)
        settings = {
            "host": "127.0.0.1", "http_port": self.http_port, "grpc_port": free_port(),
            "metrics_port": free_port(), "kafka_enabled": True, "kafka_servers": servers,
            "kafka_topic_input": self.input, "kafka_topic_output": self.output,
        }  # fmt: skip
        model_settings: dict[str, object] = {
            "name": MODEL_NAME,
            "implementation": "mlserver_runtime.ModstreamRuntime",
            "parameters": {"uri": str(Path(model).resolve())},
        }
        if batching is not None:
            model_settings["max_batch_size"], model_settings["max_batch_time"] = batching
        (self.root / "settings.json").write_text(json.dumps(settings, indent=2))
        (self.root / MODEL_NAME / "model-settings.json").write_text(json.dumps(model_settings))

    def start(self, timeout: float = 180) -> None:
        env = {**os.environ, "PYTHONPATH": str(BENCH), "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [self.mlserver, "start", str(self.root)], stdout=sink, stderr=subprocess.STDOUT,
                env=env, cwd=self.root, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.http_port}/v2/models/{MODEL_NAME}/ready"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlserver exited: {self.log.read_text()[-3000:]}")
            if "Reading messages from consumer" in self.log.read_text(errors="replace"):
                try:
                    with urllib.request.urlopen(url, timeout=2) as response:
                        if response.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.5)
        raise RuntimeError(f"mlserver not ready: {self.log.read_text()[-3000:]}")

    def send(self, texts: list[str], prefix: str) -> None:
        headers = [("mlserver-model", MODEL_NAME.encode())]
        for i, text in enumerate(texts):
            self.producer.produce(
                self.input, value=v2_request(text, f"{prefix}{i}"), headers=headers
            )
            self.producer.poll(0)
        self.producer.flush(60)

    def collect(self, count: int, prefix: str, timeout: float, idle: float) -> dict[str, tuple]:
        """request id -> (output timestamp s, probabilities); stops when idle or at timeout."""
        seen: dict[str, tuple] = {}
        deadline = time.monotonic() + timeout
        last = time.monotonic()
        while len(seen) < count and time.monotonic() < deadline and time.monotonic() - last < idle:
            for message in self.reader.consume(5000, 0.05):
                if message.error() is not None:
                    continue
                last = time.monotonic()
                body = json.loads(message.value())
                if str(body.get("id", "")).startswith(prefix):
                    data = body["outputs"][0]["data"]
                    seen.setdefault(body["id"], (message.timestamp()[1] / 1e3, data))
        return seen

    def warm_up(self, texts: list[str], timeout: float = 90) -> None:
        """Until an answer comes back: MLServer's group-less consumer starts at "latest"."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.send(texts[:20], "w")
            if self.collect(20, "w", timeout=5, idle=5):
                self.collect(20, "w", timeout=10, idle=2)  # drain the rest of the warm-up
                return
        raise RuntimeError(f"mlserver answered nothing: {self.log.read_text()[-3000:]}")

    def close(self) -> None:
        if getattr(self, "process", None) is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.reader.close()


def mlserver(broker: EmbeddedBroker, args: argparse.Namespace, texts: list[str],
             batching: tuple[int, float] | None) -> Outcome:  # fmt: skip
    run = MLServerRun(broker, args, batching)
    try:
        run.start()
        run.reader.consume(1, 2.0)  # join the reader's group before anything is answered
        run.warm_up(texts)
        run.send(texts, "m")
        answers = run.collect(len(texts), "m", timeout=args.timeout, idle=30)
    finally:
        run.close()
    errors = run.log.read_text(errors="replace").count("ERROR")
    label = "MLServer, default settings" if batching is None else (
        f"MLServer, adaptive batching (max_batch_size {batching[0]}, max_batch_time {batching[1]:g} s)")  # fmt: skip
    if len(answers) < 2:
        return Outcome(label, 0.0, len(answers), len(texts), float("nan"), errors)
    stamps = sorted(stamp for stamp, _ in answers.values())
    rate = rate_of(stamps, len(stamps) // 10)
    return Outcome(
        label, rate, len(answers), len(texts), agreement(args.model, texts, answers), errors
    )


def agreement(model_dir: str, texts: list[str], answers: dict[str, tuple]) -> float:
    """Largest difference between MLServer's probabilities and the model's own."""
    expected = load_model(model_dir).predict_proba(texts)
    return max(
        float(np.max(np.abs(np.asarray(data, dtype=float) - expected[int(key[1:])])))
        for key, (_, data) in answers.items()
    )


def modstream(broker: EmbeddedBroker, args: argparse.Namespace, texts: list[str]) -> Outcome:
    """``bench_stream``'s sustained run (input loaded first), keeping the answer count."""
    run = bench_stream.Run(broker, args, 1)
    run.send(texts)
    run.start_workers()
    try:
        run.wait_assigned()
        answers = run.collect(len(texts), timeout=args.timeout)
    finally:
        run.close()
    stamps = sorted(a[2] for a in answers)
    rate = rate_of(stamps, min(len(stamps) // 10, args.max_batch))
    label = f"modstream `stream`, one worker (`--max-batch {args.max_batch} --max-wait-ms {args.max_wait_ms:g}`)"
    return Outcome(label, rate, len(answers), len(texts), 0.0, 0)


def mlserver_version(path: str) -> str:
    code = "import mlserver, aiokafka; print(mlserver.__version__, aiokafka.__version__)"
    command = [str(Path(path).with_name("python")), "-c", code]
    return subprocess.run(command, capture_output=True, text=True, timeout=60).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default=str(bench_stream.DEV))
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--max-batch", type=int, default=256)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--mlserver", default="/tmp/venv-mlserver/bin/mlserver")
    parser.add_argument(
        "--adaptive", default="32,0.01", help="max_batch_size,max_batch_time; '' skips"
    )
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--quiet-wait", type=float, default=600, help="seconds to wait for load <= 1"
    )
    parser.add_argument("--out", default="bench/results/mlserver.md")
    args = parser.parse_args()
    corpus = read_dataset(args.data).texts
    texts = [corpus[i % len(corpus)] for i in range(args.messages)]
    load = wait_quiet(patience=args.quiet_wait)
    print(f"load average {load:.2f}", flush=True)
    with EmbeddedBroker() as broker:
        ours = modstream(broker, args, texts)
        print(ours, flush=True)
        outcomes = [mlserver(broker, args, texts, None)]
        print(outcomes[-1], flush=True)
        if args.adaptive:
            size, seconds = args.adaptive.split(",")
            outcomes.append(mlserver(broker, args, texts, (int(size), float(seconds))))
            print(outcomes[-1], flush=True)
    report = render(args, load, ours, outcomes, mlserver_version(args.mlserver))
    Path(args.out).write_text(report)
    print(report)


def render(args: argparse.Namespace, load: float, ours: Outcome, outcomes: list[Outcome],
           versions: str) -> str:  # fmt: skip
    from importlib.metadata import version

    rows = "\n".join(
        f"| {o.label} | {o.rate:,.0f} | {o.answered:,}/{o.sent:,} | {ours.rate / o.rate if o.rate else float('inf'):.1f}x |"
        for o in outcomes
    )
    checks = "; ".join(
        f"{o.label}: max |diff| {o.max_diff:.2g}, {o.errors} ERROR log lines" for o in outcomes
    )
    return f"""## modstream vs MLServer over Kafka (`bench/bench_mlserver.py`)

    python bench/bench_mlserver.py --model {args.model} --messages {args.messages}

Same artifact, same {args.messages:,} comments (one per message), same embedded broker
(Tansu, in memory, {bench_stream.PARTITIONS} partitions), {os.cpu_count()} cores, 1-minute load average
{load:.2f} before the measurements. modstream {version("modstream")}; MLServer and aiokafka
{versions} (own virtualenv, `bench/mlserver_runtime.py` as its runtime).
Throughput from the output records' timestamps, first 10% excluded (modstream: at most its first batch of {args.max_batch}).

| system | msg/s | answered/sent | modstream / it |
|---|---|---|---|
| {ours.label} | {ours.rate:,.0f} | {ours.answered:,}/{ours.sent:,} | - |
{rows}

Issue target: modstream >= 8x MLServer's per-message throughput.

Setup notes: MLServer keeps its defaults except the ports (127.0.0.1) and Kafka settings:
`parallel_workers` 1 (inference in one worker process), INFO log line per message, one
`send_and_wait` per answer. Its Kafka consumer has no group and starts at the "latest"
offset, so its input is sent after a 20-message warm-up was answered (a burst of
{args.messages:,} messages produced as fast as the client goes), while modstream's input is loaded before the
worker starts. MLServer's answers are collected until all arrived or 30 s pass without one.
Answer check ({checks}).
"""


if __name__ == "__main__":
    main()

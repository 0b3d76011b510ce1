"""Monitor benchmarks: memory per million pending predictions, and records per second.

    python bench/bench_monitor.py memory [--rows 1000000]
    python bench/bench_monitor.py core [--records 200000]
    python bench/bench_monitor.py kafka [--records 200000]
    python bench/bench_monitor.py drift [--data CSV] [--repeats 5]
    python bench/bench_monitor.py worker --model DIR [--data CSV] [--messages 20000] [--rounds 3]
    python bench/bench_monitor.py headers --model DIR [--data CSV] [--rounds 3]

``memory``: the monitor's tables after N predictions that have no decision yet (the state
a monitor holds while labels lag), as the tables' own bytes and as the process's resident
memory growth. ``core``: predictions and decisions applied per second on one core from
raw record bytes (parsing included, no broker). ``kafka``: the same through ``modstream
monitor``'s loop from the embedded broker, pinned to one core. ``drift``: detection delay
against shift size. ``worker``: the stream worker's throughput with and without the
monitor running beside it. ``headers``: what measuring the drift inputs costs per text,
against the model call itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from modstream.monitor import DecisionBatch, Monitor, PredictionBatch, parse_decision

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "rscience_dev.csv"
T0 = 1_790_000_000.0
BATCH = 5_000


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def answer(i: int, p: float) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and headers of a worker answer for comment ``i``."""
    value = {
        "data": {"names": ["t:0", "t:1"], "ndarray": [[1 - p, p]]},
        "meta": {"puid": f"{i:032x}", "tags": {"model_name": "moderation", "model_version": "v1"}},
    }
    headers = [
        ("modstream.source.topic", b"comments"),
        ("modstream.source.partition", b"0"),
        ("modstream.source.offset", str(i).encode()),
        ("modstream.community", f"c{i % 50}".encode()),
        ("modstream.model.name", b"moderation"),
        ("modstream.model.version", b"v1"),
        ("modstream.model.threshold", b"0.5"),
        ("modstream.text.chars", b"120"),
        ("modstream.text.oov", b"0.050"),
    ]
    return f"t1_{i:012d}".encode(), json.dumps(value).encode(), headers


def decision(i: int, removed: bool, at: float) -> bytes:
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
    return json.dumps(
        {"id": f"t1_{i:012d}", "removed": removed, "source": "moderator", "at": iso}
    ).encode()


def memory(rows: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    records = [answer(i, float(p)) for i, p in enumerate(rng.random(BATCH))]
    monitor = Monitor()
    before = _rss_mb()
    for start in range(0, rows, BATCH):
        batch = PredictionBatch()
        for j, (_, value, headers) in enumerate(records):
            batch.add(f"t1_{start + j:012d}".encode(), value, headers, int((T0 + start + j) * 1000))
        monitor.add_predictions(batch)
    per_million = 1e6 / rows
    return {
        "pending predictions": rows,
        "tables MB per million": monitor.state.nbytes / 1e6 * per_million,
        "RSS growth MB per million": (_rss_mb() - before) * per_million,
    }


def core(records: int) -> dict[str, float]:
    rng = np.random.default_rng(1)
    answers = [answer(i, float(rng.random())) for i in range(records)]
    decided = [decision(i, bool(rng.integers(0, 2)), T0 + i + 60) for i in range(records)]
    monitor = Monitor()
    start = time.perf_counter()
    for lo in range(0, records, BATCH):
        batch = PredictionBatch()
        for i in range(lo, min(lo + BATCH, records)):
            key, value, headers = answers[i]
            batch.add(key, value, headers, int((T0 + i) * 1000))
        monitor.add_predictions(batch)
        decisions = DecisionBatch.empty()
        for i in range(lo, min(lo + BATCH, records)):
            decisions.add(parse_decision(decided[i], answers[i][0], T0 + i + 61))
        monitor.add_decisions(decisions)
    elapsed = time.perf_counter() - start
    report_start = time.perf_counter()
    monitor.tick(time.time())
    return {
        "predictions + decisions per second": 2 * records / elapsed,
        "tick (report) seconds": time.perf_counter() - report_start,
        "labelled rows": records,
    }


def drift(data: Path, repeats: int) -> dict[str, object]:
    """Comments until the first alert after a step shift, per kind of text and share replaced."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' text makers
    from modstream.monitor.drift import DriftDetector
    from tests.unit.monitor_shift import (
        KINDS,
        drift_inputs,
        off_distribution,
        reference_of,
        split_dev,
        train_on,
    )

    part, held_out = split_dev(data)
    model = train_on(part)
    reference, clean = reference_of(model), drift_inputs(model, held_out)
    table: dict[str, dict[str, float | None]] = {}
    for kind in KINDS:
        off = drift_inputs(model, off_distribution(kind, 300))
        table[kind] = {}
        for share in (0.05, 0.1, 0.2, 0.3, 0.5, 1.0):
            delays = [
                _delay(DriftDetector, reference, clean, off, share, seed) for seed in range(repeats)
            ]
            found = [d for d in delays if d is not None]
            table[kind][f"{share:.0%}"] = float(np.median(found)) if len(found) == repeats else None
    rng = np.random.default_rng(99)
    detector = DriftDetector({"v": reference})
    rows = clean[rng.integers(0, len(clean), 100_000)]
    false_alarms = sum(
        sum(a.raised for a in detector.observe("v", *rows[i : i + 1000].T, clock=0.0))
        for i in range(0, len(rows), 1000)
    )
    return {
        "median comments to alert (None: not within 5,000)": table,
        "false alarms in 100,000 clean": false_alarms,
    }


def _delay(
    detector_class: type,
    reference: dict,
    clean: np.ndarray,
    off: np.ndarray,
    share: float,
    seed: int,
) -> int | None:
    rng = np.random.default_rng(seed)
    detector = detector_class({"v": reference})
    detector.observe("v", *clean[rng.integers(0, len(clean), 2000)].T, clock=0.0)
    shifted = clean[rng.integers(0, len(clean), 5000)].copy()
    replaced = rng.random(5000) < share
    shifted[replaced] = off[rng.integers(0, len(off), int(replaced.sum()))]
    for start in range(0, 5000, 100):
        if detector.observe("v", *shifted[start : start + 100].T, clock=0.0):
            return start + 100
    return None


def kafka(records: int) -> dict[str, float]:
    """``modstream monitor``'s loop reading prepared topics, pinned to one core."""
    import threading

    from confluent_kafka import Producer

    from modstream.broker import EmbeddedBroker
    from modstream.monitor.service import build_runner
    from modstream.settings.monitor import MonitorSettings

    rng = np.random.default_rng(2)
    with EmbeddedBroker() as broker:  # started before pinning: the broker keeps both cores
        broker.create_topics({"predictions": 4, "decisions": 4, "decisions.dlq": 1})
        producer = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 50})
        for i in range(records):
            key, value, headers = answer(i, float(rng.random()))
            _produce(producer, "predictions", key, value, headers)
            _produce(producer, "decisions", key, decision(i, bool(i % 3 == 0), T0 + i), [])
        producer.flush(120)
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        settings = MonitorSettings(
            bootstrap_servers=broker.bootstrap_servers, predictions_topic="predictions",
            decisions_topic="decisions", port=0, tick_s=10, records_per_poll=5000,
        )  # fmt: skip
        runner, stop = build_runner(settings), threading.Event()
        thread = threading.Thread(target=runner.run, args=(stop,))
        start = time.perf_counter()
        thread.start()
        while (
            runner.monitor.state.counters.decisions < records
            or runner.monitor.state.counters.predictions < records
        ):
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        stop.set()
        thread.join()
    return {
        "records": 2 * records,
        "predictions + decisions per second (one core, from Kafka)": 2 * records / elapsed,
    }


def worker(model: str, data: Path, messages: int, rounds: int) -> dict[str, object]:
    """One worker's sustained throughput alone and with ``modstream monitor`` beside it."""
    rates = _worker_rates(
        {"alone": (model, False), "with monitor": (model, True)}, data, messages, rounds
    )
    alone, beside = float(np.median(rates["alone"])), float(np.median(rates["with monitor"]))
    return {
        "worker comments/s alone (median)": alone,
        "worker comments/s with the monitor beside it (median)": beside,
        "change": beside / alone - 1.0,
        "rounds": rates,
    }


def _worker_rates(
    cases: dict[str, tuple[str, bool]], data: Path, messages: int, rounds: int
) -> dict[str, list[float]]:
    """One worker draining a keyed burst (as the stream benchmark measures it), per case
    (model dir, monitor beside?), rounds alternating so the machine's load hits all alike."""
    import tempfile

    from stream_kit import AnswerReader, LoadProcess, answer_rate, broker, new_topics, write_texts
    from stream_worker import ModstreamWorkers

    from modstream.datasets import read_dataset

    texts = write_texts(read_dataset(str(data)).texts, Path(tempfile.mkdtemp()) / "texts.jsonl")
    rates: dict[str, list[float]] = {case: [] for case in cases}
    with broker("embedded") as server:
        for _ in range(rounds):
            for case, (model, monitored) in cases.items():
                source, answers = new_topics(server, "in", "out")
                worker = ModstreamWorkers(server.bootstrap_servers, model, (source, answers))
                reader = AnswerReader(server.bootstrap_servers, answers).join_group()
                monitor = _start_monitor(server, answers, model) if monitored else None
                try:
                    worker.start()
                    load = LoadProcess(server.bootstrap_servers, source, texts, messages).wait()
                    reader.wait_for(load.prefix, load.count, timeout=600)
                finally:
                    worker.stop()
                    reader.close()
                    if monitor is not None:
                        monitor.terminate()
                        monitor.wait(60)
                rates[case].append(answer_rate(load, reader, skip_first=load.count // 10))
    return rates


def _start_monitor(broker: object, topic: str, model: str) -> subprocess.Popen[bytes]:
    """``modstream monitor`` on ``topic``, returned once it reads (its start-up, seconds of
    imports and artifact checks, is not part of what the worker's rate measures)."""
    import urllib.request

    from modstream.broker import free_port

    decisions, port = f"{topic}.decisions", free_port()
    broker.create_topics({decisions: 1})  # type: ignore[attr-defined]
    servers = broker.bootstrap_servers  # type: ignore[attr-defined]
    command = [
        sys.executable, "-m", "modstream", "monitor", "--bootstrap-servers", servers,
        "--predictions-topic", topic, "--decisions-topic", decisions, "--model", model,
        "--port", str(port),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1) as ready:
                if ready.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the monitor did not become ready")


def headers(model: str, data: Path, rounds: int) -> dict[str, float]:
    """What the drift inputs add to the worker: their cost per text against the model's."""
    from modstream.dataplane import DataPlane
    from modstream.datasets import read_dataset
    from modstream.model import load_model
    from modstream.model.reference import TextProfile

    loaded = load_model(model)
    profile = TextProfile.of(loaded.training)
    assert profile is not None, f"{model} has no reference (retrain it)"
    plane, texts = DataPlane(loaded), read_dataset(str(data)).texts
    batches = [texts[i : i + 256] for i in range(0, len(texts), 256)]
    score, measure = [], []
    for _ in range(rounds):  # alternating, so the machine's load hits both alike
        start = time.perf_counter()
        for batch in batches:
            plane.score(batch)
        score.append(time.perf_counter() - start)
        start = time.perf_counter()
        for batch in batches:
            profile.measure(batch)
        measure.append(time.perf_counter() - start)
    per_text = 1e6 / len(texts)
    bare = _without_reference(loaded)
    rates = _worker_rates(
        {"with drift inputs": (model, False), "without": (bare, False)}, data, 10_000, rounds
    )
    with_inputs, without = (float(np.median(r)) for r in rates.values())
    return {
        "model call µs per text (median)": float(np.median(score)) * per_text,
        "drift inputs µs per text (median)": float(np.median(measure)) * per_text,
        "drift inputs as a share of the model call": float(np.median(measure) / np.median(score)),
        "worker comments/s with drift inputs (median)": with_inputs,
        "worker comments/s without (same model, no reference)": without,
        "change": with_inputs / without - 1.0,
    }


def _without_reference(model: object) -> str:
    """The same model saved without its reference: its worker sends no drift inputs."""
    import dataclasses
    import tempfile

    from modstream.model import save_model

    training = {k: v for k, v in model.training.items() if k != "reference"}  # type: ignore[attr-defined]
    out = Path(tempfile.mkdtemp(prefix="bench-bare-")) / "model"
    return str(save_model(dataclasses.replace(model, training=training), out))  # type: ignore[call-overload]


def _produce(producer: object, topic: str, key: bytes, value: bytes, headers: list) -> None:
    while True:
        try:
            producer.produce(topic, key=key, value=value, headers=headers)  # type: ignore[attr-defined]
            return
        except BufferError:
            producer.poll(0.05)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["memory", "core", "drift", "kafka", "worker", "headers"])
    parser.add_argument("--model", help="artifact directory (worker mode)")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DEV, help="the r/science dev sample")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    if args.mode in ("memory", "core"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    if args.mode == "memory":
        result = memory(args.rows)
    elif args.mode == "core":
        result = core(args.records)
    elif args.mode == "kafka":
        result = kafka(args.records)
    elif args.mode == "worker":
        result = worker(args.model, args.data, args.messages, args.rounds)
    elif args.mode == "headers":
        result = headers(args.model, args.data, args.rounds)
    else:
        result = drift(args.data, args.repeats)
    print(json.dumps({"mode": args.mode, "load": os.getloadavg(), **result}, indent=2))


if __name__ == "__main__":
    main()

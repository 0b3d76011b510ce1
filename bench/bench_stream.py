"""Kafka stream benchmark: the embedded broker and Apache Kafka side by side, one run.

    python bench/bench_stream.py --model MODEL_DIR [--quick] [--brokers embedded,kafka]

Per broker, with the load from a separate process (``stream_load.py``) and 4 partitions:

1. one worker's drain rate (keyed input loaded first; answers as read), against the
   model's offline batch throughput measured in the same run, after untimed drains
   that warm the broker up until its CPU per answer settles; two workers; on Apache
   Kafka also ``--exactly-once``;
2. at half of one worker's drain rate, keyed and unkeyed: end-to-end latency (produce ->
   answer read) and the broker's own one-hop floor (produce -> the same reader, no
   worker) at the same rate and keying; the worker's share = end-to-end - 2 x floor;
   and where the worker's time goes, from its ``/metrics`` stage histograms;
3. a 10,000-message burst into a running worker: inputs without an answer;
4. the one-hop floor at several rates: where each broker stops keeping up.

Writes ``bench/results/stream.md`` and ``stream.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stream_report
from stream_kit import (
    KEYINGS,
    AnswerReader,
    Broker,
    LoadProcess,
    answer_rate,
    broker,
    cpu_seconds,
    dev_data,
    duplicated,
    latencies_ms,
    listener_pids,
    lost_and_answered,
    machine,
    new_topics,
    percentiles,
    save,
    write_texts,
)  # fmt: skip
from stream_worker import ModstreamWorkers, stage_breakdown

from modstream.datasets import read_dataset
from modstream.model import load_model

# A broker is warm once two drains in a row each cost it within this share of the CPU
# the drain before did.
SETTLED = 0.2


def offline_throughput(model_dir: str, texts: list[str], batch: int) -> float:
    """The model alone: ``predict_proba`` on batches of ``batch`` texts, one thread."""
    model = load_model(model_dir)
    model.predict_proba(texts[:batch])  # warm-up
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        model.predict_proba(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - start)


class Bench:
    """The measurements of one broker; ``texts`` is the JSON-lines file the load reads."""

    def __init__(self, server: Broker, args: argparse.Namespace, texts: Path) -> None:
        self.server, self.args, self.texts = server, args, texts
        self.servers = server.bootstrap_servers
        self.broker_pids = listener_pids(self.servers)

    def workers(self, topics: list[str], count: int = 1, *extra: str) -> ModstreamWorkers:
        options = ("--max-batch", str(self.args.max_batch),
                   "--max-wait-ms", str(self.args.max_wait_ms), *self.args.worker_option,
                   *extra)  # fmt: skip
        return ModstreamWorkers(
            self.servers, self.args.model, (topics[0], topics[1]), workers=count, options=options
        )

    def sustained(self, count: int, *extra: str) -> dict[str, Any]:
        """Drain rate of ``count`` workers over a keyed backlog loaded before they start."""
        topics = new_topics(self.server, "in", "out")
        load = LoadProcess(self.servers, topics[0], self.texts, self.args.messages).wait()
        reader = AnswerReader(self.servers, topics[1]).join_group()
        workers = self.workers(topics, count, *extra)
        cpu = cpu_seconds(self.broker_pids)
        try:
            workers.start()
            reader.wait_for(load.prefix, load.count, timeout=600)
            cpu = cpu_seconds(self.broker_pids) - cpu
        finally:
            workers.stop()
            reader.close()
        rate = answer_rate(load, reader, skip_first=self.args.max_batch * count)
        lost, answered = lost_and_answered(load, reader)
        return {"rate": round(rate, 1), "answered": answered, "lost": lost,
                "broker_cpu_ms_per_answer": round(cpu * 1e3 / max(answered, 1), 3),
                "machine": machine()}  # fmt: skip

    def floor(self, rate: float, keyed: bool, seconds: float) -> dict[str, Any]:
        """Producer -> topic -> reader, no worker: the broker's one hop at ``rate``."""
        [topic] = new_topics(self.server, "floor")
        reader = AnswerReader(self.servers, topic).join_group()
        try:
            load = LoadProcess(self.servers, topic, self.texts, int(rate * seconds),
                               rate=rate, keyed=keyed).wait()  # fmt: skip
            reader.wait_for(load.prefix, load.count, timeout=seconds + 120, idle=15)
        finally:
            reader.close()
        return {"rate": round(rate, 1), **percentiles(latencies_ms(load, reader)),
                "lost": lost_and_answered(load, reader)[0], "machine": machine()}  # fmt: skip

    def end_to_end(self, rate: float, keyed: bool) -> dict[str, Any]:
        """Producer -> input -> worker -> output -> reader at ``rate``, with the stages."""
        topics = new_topics(self.server, "in", "out")
        workers = self.workers(topics)
        reader = AnswerReader(self.servers, topics[1]).join_group()
        try:
            workers.start()
            before = workers.scrape()
            cpu = [cpu_seconds(self.broker_pids), cpu_seconds([workers.pid])]
            load = LoadProcess(self.servers, topics[0], self.texts,
                               int(rate * self.args.latency_seconds), rate=rate, keyed=keyed).wait()  # fmt: skip
            reader.wait_for(load.prefix, load.count, timeout=self.args.latency_seconds + 120)
            breakdown = stage_breakdown(before, workers.scrape())
            cpu = [cpu_seconds(self.broker_pids) - cpu[0], cpu_seconds([workers.pid]) - cpu[1]]
        finally:
            workers.stop()
            reader.close()
        return {"rate": round(rate, 1), **percentiles(latencies_ms(load, reader)),
                "lost": lost_and_answered(load, reader)[0], "stages": breakdown,
                "cpu_ms_per_answer": {"broker": round(cpu[0] * 1e3 / load.count, 3),
                                      "worker": round(cpu[1] * 1e3 / load.count, 3)},
                "machine": machine()}  # fmt: skip

    def latency(self, rate: float, keying: str) -> dict[str, Any]:
        keyed = keying == "keyed"
        hop = self.floor(rate, keyed, self.args.latency_seconds)
        e2e = self.end_to_end(rate, keyed)
        share = {q: round(e2e[q] - 2 * hop[q], 2) for q in ("p50", "p99") if q in e2e and q in hop}
        return {"floor": hop, "end_to_end": e2e, "worker_share": share}

    def burst(self, size: int) -> dict[str, Any]:
        """``size`` keyed requests as fast as the client goes into a running worker."""
        topics = new_topics(self.server, "in", "out")
        workers = self.workers(topics)
        reader = AnswerReader(self.servers, topics[1]).join_group()
        try:
            workers.start()
            load = LoadProcess(self.servers, topics[0], self.texts, size).wait()
            reader.wait_for(load.prefix, load.count, timeout=600)
        finally:
            workers.stop()
            reader.close()
        lost, answered = lost_and_answered(load, reader)
        arrivals = [reader.arrivals[k] for k in reader.arrivals if k.startswith(load.prefix)]
        drained = (max(arrivals) - int(load.send_ns[0])) / 1e9 if arrivals else float("nan")
        return {"sent": size, "answered": answered, "lost": lost,
                "duplicates": duplicated(load, reader), "drained_s": round(drained, 2),
                "machine": machine()}  # fmt: skip


def warm_up(bench: Bench, kind: str, most: int) -> list[dict[str, Any]]:
    """Untimed drains until the broker's CPU per answer settles (at most ``most``).

    A broker in service is warm. A fresh Kafka JVM keeps compiling its hot paths over its
    first drains: on 2 cores its CPU per answer fell from 0.36 ms to 0.075 ms over five
    drains of 20,000, most of it the JIT compiler's threads, and that CPU is taken from the
    worker sharing the cores. Drains repeat, on both brokers alike, until two drains in a
    row each cost the broker within ``SETTLED`` of the one before (one such step is not
    enough: a compiling JVM went from 0.35 to 0.28 ms and then on down); all of them are
    reported.
    """
    drains: list[dict[str, Any]] = []
    while len(drains) < max(most, 1):
        drains.append(bench.sustained(1))
        last = drains[-1]
        print(f"[{kind}] warm-up drain {len(drains)}: {last['rate']:,.0f}/s, broker "
              f"{last['broker_cpu_ms_per_answer']:.3f} ms CPU per answer", flush=True)  # fmt: skip
        if len(drains) >= 3 and all(_settled(a, b) for a, b in pairwise(drains[-3:])):
            break
    return drains


def _settled(before: dict[str, Any], after: dict[str, Any]) -> bool:
    cost, earlier = after["broker_cpu_ms_per_answer"], before["broker_cpu_ms_per_answer"]
    return bool(abs(cost - earlier) <= SETTLED * earlier)


def measure(kind: str, server: Broker, args: argparse.Namespace, texts: Path) -> dict[str, Any]:
    bench = Bench(server, args, texts)
    result: dict[str, Any] = {"warm_up": warm_up(bench, kind, args.warm_up_drains)}
    result["one"] = bench.sustained(1)
    print(f"[{kind}] one worker {result['one']['rate']:,.0f}/s", flush=True)
    result["two"] = bench.sustained(2)
    print(f"[{kind}] two workers {result['two']['rate']:,.0f}/s", flush=True)
    if kind == "kafka":
        result["exactly_once"] = bench.sustained(1, "--exactly-once")
        print(f"[{kind}] exactly-once {result['exactly_once']['rate']:,.0f}/s", flush=True)
    rate = args.rate or result["one"]["rate"] / 2
    for keying in KEYINGS:
        result[keying] = bench.latency(rate, keying)
        print(f"[{kind}] {keying}: {stream_report.latency_line(result[keying])}", flush=True)
    result["burst"] = bench.burst(args.burst)
    print(f"[{kind}] burst: {result['burst']}", flush=True)
    result["sweep"] = [bench.floor(r, True, args.sweep_seconds) for r in args.sweep]
    return result


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default=str(dev_data()))
    parser.add_argument("--brokers", default="embedded,kafka")
    parser.add_argument("--quick", action="store_true", help="seconds, for a smoke check")
    parser.add_argument("--messages", type=int, default=20_000, help="backlog per drain run")
    parser.add_argument(
        "--warm-up-drains", type=int, default=8, help="most untimed drains before timing"
    )
    parser.add_argument("--max-batch", type=int, default=256)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=0.0, help="paced rate; 0: half of one worker")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--sweep", default="250,500,1000,2000,4000", help="floor rates")
    parser.add_argument("--sweep-seconds", type=float, default=8.0)
    parser.add_argument(
        "--worker-option",
        action="append",
        default=[],
        help="extra `modstream stream` argument (repeat; e.g. --worker-option=--kafka-config=linger.ms=0)",
    )
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.messages, args.latency_seconds, args.burst = 2_000, 3.0, 1_000
        args.sweep, args.sweep_seconds = "1000", 3.0
    args.sweep = [float(r) for r in args.sweep.split(",") if r]
    args.brokers = [b for b in args.brokers.split(",") if b]
    return args


def main() -> None:
    args = arguments()
    corpus = read_dataset(args.data).texts
    texts = [corpus[i % len(corpus)] for i in range(max(args.messages, 5_000))]
    results: dict[str, Any] = {"machine_start": machine(), "settings": stream_report.settings(args)}
    results["offline"] = round(offline_throughput(args.model, texts, args.max_batch), 1)
    print(f"offline {results['offline']:,.0f} texts/s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = write_texts(texts, Path(tmp) / "texts.jsonl")
        results["brokers"] = {}
        for kind in args.brokers:
            with broker(kind) as server:
                results["brokers"][kind] = measure(kind, server, args, texts_file)
    results["machine_end"] = machine()
    save("stream", results, stream_report.render(results), args.out)


if __name__ == "__main__":
    main()

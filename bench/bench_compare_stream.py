"""modstream against what a user would pick instead, same broker, same model, equal cores.

    python bench/bench_compare_stream.py --model MODEL_DIR [--quick] [--broker kafka]
        [--systems modstream,mlserver,quix,quix-window]

Every system gets two processes' worth of work on the same broker and topics layout
(4 partitions): modstream ``stream --workers 2``; MLServer's Kafka server with two
inference workers and adaptive batching; two Quix Streams application processes calling
the model per message, and the same with count-window batching. The load comes from a
separate process (``stream_load.py``), keyed by comment id. The broker is first warmed up
as ``bench_stream.py`` warms it. For each system, on one set of topics after a warm-up:

1. a burst of 10,000 requests as fast as the client goes: answer rate (as the reader
   receives them, first 10% excluded) and inputs without an answer;
2. paced at one rate for all (default: half of one modstream worker's rate, measured
   first): end-to-end p50 / p99;
3. paced again, the system SIGKILLed a third of the way in and started again at once:
   inputs never answered and inputs answered more than once.

Writes ``bench/results/compare_stream.md`` and ``.json``. MLServer and Quix Streams run from
their own virtualenvs (``bench/venvs.sh``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare_report
from bench_mlserver import MLServerSystem
from bench_stream import Bench, warm_up
from quix_system import QuixApps
from stream_kit import (
    AnswerReader,
    Broker,
    LoadProcess,
    answer_rate,
    broker,
    dev_data,
    duplicated,
    latencies_ms,
    lost_and_answered,
    machine,
    new_topics,
    percentiles,
    save,
    write_texts,
)  # fmt: skip
from stream_worker import ModstreamWorkers

from modstream.datasets import read_dataset

Topics = tuple[str, str]
# Quix's group_by derives its repartition topic from the input topic's retention.ms,
# which the embedded broker's topic configuration does not report.
EMBEDDED_NO_WINDOWS = "Quix Streams' group_by needs the input topic's retention.ms, which the embedded broker does not report"
SYSTEMS: dict[str, Any] = {
    "modstream": lambda a, s, t: ModstreamWorkers(s, a.model, t, workers=2),
    "mlserver": lambda a, s, t: MLServerSystem(s, a.model, t, workers=2, batching=(32, 0.01)),
    "mlserver-plain": lambda a, s, t: MLServerSystem(s, a.model, t, workers=2, batching=None),
    "quix": lambda a, s, t: QuixApps(s, a.model, t, processes=2),
    "quix-window": lambda a, s, t: QuixApps(s, a.model, t, processes=2, window=a.window),
}


class Trial:
    """One system on its own topics, read by one reader, fed by load processes."""

    def __init__(self, name: str, server: Broker, args: argparse.Namespace, texts: Path) -> None:
        self.args, self.texts, self.servers = args, texts, server.bootstrap_servers
        topics = new_topics(server, "in", "out")
        self.input = topics[0]
        self.system = SYSTEMS[name](args, self.servers, (topics[0], topics[1]))
        self.reader = AnswerReader(self.servers, topics[1]).join_group()

    def load(self, count: int, rate: float = 0.0) -> LoadProcess:
        return LoadProcess(self.servers, self.input, self.texts, count, rate=rate,
                           wire=self.system.wire)  # fmt: skip

    def warm_up(self, tries: int = 6) -> None:
        """Until answers come back (MLServer's consumer starts at the latest offset; Quix's
        count windows answer only once full)."""
        count = getattr(self.system, "warm_up_count", 20)
        for _ in range(tries):
            load = self.load(count).wait()
            if self.reader.wait_for(load.prefix, count, timeout=30, idle=15):
                return
        raise RuntimeError(f"{self.system.label} answered nothing")

    def burst(self) -> dict[str, Any]:
        load = self.load(self.args.burst).wait()
        self.reader.wait_for(load.prefix, load.count, timeout=900, idle=30)
        lost, _ = lost_and_answered(load, self.reader)
        rate = answer_rate(load, self.reader, skip_first=load.count // 10)
        return {"rate": round(rate, 1), "sent": load.count, "lost": lost,
                "duplicated": duplicated(load, self.reader),
                "machine": machine()}  # fmt: skip

    def paced(self, rate: float) -> dict[str, Any]:
        load = self.load(int(rate * self.args.seconds), rate).wait()
        self.reader.wait_for(load.prefix, load.count, timeout=600, idle=30)
        ms = latencies_ms(load, self.reader)
        return {"rate": round(rate, 1), **percentiles(ms),
                "lost": lost_and_answered(load, self.reader)[0], "machine": machine()}  # fmt: skip

    def killed(self, rate: float) -> dict[str, Any]:
        """SIGKILL a third of the way through a paced run, restart at once, count."""
        running = self.load(int(rate * self.args.seconds), rate)
        running.started()
        time.sleep(self.args.seconds / 3)
        self.system.kill()
        killed = time.monotonic()
        self.system.start()
        restart_s = time.monotonic() - killed
        load = running.wait()
        # Long idle: a killed member stays in its group until its session times out
        # (45 s by default for Quix Streams) and the rebalance waits for that.
        self.reader.wait_for(load.prefix, load.count, timeout=600, idle=90)
        return {"rate": round(rate, 1), "sent": load.count,
                "lost": lost_and_answered(load, self.reader)[0],
                "duplicated": duplicated(load, self.reader), "restart_s": round(restart_s, 1),
                "machine": machine()}  # fmt: skip

    def close(self) -> None:
        self.system.stop()
        self.reader.close()


def run_system(name: str, server: Broker, args: argparse.Namespace, texts: Path,
               rate: float) -> dict[str, Any]:  # fmt: skip
    trial = Trial(name, server, args, texts)
    try:
        trial.system.start()
        trial.warm_up()
        result: dict[str, Any] = {"label": trial.system.label, "burst": trial.burst()}
        print(f"{name}: burst {result['burst']['rate']:,.0f}/s", flush=True)
        result["paced"] = trial.paced(rate)
        print(f"{name}: paced {percentiles_line(result['paced'])}", flush=True)
        result["killed"] = trial.killed(rate)
        print(f"{name}: killed {result['killed']}", flush=True)
    finally:
        trial.close()
    result["errors"] = getattr(trial.system, "errors", lambda: 0)()
    return result


def percentiles_line(cell: dict[str, Any]) -> str:
    return f"p50 {cell.get('p50', '-')} ms, p99 {cell.get('p99', '-')} ms (n={cell['n']})"


def warm_broker(server: Broker, args: argparse.Namespace, texts: Path) -> list[dict[str, Any]]:
    """Untimed drains by one modstream worker until the broker's CPU per answer settles,
    as ``bench_stream.py`` warms it: a fresh Kafka JVM compiles its hot paths over its first
    drains, and on 2 cores that CPU would be taken from whichever system runs first."""
    drain = argparse.Namespace(
        model=args.model, max_batch=256, max_wait_ms=5.0, worker_option=[],
        messages=compare_report.WARM_UP_MESSAGES,
    )  # fmt: skip
    return warm_up(Bench(server, drain, texts), args.broker, args.warm_up_drains)


def one_worker_rate(server: Broker, args: argparse.Namespace, texts: Path) -> float:
    """Half of this is the paced rate: one modstream worker draining a keyed burst."""
    topics = new_topics(server, "in", "out")
    worker = ModstreamWorkers(server.bootstrap_servers, args.model, (topics[0], topics[1]))
    reader = AnswerReader(server.bootstrap_servers, topics[1]).join_group()
    try:
        worker.start()
        load = LoadProcess(server.bootstrap_servers, topics[0], texts, args.burst).wait()
        reader.wait_for(load.prefix, load.count, timeout=600)
    finally:
        worker.stop()
        reader.close()
    return answer_rate(load, reader, skip_first=load.count // 10)


def arguments(default_systems: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default=str(dev_data()))
    parser.add_argument("--broker", default="kafka", choices=("kafka", "embedded"))
    parser.add_argument("--systems", default=default_systems)
    parser.add_argument("--quick", action="store_true", help="seconds, for a smoke check")
    parser.add_argument("--burst", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=20.0, help="paced runs")
    parser.add_argument("--rate", type=float, default=0.0, help="0: half of one modstream worker")
    parser.add_argument("--window", type=int, default=32, help="Quix count-window size")
    parser.add_argument(
        "--warm-up-drains", type=int, default=8,
        help="most untimed drains that warm the broker up first (0, and --quick: none)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.burst, args.seconds, args.warm_up_drains = 1_000, 6.0, 0
    args.systems = [s for s in args.systems.split(",") if s]
    return args


def main(default_systems: str = "modstream,mlserver,quix,quix-window") -> None:
    args = arguments(default_systems)
    corpus = read_dataset(args.data).texts
    results: dict[str, Any] = {"machine_start": machine(), "broker": args.broker,
                               "settings": compare_report.settings(args), "systems": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, broker(args.broker) as server:
        texts = write_texts(corpus, Path(tmp) / "texts.jsonl")
        if args.warm_up_drains > 0:
            results["warm_up"] = warm_broker(server, args, texts)
        one = args.rate * 2 or one_worker_rate(server, args, texts)
        results["one_worker_rate"], rate = round(one, 1), one / 2
        print(f"paced rate {rate:,.0f}/s (half of one modstream worker's {one:,.0f}/s)", flush=True)
        for name in args.systems:
            if args.broker == "embedded" and name == "quix-window":
                results["skipped"] = {name: EMBEDDED_NO_WINDOWS}
                continue
            results["systems"][name] = run_system(name, server, args, texts, rate)
    results["machine_end"] = machine()
    name = (
        "compare_stream"
        if set(args.systems) != {"modstream", "mlserver", "mlserver-plain"}
        else "mlserver"
    )
    save(name, results, compare_report.render(results), args.out)


if __name__ == "__main__":
    main()

"""Worker settings side by side, end to end under the same paced keyed load.

Each set of ``modstream stream`` options runs in turn, round after round, on one warm
broker.

    python bench/bench_worker_options.py --model MODEL_DIR \
        --variant defaults= --variant 'fetch 64 KiB=--kafka-config=fetch.min.bytes=65536' \
        [--rates 1512,250] [--rounds 3] [--broker kafka]

A variant is ``NAME=OPTIONS``, the options split as a shell splits words. Each round runs
every rate with every variant, one after another, so a machine that drifts during the
call affects them alike; the table lists each round and the medians. The broker is
warmed up first as ``bench_stream.py`` warms it (untimed drains until its CPU per answer
settles). The load comes from a separate process, keyed by comment id; a reader notes
each answer's arrival (see ``bench_stream.py``).

A rate of 0 runs each worker idle for ``--seconds``, topics created and no load, and
reports the CPU that the broker and the worker spend meanwhile (a share of one core).

Writes ``bench/results/worker_options.md`` and ``.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_stream import Bench, warm_up
from stream_kit import (
    BROKER_LABELS,
    broker,
    cpu_seconds,
    dev_data,
    drains_note,
    load_note,
    machine,
    new_topics,
    save,
    write_texts,
)

from modstream.datasets import read_dataset


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data", default=str(dev_data()))
    parser.add_argument("--broker", default="kafka", choices=("kafka", "embedded"))
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=OPTIONS")
    parser.add_argument("--rates", default="1512,250", help="paced rates, msg/s; 0: idle")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--max-batch", type=int, default=256)
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--messages", type=int, default=20_000, help="backlog per warm-up drain")
    parser.add_argument("--warm-up-drains", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.variants = {}
    for item in args.variant:
        name, sep, options = item.partition("=")
        if not sep or not name:
            parser.error(f"--variant {item!r}: expected NAME=OPTIONS")
        args.variants[name] = shlex.split(options)
    args.rates = [float(r) for r in args.rates.split(",") if r]
    args.worker_option, args.latency_seconds = [], args.seconds
    return args


def idle(bench: Bench, seconds: float) -> dict[str, Any]:
    """The CPU a ready worker with nothing to read costs itself and the broker, per core."""
    workers = bench.workers(new_topics(bench.server, "in", "out"))
    try:
        workers.start()
        time.sleep(2.0)  # the group joined; let its start-up traffic pass
        before = [cpu_seconds(bench.broker_pids), cpu_seconds([workers.pid])]
        started = time.monotonic()
        time.sleep(seconds)
        spent = [cpu_seconds(bench.broker_pids) - before[0],
                 cpu_seconds([workers.pid]) - before[1]]  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        workers.stop()
    return {"rate": 0.0, "cpu_share": {"broker": round(spent[0] / elapsed, 4),
                                       "worker": round(spent[1] / elapsed, 4)}}  # fmt: skip


def render(results: dict[str, Any], args: argparse.Namespace) -> str:
    label = BROKER_LABELS.get(args.broker, args.broker)
    start = results["machine_start"]
    lines = [
        f"# Worker settings side by side on {label}: `python bench/bench_worker_options.py "
        f"{' '.join(shlex.quote(a) for a in results['argv'])}`\n",
        f"{start['cores']} cores ({start['cpu']}), Python {start['python']}, started "
        f"{start['time']}; {load_note(start)} at the start, "
        f"{load_note(results['machine_end'])} at the end. Warm-up drains (msg/s, broker CPU "
        "ms per answer): "
        + drains_note(results["warm_up"])
        + f". Keyed load at each rate for {args.seconds:.0f} s per run.\n",
        "| rate (msg/s) | variant | end-to-end p50 / p99 ms, each round | median p50 / p99 ms "
        "| CPU ms per answer: broker / worker (medians) | lost |",
        "|---:|---|---|---|---|---:|",
    ]
    for rate in args.rates:
        for name in args.variants:
            runs = [r for r in results["runs"] if r["rate"] == rate and r["variant"] == name]
            if rate == 0:
                share = {w: statistics.median(r["cpu_share"][w] for r in runs) * 100
                         for w in ("broker", "worker")}  # fmt: skip
                lines.append(
                    f"| idle | {name} | - | - | broker {share['broker']:.1f}% / worker "
                    f"{share['worker']:.1f}% of a core (each round: "
                    + "; ".join(f"{r['cpu_share']['broker'] * 100:.1f}% / "
                                f"{r['cpu_share']['worker'] * 100:.1f}%" for r in runs)
                    + ") | - |"
                )  # fmt: skip
                continue
            each = "; ".join(f"{r['p50']:.1f} / {r['p99']:.1f}" for r in runs)
            med = {q: statistics.median(r[q] for r in runs) for q in ("p50", "p99")}
            cpu = {w: statistics.median(r["cpu_ms_per_answer"][w] for r in runs)
                   for w in ("broker", "worker")}  # fmt: skip
            lines.append(
                f"| {rate:,.0f} | {name} | {each} | {med['p50']:.1f} / {med['p99']:.1f} "
                f"| {cpu['broker']:.3f} / {cpu['worker']:.3f} | {sum(r['lost'] for r in runs)} |"
            )
    lines.append("\nOptions per variant: " + "; ".join(
        f"{name}: `{' '.join(opts) or '(defaults)'}`" for name, opts in args.variants.items()
    ) + ".\n")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    args = arguments()
    corpus = read_dataset(args.data).texts
    texts = [corpus[i % len(corpus)] for i in range(max(args.messages, 5_000))]
    results: dict[str, Any] = {"argv": sys.argv[1:], "machine_start": machine(), "runs": []}
    with tempfile.TemporaryDirectory() as tmp, broker(args.broker) as server:
        bench = Bench(server, args, write_texts(texts, Path(tmp) / "texts.jsonl"))
        results["warm_up"] = warm_up(bench, args.broker, args.warm_up_drains)
        for round_ in range(args.rounds):
            for rate in args.rates:
                for name, options in args.variants.items():
                    args.worker_option = options
                    if rate == 0:
                        run = idle(bench, args.seconds)
                        print(f"round {round_ + 1} idle {name}: CPU {run['cpu_share']} of a core",
                              flush=True)  # fmt: skip
                    else:
                        run = bench.end_to_end(rate, keyed=True)
                        print(f"round {round_ + 1} {rate:,.0f}/s {name}: p50 {run['p50']} ms, "
                              f"p99 {run['p99']} ms, CPU {run['cpu_ms_per_answer']}", flush=True)  # fmt: skip
                    run.update(variant=name, round=round_)
                    results["runs"].append(run)
    results["machine_end"] = machine()
    save("worker_options", results, render(results, args), args.out)


if __name__ == "__main__":
    main()

"""The markdown of ``bench_stream.py``: brokers side by side, then the worker's stages."""

from __future__ import annotations

import argparse
from typing import Any

from stream_kit import BROKER_LABELS, KEYINGS, PARTITIONS, busy_note, drains_note, load_note

STAGE_ORDER = ("fill", "decode", "score", "produce", "deliver", "commit")


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {"model": args.model, "messages": args.messages, "max_batch": args.max_batch,
            "max_wait_ms": args.max_wait_ms, "latency_seconds": args.latency_seconds,
            "burst": args.burst, "quick": args.quick, "partitions": PARTITIONS,
            "worker_options": args.worker_option}  # fmt: skip


def _q(cell: dict[str, Any] | None, *keys: str) -> str:
    if not cell or any(k not in cell for k in keys):
        return "-"
    return " / ".join(f"{cell[k]:,.1f}" for k in keys)


def latency_line(result: dict[str, Any]) -> str:
    e2e, hop, share = result["end_to_end"], result["floor"], result["worker_share"]
    return (f"end-to-end p50/p99 {_q(e2e, 'p50', 'p99')} ms, floor {_q(hop, 'p50', 'p99')} ms, "
            f"worker share {_q(share, 'p50', 'p99')} ms")  # fmt: skip


def _rows(results: dict[str, Any]) -> list[tuple[str, list[str], str]]:
    offline = results["offline"]
    brokers = results["brokers"]

    def each(fn: Any) -> list[str]:
        return [fn(brokers[kind]) for kind in brokers]

    rows = [
        ("one worker, keyed backlog (msg/s, share of offline)",
         each(lambda b: f"{b['one']['rate']:,.0f} ({b['one']['rate'] / offline:.0%})"), ">= 90%"),
        ("broker CPU per answer while one worker drains (ms)",
         each(lambda b: f"{b['one'].get('broker_cpu_ms_per_answer', float('nan')):.3f}"), "-"),
        ("untimed warm-up drains: msg/s (broker CPU ms per answer)",
         each(lambda b: drains_note(b["warm_up"])), "-"),
        ("two workers (msg/s, x one)",
         each(lambda b: f"{b['two']['rate']:,.0f} ({b['two']['rate'] / b['one']['rate']:.2f}x)"),
         ">= 1.7x"),
        ("exactly-once, one worker (msg/s, share of at-least-once)",
         each(lambda b: f"{b['exactly_once']['rate']:,.0f} ({b['exactly_once']['rate'] / b['one']['rate']:.0%})"
              if "exactly_once" in b else "not measured (cannot be verified here)"), "-"),
        ("paced rate: half of one worker (msg/s)",
         each(lambda b: f"{b['keyed']['end_to_end']['rate']:,.0f}"), "-"),
    ]  # fmt: skip
    for keying in KEYINGS:
        target = "p99 <= 25 ms (Apache Kafka)" if keying == "keyed" else "-"
        rows += [
            (f"{keying}: end-to-end p50 / p99 (ms)",
             each(lambda b, k=keying: _q(b[k]["end_to_end"], "p50", "p99")), target),
            (f"{keying}: broker floor, one hop, p50 / p99 (ms)",
             each(lambda b, k=keying: _q(b[k]["floor"], "p50", "p99")), "-"),
            (f"{keying}: worker's share = e2e - 2 hops, p50 / p99 (ms)",
             each(lambda b, k=keying: _q(b[k]["worker_share"], "p50", "p99")),
             "<= 5 / <= 15 (embedded)"),
        ]  # fmt: skip
    sent = next(iter(brokers.values()))["burst"]["sent"] if brokers else 0
    rows.append((f"{sent:,}-message burst: lost (drained in s)",
                 each(lambda b: f"{b['burst']['lost']} of {b['burst']['sent']:,} "
                                f"({b['burst']['drained_s']} s)"), "0"))  # fmt: skip
    return rows


def _stages(results: dict[str, Any]) -> str:
    lines = ["| stage (per batch, keyed run) | " + " | ".join(
        f"{BROKER_LABELS.get(k, k)} mean / p50 / p99 ms" for k in results["brokers"]) + " |",
        "|---" * (1 + len(results["brokers"])) + "|"]  # fmt: skip
    found = False
    for stage in (*STAGE_ORDER, "batch (consume to commit)"):
        cells = []
        for result in results["brokers"].values():
            stages = result["keyed"]["end_to_end"]["stages"]
            cell = (
                stages["batch_seconds"]
                if stage.startswith("batch")
                else stages["stages"].get(stage)
            )
            found |= cell is not None and not stage.startswith("batch")
            cells.append(_q(cell, "mean", "p50", "p99"))
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    sizes = [_q(r["keyed"]["end_to_end"]["stages"]["batch_records"], "mean", "p50", "p99")
             for r in results["brokers"].values()]  # fmt: skip
    lines.append("| records per batch | " + " | ".join(sizes) + " |")
    cpu = [r["keyed"]["end_to_end"].get("cpu_ms_per_answer") for r in results["brokers"].values()]
    lines.append("| CPU ms per answer: broker / worker | " + " | ".join(
        f"{c['broker']:.2f} / {c['worker']:.2f}" if c else "-" for c in cpu) + " |")  # fmt: skip
    if not found:
        lines.append(
            "\nThe worker exposed no `modstream_stream_stage_seconds`: no stage breakdown."
        )
    return "\n".join(lines)


def _sweep(results: dict[str, Any]) -> str:
    kinds = list(results["brokers"])
    head = "| rate (msg/s, keyed) | " + " | ".join(
        f"{BROKER_LABELS.get(k, k)} floor p50 / p99 ms (lost)" for k in kinds) + " |"  # fmt: skip
    lines = [head, "|---" * (1 + len(kinds)) + "|"]
    rates = sorted({p["rate"] for r in results["brokers"].values() for p in r["sweep"]})
    for rate in rates:
        cells = []
        for kind in kinds:
            point = next((p for p in results["brokers"][kind]["sweep"] if p["rate"] == rate), None)
            cells.append(f"{_q(point, 'p50', 'p99')} ({point['lost']})" if point else "-")
        lines.append(f"| {rate:,.0f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(results: dict[str, Any]) -> str:
    kinds = list(results["brokers"])
    s = results["settings"]
    head = "| measure | " + " | ".join(BROKER_LABELS.get(k, k) for k in kinds) + " | target |"
    table = [head, "|---" * (len(kinds) + 2) + "|"]
    table += [f"| {label} | " + " | ".join(cells) + f" | {target} |"
              for label, cells, target in _rows(results)]  # fmt: skip
    phases = "; ".join(
        f"{BROKER_LABELS.get(k, k)} end-to-end run: {load_note(results['brokers'][k]['keyed']['end_to_end']['machine'])}"
        for k in kinds
    )
    return f"""## Kafka streaming: embedded broker and Apache Kafka (`bench/bench_stream.py`)

{results["machine_start"]["cores"]} cores ({results["machine_start"]["cpu"]}), Python {results["machine_start"]["python"]}.
Machine load: at the start {load_note(results["machine_start"])}; {phases}; at the end
{load_note(results["machine_end"])}.{busy_note(results["machine_start"], results["machine_end"])}{" QUICK MODE: smoke-check sizes, not figures." if s["quick"] else ""}
{s["partitions"]} partitions; `--max-batch {s["max_batch"]} --max-wait-ms {s["max_wait_ms"]:g}`; load from a
separate process (`bench/stream_load.py`), keyed by comment id unless said; drain runs on
{s["messages"]:,} messages loaded before the workers start, after untimed drains that warm
each broker up until its CPU per answer settles; paced runs {s["latency_seconds"]:g} s
(the first second not timed). Offline batch predict of the same model: {results["offline"]:,.0f} texts/s.

{chr(10).join(table)}

End-to-end: from the load process handing a request to its producer to the reader
receiving the answer. Floor: the same producer and reader settings, the reader on the
input topic, no worker: one broker hop. The worker's share subtracts two hops (its
input and its answer) percentile by percentile, so at p99 it is an estimate.

### Where a batch's time goes (worker's `/metrics`, keyed paced run)

{_stages(results)}

A record's wait is the fill of its batch plus whatever batch was in hand when it arrived;
its answer is visible once delivered (acknowledged), before the commit.

### The broker's one-hop floor against the rate

{_sweep(results)}
"""

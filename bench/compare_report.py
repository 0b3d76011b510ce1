"""The markdown of ``bench_compare_stream.py``: one row per system, ratios to modstream."""

from __future__ import annotations

import argparse
from typing import Any

from stream_kit import BROKER_LABELS, PARTITIONS, busy_note, drains_note, load_note

# Records per untimed drain that warms the broker up before the systems are measured.
WARM_UP_MESSAGES = 20_000


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {"model": args.model, "burst": args.burst, "seconds": args.seconds,
            "window": args.window, "quick": args.quick, "partitions": PARTITIONS,
            "systems": args.systems}  # fmt: skip


def _ratio(value: float | None, base: float | None) -> str:
    if not value or not base:
        return "-"
    return f"{value / base:.2f}x"


def _row(result: dict[str, Any], base: dict[str, Any] | None) -> str:
    burst, paced, killed = result["burst"], result["paced"], result["killed"]
    base_rate = base["burst"]["rate"] if base else None
    base_p99 = base["paced"].get("p99") if base else None
    latency = f"{paced.get('p50', '-')} / {paced.get('p99', '-')}"
    if paced.get("lost"):
        latency += f" ({paced['lost']:,} unanswered)"
    return (
        f"| {result['label']} | {burst['rate']:,.0f} | {_ratio(base_rate, burst['rate'])} "
        f"| {latency} | {_ratio(paced.get('p99'), base_p99)} "
        f"| {burst['lost']:,} of {burst['sent']:,} "
        f"| {killed['lost']:,} / {killed['duplicated']:,} of {killed['sent']:,} ({killed['restart_s']} s) "
        f"| {result['errors']} |"
    )


def render(results: dict[str, Any]) -> str:
    s = results["settings"]
    systems = results["systems"]
    base = systems.get("modstream")
    rows = "\n".join(_row(r, base) for r in systems.values())
    rate = next(iter(systems.values()))["paced"]["rate"] if systems else 0
    start, end = results["machine_start"], results["machine_end"]
    during = "; ".join(
        f"{r['label']}: {load_note(r['paced']['machine'])}" for r in systems.values()
    )
    skipped = "".join(
        f"\nNot run: {name}: {why}." for name, why in results.get("skipped", {}).items()
    )
    drains = results.get("warm_up", [])
    warmed = (
        f" The broker was warmed up first by untimed drains of {WARM_UP_MESSAGES:,} by one "
        "modstream worker, "
        "until its CPU per answer settled (msg/s, broker CPU ms per answer): "
        + drains_note(drains)
        + "."
        if drains
        else " The broker was not warmed up first."
    )
    return f"""## modstream against MLServer and Quix Streams on {BROKER_LABELS.get(results["broker"], results["broker"])} (`bench/bench_compare_stream.py`)

{start["cores"]} cores ({start["cpu"]}), Python {start["python"]}. Machine load: at the start
{load_note(start)}; during each paced run: {during}; at the end {load_note(end)}.{busy_note(start, end)}{" QUICK MODE: smoke-check sizes, not figures." if s["quick"] else ""}
Same model artifact, same broker, {s["partitions"]} partitions, one comment per request keyed by its
id, load from a separate process. Equal cores: two processes each (modstream `--workers 2`,
MLServer `parallel_workers` 2, two Quix Streams application processes in one group).
Paced runs at {rate:,.0f} msg/s (half of one modstream worker's {results["one_worker_rate"]:,.0f} msg/s burst rate), {s["seconds"]:g} s
each, the first second not timed. Burst: {s["burst"]:,} requests as fast as the load process goes.
SIGKILL: every process of the system killed a third of the way into a paced run and started
again at once (restart time in brackets; inputs sent meanwhile wait in the topic).{warmed}

| system | burst msg/s | modstream / it | p50 / p99 ms at {rate:,.0f}/s | p99 it / modstream | burst: unanswered | SIGKILL + restart: unanswered / duplicated | ERROR log lines |
|---|---|---|---|---|---|---|---|
{rows}
{skipped}

Readings to keep in mind: MLServer's Kafka consumer has no group, commits nothing and starts at
the latest offset, so whatever arrives while it is down, and whatever it had read but not
answered, is lost. Quix Streams commits every 5 s by default (at-least-once), so a crash
repeats up to 5 s of answers. Its count windows are kept per message key and skip records
without a key: with one key per comment a window never fills, so the windowed application
regroups onto {PARTITIONS} batch keys through a repartition topic, and a lone comment waits until
{s["window"] - 1} others with its batch key have arrived (at a trickle, indefinitely): its
"unanswered" counts include the comments still waiting in a window when the run ended.
A system whose burst rate is below the paced rate cannot keep up with it: its latency is
then the time its backlog takes to drain, not a property of its transport.
"""

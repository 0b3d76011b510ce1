"""Monitor benchmarks: memory per million pending predictions, and records per second.

    python bench/bench_monitor.py memory [--rows 1000000]
    python bench/bench_monitor.py core [--records 200000]
    python bench/bench_monitor.py kafka [--records 200000]
    python bench/bench_monitor.py drift --model DIR [--data CSV]
    python bench/bench_monitor.py worker --model DIR [--messages 20000]

``memory``: the monitor's tables after N predictions that have no decision yet (the state
a monitor holds while labels lag), as the tables' own bytes and as the process's resident
memory growth. ``core``: predictions and decisions applied per second on one core from
raw record bytes (parsing included, no broker). ``kafka``: the same through ``modstream
monitor``'s loop from the embedded broker, pinned to one core. ``drift``: detection delay
against shift size. ``worker``: the stream worker's throughput with and without the
monitor running beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import numpy as np

from modstream.monitor import DecisionBatch, Monitor, PredictionBatch, parse_decision

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["memory", "core"])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    result = memory(args.rows) if args.mode == "memory" else core(args.records)
    print(json.dumps({"mode": args.mode, "load": os.getloadavg(), **result}, indent=2))


if __name__ == "__main__":
    main()

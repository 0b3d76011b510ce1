"""``modstream stream`` as the benchmarks run it: a process group, its metrics, its stages.

The workers serve Prometheus metrics (``--metrics-port``, worker *i* on ``PORT + i``);
``stage_breakdown`` diffs two scrapes of ``modstream_stream_stage_seconds`` into the time
per batch spent in each stage (batch fill, decode, model, produce, broker
acknowledgement, offset commit).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from stream_kit import PARTITIONS, kill_group, single_thread_env, stop_group

from modstream.broker import free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
STAGE_METRIC = "modstream_stream_stage_seconds"


class ModstreamWorkers:
    """``modstream stream --workers N`` on ``input -> output``; ``start``/``kill``/``stop``."""

    wire = "seldon"

    def __init__(self, servers: str, model: str, topics: tuple[str, str], *, workers: int = 1,
                 options: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.workers, self.port = workers, free_port()
        self.group = f"g-{uuid.uuid4().hex[:8]}"
        self.log = Path(f"/tmp/bench-worker-{self.group}.log")
        self.label = f"modstream `stream --workers {workers}`"
        self.command = [
            sys.executable, "-m", "modstream", "stream", "--model", model,
            "--bootstrap-servers", servers, "--input-topic", topics[0],
            "--output-topic", topics[1], "--group", self.group, "--workers", str(workers),
            "--metrics-port", str(self.port), *options,
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180) -> None:
        """Start and wait until every worker is ready and the partitions are all held."""
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                self.command, stdout=sink, stderr=subprocess.STDOUT,
                env=single_thread_env(), start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not self._settled():
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers not ready: {self.log.read_text()[-3000:]}")
            time.sleep(0.25)

    def _settled(self) -> bool:
        if not all(_ready(self.port + i) for i in range(self.workers)):
            return False
        held = self._held_partitions()
        if held != PARTITIONS:
            return False
        time.sleep(1.0 if self.workers == 1 else 3.0)  # a late rebalance shows up here
        return self._held_partitions() == PARTITIONS

    def _held_partitions(self) -> int:
        """Partitions held now: the workers' gauge, else their latest log lines."""
        gauges = [scrape(self.port + i).get(("modstream_stream_assigned_partitions", ()))
                  for i in range(self.workers)]  # fmt: skip
        if all(g is not None for g in gauges):
            return int(sum(g for g in gauges if g is not None))
        return _held_from_log(self.log.read_text(errors="replace"))

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def scrape(self) -> list[Samples]:
        return [scrape(self.port + i) for i in range(self.workers)]

    def kill(self) -> None:
        """SIGKILL every process of the group, as a machine that dies."""
        kill_group(self.process)

    def stop(self) -> None:
        stop_group(self.process)


def _ready(port: int) -> bool:
    """``GET /ready`` is 200; a worker without that endpoint counts once it serves metrics."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as answer:
            return bool(answer.status == 200)
    except urllib.error.HTTPError as error:
        return error.code == 404
    except OSError:
        return False


def _held_from_log(text: str) -> int:
    latest: dict[str, int] = {}
    for match in re.finditer(r"worker (\d+) (assigned|revoked) (.*)", text):
        index, verb, what = match.groups()
        latest[index] = what.count("[") if verb == "assigned" else 0
    return sum(latest.values())


def scrape(port: int) -> Samples:
    """Every sample of a worker's ``/metrics`` ({} when it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _delta(before: list[Samples], after: list[Samples]) -> Samples:
    """Counters summed over workers, after minus before."""
    total: Samples = {}
    for old, new in zip(before, after, strict=True):
        for key, value in new.items():
            total[key] = total.get(key, 0.0) + value - old.get(key, 0.0)
    return total


def _quantile(buckets: list[tuple[float, float]], q: float) -> float:
    """Linear interpolation inside cumulative ``(le, count)`` buckets."""
    total = buckets[-1][1]
    low_le, low_count = 0.0, 0.0
    for le, count in buckets:
        if count >= q * total:
            if le == float("inf"):
                return low_le
            share = (q * total - low_count) / max(count - low_count, 1e-12)
            return low_le + (le - low_le) * share
        low_le, low_count = le, count
    return low_le


def histogram(delta: Samples, name: str, **labels: str) -> dict[str, float] | None:
    """Mean, p50 and p99 (ms for seconds metrics) of one histogram's new observations."""
    wanted = tuple(sorted(labels.items()))
    count = delta.get((f"{name}_count", wanted), 0.0)
    if count <= 0:
        return None
    buckets = sorted(
        (float(dict(key[1])["le"]), value) for key, value in delta.items()
        if key[0] == f"{name}_bucket" and tuple(kv for kv in key[1] if kv[0] != "le") == wanted
    )  # fmt: skip
    scale = 1000.0 if name.endswith("_seconds") else 1.0
    mean = delta[(f"{name}_sum", wanted)] / count
    return {"batches": int(count), "mean": round(mean * scale, 3),
            "p50": round(_quantile(buckets, 0.5) * scale, 3),
            "p99": round(_quantile(buckets, 0.99) * scale, 3)}  # fmt: skip


def stage_breakdown(before: list[Samples], after: list[Samples]) -> dict[str, Any]:
    """Per-batch time in each stage between two scrapes, plus batch size and cycle time."""
    delta = _delta(before, after)
    stages = sorted({dict(k[1]).get("stage", "") for k in delta if k[0] == f"{STAGE_METRIC}_count"})
    result: dict[str, Any] = {
        "stages": {s: histogram(delta, STAGE_METRIC, stage=s) for s in stages if s},
        "batch_seconds": histogram(delta, "modstream_stream_batch_seconds"),
    }
    for name in ("modstream_stream_batch_records", "modstream_stream_batch_size"):
        result["batch_records"] = result.get("batch_records") or histogram(delta, name)
    return result

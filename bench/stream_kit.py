"""Shared pieces of the stream benchmarks: brokers, the load process, the answer reader.

Timing model: a separate load process (``stream_load.py``) produces requests, each with
an id (the record key when keyed, ``meta.puid`` / V2 ``id`` when not), and writes the
wall-clock nanosecond at which it handed each one to its producer into a ``.npy`` file.
An ``AnswerReader`` thread in the benchmark process notes when each id's answer
arrived. Latency is arrival minus produce time, joined by id after the run; both clocks
are this machine's ``time.time_ns()``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import psutil
from confluent_kafka import Consumer, Message

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PARTITIONS = 4
# Keyed traffic: the comment id is the key, as real traffic is; unkeyed: the id rides in
# the request (``meta.puid``), which the answer echoes.
KEYINGS = ("keyed", "unkeyed")


def dev_data() -> Path:
    """The 5,000-comment dev sample (``shared/`` beside the repository or its worktree)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "data" / "rscience_dev.csv"
        if candidate.exists():
            return candidate
    return ROOT.parent / "shared" / "data" / "rscience_dev.csv"


def machine() -> dict[str, Any]:
    """What shared the cores: the load averages at the moment of the call."""
    one, five, fifteen = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_1m": round(one, 2),
        "load_5m": round(five, 2),
        "load_15m": round(fifteen, 2),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def drains_note(drains: list[dict[str, Any]]) -> str:
    """Each warm-up drain's rate and the broker's CPU ms per answer in it: ``3,691 (0.249)``."""
    return ", ".join(f"{d['rate']:,.0f} ({d['broker_cpu_ms_per_answer']:.3f})" for d in drains)


def load_note(sample: dict[str, Any]) -> str:
    return f"load average {sample['load_1m']} / {sample['load_5m']} / {sample['load_15m']}"


def busy_note(*samples: dict[str, Any]) -> str:
    """A warning when other work competed for the cores during the run."""
    if max(sample["load_1m"] for sample in samples) <= (samples[0]["cores"] or 1):
        return ""
    return (" **Other work shared the cores (load above the core count): the absolute"
            " figures are low and noisy; compare within a row.**")  # fmt: skip


# -- brokers --------------------------------------------------------------------------
class Broker(Protocol):
    @property
    def bootstrap_servers(self) -> str: ...

    def create_topics(self, topics: dict[str, int]) -> Any: ...


BROKER_LABELS = {"embedded": "embedded (Tansu)", "kafka": "Apache Kafka (1 node)"}


@contextlib.contextmanager
def broker(kind: str) -> Iterator[Broker]:
    """``embedded`` (Tansu, in memory) or ``kafka`` (one Apache Kafka KRaft node)."""
    if kind == "embedded":
        from modstream.broker import EmbeddedBroker

        with EmbeddedBroker() as embedded:
            yield embedded
        return
    if kind != "kafka":
        raise ValueError(f"unknown broker {kind!r} (embedded or kafka)")
    sys.path.insert(0, str(ROOT))
    from tests.kafka import KAFKA_VERSION, KafkaCluster

    BROKER_LABELS["kafka"] = f"Apache Kafka {KAFKA_VERSION} (1 node)"
    with KafkaCluster(nodes=1) as kafka:
        yield kafka


def listener_pids(servers: str) -> list[int]:
    """The processes listening on the bootstrap ports (the broker's, whichever kind)."""
    ports = {int(address.rsplit(":", 1)[1]) for address in servers.split(",")}
    return sorted({c.pid for c in psutil.net_connections("tcp")
                   if c.status == psutil.CONN_LISTEN and c.laddr.port in ports and c.pid})  # fmt: skip


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes and their children so far."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for process in (root, *root.children(recursive=True)):
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def new_topics(server: Broker, *roles: str, partitions: int = PARTITIONS) -> list[str]:
    """One fresh topic per role (``in``, ``out``...), random names, created now."""
    tag = uuid.uuid4().hex[:8]
    names = [f"bench-{role}-{tag}" for role in roles]
    server.create_topics(dict.fromkeys(names, partitions))
    return names


# -- the load process -----------------------------------------------------------------
@dataclass
class Load:
    """A finished run of ``stream_load.py``: ids ``prefix + i`` and their produce times."""

    prefix: str
    send_ns: np.ndarray
    rate: float  # 0: as fast as the client goes

    @property
    def count(self) -> int:
        return len(self.send_ns)


def write_texts(texts: list[str], path: Path) -> Path:
    path.write_text("".join(json.dumps(t) + "\n" for t in texts))
    return path


class LoadProcess:
    """``stream_load.py`` in its own process; ``wait()`` returns its ``Load``."""

    def __init__(self, servers: str, topic: str, texts_file: Path, count: int, *,
                 rate: float = 0.0, keyed: bool = True, wire: str = "seldon",
                 prefix: str | None = None) -> None:  # fmt: skip
        self.prefix = prefix or f"{uuid.uuid4().hex[:6]}-"
        self.out = Path(f"/tmp/bench-load-{self.prefix}{os.getpid()}.npy")
        self.rate = rate
        command = [
            sys.executable, str(BENCH / "stream_load.py"), "--bootstrap-servers", servers,
            "--topic", topic, "--texts", str(texts_file), "--count", str(count),
            "--rate", str(rate), "--wire", wire, "--prefix", self.prefix, "--out", str(self.out),
        ] + (["--keyed"] if keyed else [])  # fmt: skip
        self.process = subprocess.Popen(command, env=single_thread_env(), stdout=subprocess.PIPE)

    def started(self) -> None:
        """Until the process sends its first request (start-up takes seconds under load)."""
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != b"sending":
            raise RuntimeError(f"load process exited {self.process.wait()} before sending")

    def wait(self, timeout: float = 900) -> Load:
        if self.process.wait(timeout) != 0:
            raise RuntimeError(f"load process exited {self.process.returncode}")
        send_ns = np.load(self.out)
        self.out.unlink()
        return Load(self.prefix, send_ns, self.rate)


def kill_group(process: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL a process started in its own session and everything it started."""
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)


def stop_group(process: subprocess.Popen[bytes] | None, timeout: float = 60) -> None:
    """SIGTERM the process's session (a clean stop), SIGKILL after ``timeout`` s."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)


def single_thread_env(**extra: str) -> dict[str, str]:
    """One BLAS thread per process: every process here shares two cores."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **extra}


# -- reading answers ------------------------------------------------------------------
def record_id(message: Message) -> str:
    """The id an answer (or a request) carries: its key, else ``meta.puid`` or V2 ``id``."""
    key = message.key()
    if key:
        return key.decode("utf-8", "replace")
    body = json.loads(message.value())
    meta = body.get("meta") or {}
    return str(meta.get("puid") or body.get("id") or "")


READER_CONFIG = {
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "fetch.wait.max.ms": 5,
    "socket.nagle.disable": "true",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": "false",
}


@dataclass
class AnswerReader:
    """Reads ``topic`` in a thread; notes each id's first arrival (ns) and extra copies."""

    servers: str
    topic: str
    arrivals: dict[str, int] = field(default_factory=dict)
    extra_copies: dict[str, int] = field(default_factory=dict)
    # Ids in order of first arrival: ``wait_for`` counts only the new ones each time, so
    # the waiting thread does not hold the GIL over a scan of every id while the reader
    # thread is timing arrivals.
    order: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        group = f"reader-{uuid.uuid4().hex[:8]}"
        self.consumer = Consumer({**READER_CONFIG, "bootstrap.servers": self.servers,
                                  "group.id": group})  # fmt: skip
        self.consumer.subscribe([self.topic])
        self.thread = threading.Thread(target=self._read, daemon=True)

    def join_group(self, timeout: float = 60) -> AnswerReader:
        """Hold the partitions before anything is sent (a late join would be timed)."""
        deadline = time.monotonic() + timeout
        while not self.consumer.assignment():
            if time.monotonic() > deadline:
                raise RuntimeError(f"reader of {self.topic} got no partitions")
            self._take(self.consumer.consume(500, 0.1))
        self.thread.start()
        return self

    def _read(self) -> None:
        while not self._stop.is_set():
            self._take(self.consumer.consume(5000, 0.005))

    def _take(self, messages: list[Message]) -> None:
        now = time.time_ns()
        for message in messages:
            if message.error() is not None:
                continue
            ident = record_id(message)
            if ident in self.arrivals:
                self.extra_copies[ident] = self.extra_copies.get(ident, 0) + 1
                continue
            self.arrivals[ident] = now
            self.order.append(ident)

    def wait_for(self, prefix: str, count: int, timeout: float, idle: float = 30.0) -> int:
        """Until ``count`` ids with ``prefix`` arrived, ``timeout`` passed, or ``idle`` s
        without progress; returns how many arrived."""
        deadline, last, seen = time.monotonic() + timeout, time.monotonic(), -1
        now = read = 0
        while time.monotonic() < deadline and time.monotonic() - last < idle:
            fresh = self.order[read:]
            read += len(fresh)
            now += sum(1 for k in fresh if k.startswith(prefix))
            if now >= count:
                return now
            if now != seen:
                seen, last = now, time.monotonic()
            time.sleep(0.05)
        return max(seen, 0)

    def close(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(10)
        self.consumer.close()


# -- figures --------------------------------------------------------------------------
def latencies_ms(load: Load, reader: AnswerReader, warmup_s: float = 1.0) -> np.ndarray:
    """Arrival minus produce time of every answered id sent after the warm-up."""
    skip = int(load.rate * warmup_s) if load.rate else 0
    values = [
        (reader.arrivals[f"{load.prefix}{i}"] - int(load.send_ns[i])) / 1e6
        for i in range(skip, load.count)
        if f"{load.prefix}{i}" in reader.arrivals
    ]
    return np.asarray(values, dtype=float)


def percentiles(ms: np.ndarray) -> dict[str, float]:
    if len(ms) == 0:
        return {"n": 0}
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {"n": len(ms), "p50": round(float(p50), 2), "p90": round(float(p90), 2),
            "p99": round(float(p99), 2), "max": round(float(ms.max()), 2)}  # fmt: skip


def answer_rate(load: Load, reader: AnswerReader, skip_first: int) -> float:
    """Answers per second as the reader received them, the first ``skip_first`` excluded.

    Arrival times, not output record timestamps: some systems (Quix Streams) give an
    answer its input's timestamp.
    """
    times = sorted(reader.arrivals[k] for k in list(reader.arrivals) if k.startswith(load.prefix))
    skip = min(skip_first, len(times) // 10)
    if len(times) - skip < 2:
        return 0.0
    return (len(times) - skip - 1) / max((times[-1] - times[skip]) / 1e9, 1e-3)


def lost_and_answered(load: Load, reader: AnswerReader) -> tuple[int, int]:
    answered = sum(1 for i in range(load.count) if f"{load.prefix}{i}" in reader.arrivals)
    return load.count - answered, answered


def duplicated(load: Load, reader: AnswerReader) -> int:
    """Inputs of ``load`` answered more than once."""
    return sum(1 for k in reader.extra_copies if k.startswith(load.prefix))


def save(name: str, results: dict[str, Any], markdown: str, out: Path | None = None) -> Path:
    """``bench/results/<name>.json`` and ``.md`` (or ``out``'s stem), then print the table."""
    target = out or RESULTS / f"{name}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    target.write_text(markdown)
    print(markdown)
    print(f"written: {target} and {target.with_suffix('.json')}")
    return target

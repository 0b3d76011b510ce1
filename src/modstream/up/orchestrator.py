"""``modstream up``: broker, topics, model, stream worker, model server, monitor, dashboard.

Start order: the broker, booting while the model is loaded or trained (then its topics),
the stream worker, then, once it has imported its libraries, the model server and the
monitor beside it, then the dashboard. With ``--bootstrap-servers`` an existing Kafka
replaces the broker: that it answers, the login and the topics are checked (missing topics
created) before the model (``existing.py``). Stop (Ctrl-C or SIGTERM): the dashboard,
monitor, worker and server side by side (none needs another to stop), then the broker they
all use; each child is waited for and killed after ``stop_timeout_s``. If a child dies on
its own, everything else is stopped and ``modstream up`` exits 1 with the child's last log
lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modstream.errors import ModstreamError
from modstream.settings import UpSettings
from modstream.settings.defaults import READY_PATH, SHADOW_SUFFIX
from modstream.up import banner, existing
from modstream.up.models import ModelChoice, check_sources, prepare_model
from modstream.up.processes import HOST, ChildProcess, Ports
from modstream.up.registry import publish_champion
from modstream.up.runtime import DashboardRunner, plan_ports

log = logging.getLogger(__name__)

WORKER_GROUP = "modstream-up"
BROKER = "Kafka broker"


class Orchestrator:
    """Runs the whole local stack in the foreground until a signal stops it."""

    def __init__(
        self,
        settings: UpSettings,
        model_args: dict[str, Any],
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.model_args = model_args
        self.say = say or _print
        self.children: list[ChildProcess] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="modstream-up-"))
        self.failed: ChildProcess | None = None
        self.unclean = False
        self.login: Path | None = None  # an existing Kafka's login, for the commands shown

    # -- the whole run -------------------------------------------------------------------
    def run(self) -> int:
        """Start everything, serve until stopped, stop everything; returns the exit code."""
        previous = signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGINT, _interrupt)  # even if started with SIGINT ignored
        try:
            check_sources(self.model_args.get("model_dir"), self.model_args.get("data"))
            ports, notes = plan_ports(self.settings)
            for note in notes:
                self.say(note)
            broker = None
            if self.settings.bootstrap_servers:  # before the model: a refusal ends up at once
                existing.prepare_topics(self.settings, self.say)
                self.login = existing.write_properties(self.settings, self.workdir)
            else:  # before the model too: it boots while the model's libraries load
                self.say(f"starting the Kafka broker on {HOST}:{ports.broker}")
                broker = self._spawn(BROKER, _broker_args(self.settings, ports))
            choice = prepare_model(workdir=self.workdir, say=self.say, **self.model_args)
            if broker is not None:
                _wait_for_topics(broker, ports, self.settings.topics)
            self._start_children(ports, choice)
            return asyncio.run(self._serve(ports, choice))
        except KeyboardInterrupt:
            self.say("interrupted while starting")
            return 0
        finally:
            signal.signal(signal.SIGINT, _still_stopping)
            signal.signal(signal.SIGTERM, _still_stopping)
            self._stop_children()
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, previous)
            self._clean_up()

    def _start_children(self, ports: Ports, choice: ModelChoice) -> None:
        s = self.settings
        kafka = {"bootstrap.servers": ports.bootstrap_servers, **s.kafka_config}
        publish_champion(s, kafka, choice, self.workdir, self.say)
        self.say(
            "starting the model server, the stream worker and the monitor "
            "(quality from moderators' decisions, drift)"
        )
        env = existing.child_environment(s)  # the login, where `ps` does not show it
        # None needs another to be ready. The worker starts first: its start ends with
        # joining its consumer group, a wait on the broker (about 3 s for a new group)
        # that the others' imports fill once it has imported its own (its metrics
        # endpoint answers), instead of the three sharing the cores from the start.
        worker = self._spawn("stream worker", _stream_args(s, choice, ports), env)
        _wait_for_ready(worker, f"http://{HOST}:{ports.metrics}{READY_PATH}", 60, answered=True)
        server = self._spawn("model server", _serve_args(s, choice, ports), env)
        monitor = self._spawn("monitor", _monitor_args(s, choice, ports, self.workdir), env)
        if not _wait_for_ready(server, f"http://{HOST}:{ports.http}/v2/health/ready", 120):
            raise ModstreamError(f"the {server.name} did not become ready within 120s")
        # Ready once it has warmed up and joined its consumer group.
        if not _wait_for_ready(worker, f"http://{HOST}:{ports.metrics}{READY_PATH}", 90):
            self.say("the stream worker is still joining its consumer group")
        if not _wait_for_ready(monitor, f"http://{HOST}:{ports.monitor}/ready", 60):
            raise ModstreamError(f"the {monitor.name} did not become ready within 60s")

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> ChildProcess:
        log_path = self.workdir / f"{name.split()[-1]}.log"
        child = ChildProcess(name, args, log_path, env).start()
        self.children.append(child)
        return child

    async def _serve(self, ports: Ports, choice: ModelChoice) -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runner = DashboardRunner(self.settings, ports, choice, self.login)
        await runner.start()
        try:
            self.say(banner.render(self.settings, ports, choice, self.workdir, self.login))
            watch = asyncio.create_task(self._watch_children(stop))
            await stop.wait()
            watch.cancel()
        finally:
            self._interrupt_clients(also="dashboard")  # they stop while it does
            await runner.stop()
        return 1 if self.failed is not None else 0

    async def _watch_children(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for child in self.children:
                if child.exit_code() is not None:
                    self.failed = child
                    self.say(
                        f"error: the {child.name} exited with code {child.exit_code()}; "
                        f"its last lines:\n{child.log_tail()}"
                    )
                    stop.set()
                    return
            await asyncio.sleep(0.5)

    # -- stopping ----------------------------------------------------------------------
    def _interrupt_clients(self, also: str | None = None) -> None:
        """Ask every child but the broker to stop, all at once (none needs another to
        stop); ``also`` names what the caller stops beside them."""
        asked = [
            child for child in reversed(self.children)
            if child.name != BROKER and not child.interrupted and child.exit_code() is None
        ]  # fmt: skip
        names = [*([also] if also else []), *(child.name for child in asked)]
        if names:
            self.say(f"stopping: {_listed(names)}")
        for child in asked:
            child.interrupt()

    def _stop_children(self) -> None:
        self._interrupt_clients()
        for child in reversed(self.children):  # the broker, started first, stops last
            if child.name == BROKER and child.exit_code() is None:
                self.say(f"stopping: {child.name}")
            code = child.stop(self.settings.stop_timeout_s)
            if code not in (0, None, -signal.SIGINT) and child is not self.failed:
                self.say(f"the {child.name} exited with code {code}")
                self.unclean = True
        if self.children:
            self.say("stopped")

    def _clean_up(self) -> None:
        if self.login is not None:  # a password: never left behind, even with the logs
            self.login.unlink(missing_ok=True)
        if self.failed is None and not self.unclean:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            self.say(f"logs kept in {self.workdir}")


def _listed(names: list[str]) -> str:
    """The names as a sentence lists them: a; a and b; a, b and c."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _print(text: str) -> None:
    print(text, flush=True)


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _still_stopping(_signum: int, _frame: Any) -> None:
    print("still stopping (children that do not stop in time are killed)", file=sys.stderr)


def _broker_args(s: UpSettings, ports: Ports) -> list[str]:
    args = ["broker", "--host", HOST, "--port", str(ports.broker)]
    for topic in s.topics:
        args += ["--topic", f"{topic}={s.partitions}"]
    return args


def _serve_args(s: UpSettings, choice: ModelChoice, ports: Ports) -> list[str]:
    return [
        "serve", "--model", str(choice.path), "--host", HOST,
        "--http-port", str(ports.http), "--grpc-port", str(ports.grpc),
        "--registry", "--models-topic", s.models_topic,
        "--bootstrap-servers", ports.bootstrap_servers,
    ]  # fmt: skip


def _stream_args(s: UpSettings, choice: ModelChoice, ports: Ports) -> list[str]:
    return [
        "stream", "--model", str(choice.path),
        "--bootstrap-servers", ports.bootstrap_servers,
        "--input-topic", s.input_topic, "--output-topic", s.output_topic,
        "--dead-letter-topic", s.dead_letter, "--group", WORKER_GROUP,
        "--metrics-port", str(ports.metrics), "--metrics-host", HOST,
        "--registry", "--models-topic", s.models_topic, "--policies-topic", s.policies_topic,
    ]  # fmt: skip


def _monitor_args(s: UpSettings, choice: ModelChoice, ports: Ports, workdir: Path) -> list[str]:
    return [
        "monitor", "--bootstrap-servers", ports.bootstrap_servers,
        "--predictions-topic", s.output_topic, "--decisions-topic", s.decisions_topic,
        "--shadow-topic", f"{s.output_topic}{SHADOW_SUFFIX}",
        "--metrics-topic", s.monitor_metrics_topic, "--alerts-topic", s.alerts_topic,
        "--model", str(choice.path), "--state-dir", str(workdir / "monitor"),
        "--host", HOST, "--port", str(ports.monitor), "--tick-s", "2",
    ]  # fmt: skip


def _wait_for_topics(broker: ChildProcess, ports: Ports, topics: list[str]) -> None:
    from confluent_kafka.admin import AdminClient

    deadline = time.monotonic() + 60
    while not _accepts(ports.broker) and time.monotonic() < deadline:
        broker.raise_if_exited()  # wait quietly: a client would log every refused connection
        time.sleep(0.1)
    admin = AdminClient({"bootstrap.servers": f"{HOST}:{ports.broker}"})
    while time.monotonic() < deadline:
        broker.raise_if_exited()
        with contextlib.suppress(Exception):
            if set(topics) <= set(admin.list_topics(timeout=1).topics):
                return
        time.sleep(0.2)
    raise ModstreamError(f"the Kafka broker did not create {', '.join(topics)} within 60s")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_for_ready(child: ChildProcess, url: str, timeout: float, answered: bool = False) -> bool:
    """Whether ``url`` answered 200 (with ``answered``, anything: a 503 too) within
    ``timeout``; ``ModstreamError`` if the child exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child.raise_if_exited()
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except urllib.error.HTTPError:  # not ready yet: 503
            if answered:
                return True
        except OSError:  # not listening yet
            pass
        time.sleep(0.1)
    return False

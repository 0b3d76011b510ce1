"""Ports of ``modstream up`` and the dashboard's web server in its event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

import uvicorn

from modstream.errors import ModstreamError
from modstream.settings import UpSettings
from modstream.up.models import ModelChoice
from modstream.up.processes import HOST, Ports, any_free_port, port_is_free
from modstream.webserver import QuietServer

# (settings field, what listens there, the flag that sets it)
_PORTS = (
    ("port", "dashboard", "--port"),
    ("http_port", "REST server", "--http-port"),
    ("grpc_port", "gRPC server", "--grpc-port"),
    ("broker_port", "Kafka broker", "--broker-port"),
    ("metrics_port", "stream worker's metrics server", "--metrics-port"),
    ("monitor_port", "monitor", "--monitor-port"),
)


def plan_ports(settings: UpSettings) -> tuple[Ports, list[str]]:
    """A free port for each listener; a taken default is replaced, a taken choice is an error."""
    explicit = settings.explicit_ports()
    chosen: dict[str, int] = {}
    notes: list[str] = []
    for field, what, flag in _PORTS:
        if field == "broker_port" and settings.bootstrap_servers:
            chosen[field] = 0  # an existing Kafka: no embedded broker listens
            continue
        port = int(getattr(settings, field))
        if port in chosen.values() or not port_is_free(port):
            if field in explicit:
                raise ModstreamError(
                    f"port {port} for the {what} is already in use on {HOST}; "
                    f"pick another with {flag} PORT"
                )
            new = any_free_port(set(chosen.values()))
            notes.append(f"port {port} is in use: the {what} uses {new} instead ({flag} sets it)")
            port = new
        chosen[field] = port
    ports = Ports(
        dashboard=chosen["port"],
        http=chosen["http_port"],
        grpc=chosen["grpc_port"],
        broker=chosen["broker_port"],
        metrics=chosen["metrics_port"],
        monitor=chosen["monitor_port"],
        kafka=settings.bootstrap_servers or "",
    )
    return ports, notes


class DashboardRunner:
    """The dashboard app (Kafka feeds, explanations) on ``127.0.0.1:<dashboard port>``."""

    def __init__(
        self, settings: UpSettings, ports: Ports, choice: ModelChoice, login: Path | None = None
    ) -> None:
        from modstream.dashboard.app import Dashboard, DashboardConfig
        from modstream.up.banner import links

        config = DashboardConfig(
            bootstrap_servers=ports.bootstrap_servers,
            input_topic=settings.input_topic,
            output_topic=settings.output_topic,
            dead_letter_topic=settings.dead_letter,
            demo=choice.demo,
            origin=choice.origin,
            links=links(settings, ports, choice, login),
            monitor_url=f"http://{HOST}:{ports.monitor}",
            decisions_topic=settings.decisions_topic,
            models_topic=settings.models_topic,
        )
        self.dashboard = Dashboard(config, choice.model, settings.kafka_config)
        self.server = QuietServer(
            uvicorn.Config(
                self.dashboard.app,
                host=HOST,
                port=ports.dashboard,
                lifespan="off",
                access_log=False,
                log_level="warning",
                timeout_graceful_shutdown=3,
            )
        )
        self.port = ports.dashboard
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.dashboard.start()
        self._task = asyncio.create_task(self.server.serve(), name="modstream-dashboard")
        while not self.server.started:
            if self._task.done():
                await self.dashboard.stop()
                raise ModstreamError(f"the dashboard could not listen on {HOST}:{self.port}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        await self.dashboard.close_streams()
        self.server.should_exit = True
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self.dashboard.stop()

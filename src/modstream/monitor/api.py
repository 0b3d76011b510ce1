"""The monitor's HTTP endpoints: JSON for people and dashboards, text for Prometheus.

``GET /api/report`` everything (per version: windows, since start, communities worst
first; drift; recent alerts; history), ``GET /api/alerts`` the drift state and recent
alert changes, ``GET /metrics`` Prometheus, ``GET /ready`` 200 once the monitor reads its
topics (503 before and while stopping), ``GET /healthz`` 200 while the process runs.
"""

from __future__ import annotations

import threading
import time

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modstream.errors import ModstreamError
from modstream.monitor.runner import MonitorRunner
from modstream.webserver import QuietServer

__all__ = ["MonitorApi"]


def _json(body: object, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status,
        media_type="application/json",
    )


def build_app(runner: MonitorRunner) -> Starlette:
    """The routes over ``runner``'s state."""

    async def report(_request: Request) -> Response:
        return _json(runner.report())

    async def alerts(_request: Request) -> Response:
        body = runner.report()
        return _json({"drift": body["drift"], "alerts": body["alerts"]})

    async def metrics(_request: Request) -> Response:
        return Response(runner.metrics.exposition(), media_type="text/plain; version=0.0.4")

    async def ready(_request: Request) -> Response:
        ok = runner.ready.is_set()
        return _json({"ready": ok}, 200 if ok else 503)

    async def healthz(_request: Request) -> Response:
        return _json({"alive": True})

    return Starlette(
        routes=[
            Route("/api/report", report),
            Route("/api/alerts", alerts),
            Route("/metrics", metrics),
            Route("/ready", ready),
            Route("/healthz", healthz),
        ]
    )


class MonitorApi:
    """The endpoints on ``host:port`` in a background thread."""

    def __init__(self, runner: MonitorRunner, host: str, port: int) -> None:
        config = uvicorn.Config(
            build_app(runner),
            host=host,
            port=port,
            lifespan="off",
            access_log=False,
            log_level="warning",
        )
        self.server = QuietServer(config)
        self.thread = threading.Thread(target=self.server.run, name="monitor-api", daemon=True)

    def start(self) -> None:
        """Listen; ``ModstreamError`` if the port cannot be bound."""
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                config = self.server.config
                raise ModstreamError(f"the monitor could not listen on {config.host}:{config.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10.0)

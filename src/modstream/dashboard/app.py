"""The dashboard web app: the page, its JSON API, server-sent events and the comment box.

Routes: ``/`` (the page), ``/static/*`` (its files, shipped in the package),
``/api/snapshot`` (everything at once), ``/api/events`` (server-sent events: ``snapshot``,
``comment``, ``stats``), ``POST /api/comments`` (``{"text": ...}`` into the input topic).
Explanations come from the data plane, the only path to the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from modstream.dashboard.consumer import KafkaFeed
from modstream.dashboard.explain import Explainer
from modstream.dashboard.feeds import SENT_ID, Comment, FeedState, Record
from modstream.dashboard.models import ModelsPanel
from modstream.dashboard.quality import QualityPanel
from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput, ModstreamError, PayloadTooLarge
from modstream.kafka_tools import long_lived, reader_config, seldon_request
from modstream.model import TextModel
from modstream.registry.client import Registry
from modstream.settings import defaults

MAX_COMMENT_CHARS = 10_000
KEEPALIVE_S = 15.0
# The feed's idle fetch wait on the embedded broker, which answers a fetch only when the
# wait is over: short, so verdicts show at once; longer on Apache Kafka (``reader_config``).
FEED_WAIT_MS = 10


def static_dir() -> Path:
    """The page's files inside the installed package."""
    return Path(str(resources.files("modstream.dashboard") / "static"))


@dataclass(frozen=True)
class DashboardConfig:
    """Where the dashboard reads and writes, and what it tells the user about the model."""

    bootstrap_servers: str
    input_topic: str
    output_topic: str
    dead_letter_topic: str
    demo: bool
    origin: str
    links: dict[str, str] = field(default_factory=dict)
    models_topic: str | None = None  # the registry; None: no model panel
    model_name: str = defaults.MODEL_NAME
    monitor_url: str | None = None  # the monitor's REST endpoint; None: no quality panel
    decisions_topic: str | None = None  # where the moderator buttons publish


class Hub:
    """Fan-out of events to every open event stream."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str | None]] = set()

    def subscribe(self) -> asyncio.Queue[str | None]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=1000)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self._queues.discard(queue)

    def publish(self, event: str, data: Any) -> None:
        message = f"event: {event}\ndata: {json.dumps(data)}\n\n"
        for queue in self._queues:
            with contextlib.suppress(asyncio.QueueFull):  # a stalled tab misses events
                queue.put_nowait(message)

    def close(self) -> None:
        for queue in self._queues:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)


class Dashboard:
    """The app plus its background work: the Kafka feed, explanations and a stats ticker."""

    def __init__(
        self, config: DashboardConfig, model: TextModel, kafka_config: dict[str, str] | None = None
    ) -> None:
        self.config = config
        # The login (it may hold a password) stays here: ``config`` is shown on the page.
        self.kafka = {"bootstrap.servers": config.bootstrap_servers, **(kafka_config or {})}
        self.plane = DataPlane(model)
        self.state = FeedState(
            config.input_topic, config.output_topic, config.dead_letter_topic, model.threshold
        )
        self.hub = Hub()
        self.explainer = Explainer(self.plane, self._publish_comment)
        self.feed: KafkaFeed | None = None
        self.producer: Producer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.models_panel: ModelsPanel | None = None
        self._unfollow: Callable[[], None] = lambda: None
        self.app = Starlette(
            routes=[
                Route("/", self.page),
                Route("/api/snapshot", self.snapshot),
                Route("/api/events", self.events),
                Route("/api/comments", self.send_comment, methods=["POST"]),
                *self._model_routes(),
                *QualityPanel(self.publish, config.monitor_url, config.decisions_topic).routes(),
                Mount("/static", StaticFiles(directory=static_dir()), name="static"),
            ],
            exception_handlers={ModstreamError: self.error},
        )

    def _model_routes(self) -> list[Route]:
        c = self.config
        if c.models_topic is None:
            return []
        registry = Registry(self.kafka, c.models_topic)
        self.models_panel = ModelsPanel(registry, c.model_name)
        return self.models_panel.routes()

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        c = self.config
        self.producer = Producer(long_lived({**self.kafka, "linger.ms": 1}, "dashboard"))
        feed_config = await loop.run_in_executor(
            None, reader_config, self.kafka, FEED_WAIT_MS, "dashboard"
        )
        self.feed = KafkaFeed(
            {
                **feed_config,
                "group.id": f"modstream-dashboard-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": "false",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500,
            },
            list(dict.fromkeys([c.input_topic, c.output_topic, c.dead_letter_topic])),
            lambda record: _call_soon(loop, self._ingest, record),
        )
        self.feed.start()
        if self.models_panel is not None:  # explanations come from the registry's champion
            self._unfollow = await loop.run_in_executor(None, self.models_panel.follow, self.plane)
        self._tasks = [
            asyncio.create_task(self.explainer.run(), name="dashboard-explainer"),
            asyncio.create_task(self._tick(), name="dashboard-ticker"),
        ]

    async def close_streams(self) -> None:
        """End every open event stream, so the web server can stop at once."""
        self.hub.close()
        await asyncio.sleep(0.05)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        loop = asyncio.get_running_loop()
        if self.feed is not None:
            await loop.run_in_executor(None, self.feed.stop)
        if self.producer is not None:
            await loop.run_in_executor(None, self.producer.flush, 5.0)
            self.producer = None  # disconnects before the broker goes away
        self.explainer.close()
        self._unfollow()

    # -- background ------------------------------------------------------------------
    def _ingest(self, record: Record) -> None:
        for comment in self.state.ingest(record):
            self.explainer.submit(comment)

    def _publish_comment(self, comment: Comment) -> None:
        self.hub.publish("comment", comment.to_json())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for comment in self.state.expire():
                self.explainer.submit(comment)
            self.hub.publish("stats", self.state.stats())

    # -- routes ----------------------------------------------------------------------
    async def page(self, _request: Request) -> Response:
        return FileResponse(static_dir() / "index.html", headers={"cache-control": "no-cache"})

    def _snapshot(self) -> dict[str, Any]:
        return {
            "config": asdict(self.config),
            "model": {
                **self.plane.metadata(),
                "demo": self.config.demo,
                "origin": self.config.origin,
            },
            "stats": self.state.stats(),
            "comments": [c.to_json() for c in self.state.latest if c.why is not None or c.error],
        }

    async def snapshot(self, _request: Request) -> Response:
        return JSONResponse(self._snapshot())

    async def events(self, request: Request) -> Response:
        queue = self.hub.subscribe()
        first = f"event: snapshot\ndata: {json.dumps(self._snapshot())}\n\n"

        async def stream() -> AsyncIterator[str]:
            try:
                yield first
                while True:
                    try:
                        message = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if message is None:
                        return
                    yield message
            finally:
                self.hub.unsubscribe(queue)

        headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def send_comment(self, request: Request) -> Response:
        text = _comment_text(await request.body())
        sent_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        partition, offset = await loop.run_in_executor(None, self._produce, text, sent_id)
        topic = self.config.input_topic
        body = {"id": sent_id, "topic": topic, "partition": partition, "offset": offset}
        return JSONResponse(body, status_code=202)

    def _produce(self, text: str, sent_id: str) -> tuple[int, int]:
        # Keyed by its id: that is the comment's id a moderator's decision names.
        headers: list[tuple[str, str | bytes | None]] = [(SENT_ID, sent_id.encode())]
        key, value = sent_id.encode(), seldon_request(text)
        return self.publish(self.config.input_topic, key, value, headers, what="comment")

    def publish(
        self,
        topic: str,
        key: bytes,
        value: bytes,
        headers: list[tuple[str, str | bytes | None]] | None = None,
        *,
        what: str = "record",
    ) -> tuple[int, int]:
        """Produce one record and wait for Kafka to take it; ``(partition, offset)``."""
        assert self.producer is not None
        result: dict[str, Any] = {}

        def delivered(error: Any, message: Any) -> None:
            result.update(error=error, message=message)

        self.producer.produce(topic, key=key, value=value, headers=headers, on_delivery=delivered)
        self.producer.flush(10.0)
        if result.get("error") is not None or "message" not in result:
            reason = result.get("error") or "no acknowledgement within 10s"
            raise ModstreamError(
                f"Kafka did not accept the {what}: {reason}", status=503, reason="UNAVAILABLE"
            )
        return result["message"].partition(), result["message"].offset()

    async def error(self, _request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ModstreamError)
        return JSONResponse({"error": exc.message}, status_code=exc.status)


def _call_soon(loop: asyncio.AbstractEventLoop, func: Any, record: Record) -> None:
    """Hand a record from the consumer thread to the event loop (unless it has closed)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(func, record)


def _comment_text(body: bytes) -> str:
    """``{"text": "..."}`` from the page; ``InvalidInput`` for anything else."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise InvalidInput('send JSON like {"text": "a comment"}') from exc
    text = payload.get("text") if isinstance(payload, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("write a comment first")
    if len(text) > MAX_COMMENT_CHARS:
        raise PayloadTooLarge(f"comments are limited to {MAX_COMMENT_CHARS:,} characters here")
    return text.strip()

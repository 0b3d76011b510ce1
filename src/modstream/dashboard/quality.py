"""The dashboard's quality panel: the monitor's numbers, and moderators' keep/remove buttons.

Routes: ``GET /api/quality`` (the monitor's latest report, fetched from its REST endpoint;
``{"enabled": false}`` when the dashboard runs without a monitor) and ``POST
/api/decisions`` (``{"id": ..., "removed": true|false, "community": ...}``): the page's
buttons publish a moderator's decision on the decisions topic, keyed by the comment's id,
checked against the same contract the monitor reads.
"""

from __future__ import annotations

import asyncio
import functools
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from modstream.errors import InvalidInput, ModstreamError
from modstream.monitor.contract import parse_decision

__all__ = ["QualityPanel"]

FETCH_TIMEOUT_S = 3.0


Publish = Callable[..., tuple[int, int]]  # the dashboard's: (topic, key, value) -> position


class QualityPanel:
    """What the page shows of the monitor, and where its decisions go."""

    def __init__(
        self, publish: Publish, monitor_url: str | None, decisions_topic: str | None
    ) -> None:
        self.publish = publish
        self.monitor_url = monitor_url
        self.decisions_topic = decisions_topic

    def routes(self) -> list[Route]:
        return [
            Route("/api/quality", self.quality, methods=["GET"]),
            Route("/api/decisions", self.decide, methods=["POST"]),
        ]

    async def quality(self, _request: Request) -> Response:
        if self.monitor_url is None:
            return JSONResponse({"enabled": False})
        loop = asyncio.get_running_loop()
        report = await loop.run_in_executor(None, self._fetch)
        return JSONResponse({"enabled": True, "decisions_topic": self.decisions_topic, **report})

    def _fetch(self) -> dict[str, Any]:
        url = f"{self.monitor_url}/api/report"
        try:
            with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as answer:
                return json.loads(answer.read())  # type: ignore[no-any-return]
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ModstreamError(
                f"the monitor at {self.monitor_url} is not answering: {exc}",
                status=503,
                reason="UNAVAILABLE",
            ) from exc

    async def decide(self, request: Request) -> Response:
        if self.decisions_topic is None:
            raise InvalidInput("this dashboard has no decisions topic")
        value = _decision_value(await request.body())
        decision = json.loads(value)
        topic, key = self.decisions_topic, decision["id"].encode("utf-8")
        loop = asyncio.get_running_loop()
        partition, offset = await loop.run_in_executor(
            None, functools.partial(self.publish, topic, key, value, what="decision")
        )
        where = {"topic": topic, "partition": partition, "offset": offset}
        return JSONResponse({**decision, **where}, status_code=202)


def _decision_value(body: bytes) -> bytes:
    """A moderator's decision from the page's ``{"id", "removed", "community"}``, checked."""
    try:
        asked = json.loads(body)
    except ValueError as exc:
        raise InvalidInput('send JSON like {"id": "...", "removed": true}') from exc
    if not isinstance(asked, dict):
        raise InvalidInput('send JSON like {"id": "...", "removed": true}')
    decision = {
        "id": asked.get("id"),
        "removed": asked.get("removed"),
        "source": "moderator",
        "community": asked.get("community") or None,
        "at": datetime.now(UTC).isoformat(),
    }
    value = json.dumps(decision).encode("utf-8")
    parse_decision(value)  # the contract's reasons (BAD_DECISION, 400) reach the page as is
    return value

"""The dashboard's model panel: versions and roles from the registry, and its buttons.

Routes: ``GET /api/models`` (versions with their roles and refusals, the latest history
lines) and ``POST /api/models/{promote,canary,shadow,rollback}`` with a JSON body
(``{"version": ...}``, ``{"version": ..., "percent": ...}``, ``{"version": null}`` ends a
canary or shadow, ``{"to": ...}`` or ``{}`` for rollback). Every change goes through the
same ``RegistryAdmin`` as ``modstream models``, so it is checked the same way.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput, NotFound
from modstream.registry.admin import RegistryAdmin
from modstream.registry.client import Registry
from modstream.registry.events import ModelEvent
from modstream.registry.follow import follow_registry
from modstream.registry.views import event_row, version_rows

HISTORY_LINES = 12

__all__ = ["ModelsPanel"]


class ModelsPanel:
    """What the page shows about the registry and the actions it offers."""

    def __init__(self, registry: Registry, name: str) -> None:
        self.admin = RegistryAdmin(registry, name)
        self.name = name

    def follow(self, plane: DataPlane) -> Callable[[], None]:
        """Make ``plane`` (the dashboard's explanations) follow the registry's champion;
        returns what stops following. Blocks until the registry has been read."""
        from modstream.settings import DataSettings

        registry = self.admin.registry
        followed = follow_registry(
            dict(registry.config), registry.topic, self.name,
            cache=DataSettings().cache_dir, instance=f"{socket.gethostname()}:dashboard",
            initial=plane.model,
        )  # fmt: skip
        followed.manager.attach(plane.swap)
        return followed.stop

    def routes(self) -> list[Route]:
        return [
            Route("/api/models", self.listing, methods=["GET"]),
            Route("/api/models/{action}", self.act, methods=["POST"]),
        ]

    def snapshot(self) -> dict[str, Any]:
        """Versions (newest first) and the latest history lines (newest first)."""
        registry = self.admin.registry
        try:
            state = self.admin.model_state()
        except NotFound:
            return {"model": self.name, "topic": registry.topic, "versions": [], "history": []}
        history = [event_row(e) for e in registry.history(self.name)[-HISTORY_LINES:]]
        return {
            "model": self.name,
            "topic": registry.topic,
            "versions": version_rows(state),
            "history": history[::-1],
        }

    async def listing(self, _request: Request) -> Response:
        return JSONResponse(await asyncio.to_thread(self.snapshot))

    async def act(self, request: Request) -> Response:
        action = request.path_params["action"]
        run = self._actions().get(action)
        if run is None:
            raise NotFound(f"no model action {action!r}")
        body = _body(await request.body())
        events = await asyncio.to_thread(run, body)
        return JSONResponse({"events": [event_row(e) for e in events]})

    def _actions(self) -> dict[str, Callable[[dict[str, Any]], list[ModelEvent]]]:
        admin = self.admin
        return {
            "promote": lambda body: admin.promote(_version(body)),
            "rollback": lambda body: admin.rollback(_optional(body, "to")),
            "shadow": lambda body: [admin.shadow(_optional(body, "version"))],
            "canary": lambda body: [
                admin.canary(_optional(body, "version"), _percent(body.get("percent")))
            ],
        }


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise InvalidInput("send a JSON object") from exc
    if not isinstance(body, dict):
        raise InvalidInput("send a JSON object")
    return body


def _optional(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{name} must be a version string")
    return value


def _version(body: dict[str, Any]) -> str:
    version = _optional(body, "version")
    if not version:
        raise InvalidInput('which version? send {"version": ...}')
    return version


def _percent(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput("percent must be a number")
    return float(value)

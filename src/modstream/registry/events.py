"""Model events: what the registry topic says every worker and server should run.

One JSON document per event (schema 1)::

    {"schema": 1, "type": "champion", "model": "moderation", "version": "2026...-72b01a06",
     "at": "2026-11-28T15:10:43.512Z", "by": "alice@build-host", ...type-specific fields}

Event types and their fields:

``published``  a version exists and can be loaded: ``uri`` (a directory or an http(s) base
               URL holding the artifact's files), ``sha256`` (of its ``manifest.json``, which
               itself pins the other files), ``preset``, ``threshold``, ``created_at``.
``retired``    a version must no longer be given a role (same fields as ``published``).
``champion``   the version that answers every comment not sent to the canary; ``lineage``
               lists the earlier champions, oldest first (what ``rollback`` returns to).
``canary``     ``version`` answers ``percent`` % of comments; ``version: null`` ends it.
``shadow``     ``version`` scores every batch beside the champion, its answers going to the
               shadow topic; ``version: null`` ends it.
``refused``    an ``instance`` (worker or server) could not load or verify ``version``:
               ``reason`` says why. Nothing changes: the instance keeps what it runs.

Record keys decide what compaction keeps: the latest record per key is a complete piece of
the current state (see :func:`event_key`), so folding the compacted topic in offset order
rebuilds it exactly.
"""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from modstream.errors import InvalidInput

SCHEMA = 1
PUBLISHED = "published"
RETIRED = "retired"
CHAMPION = "champion"
CANARY = "canary"
SHADOW = "shadow"
REFUSED = "refused"
EVENT_TYPES = (PUBLISHED, RETIRED, CHAMPION, CANARY, SHADOW, REFUSED)
ROLES = (CHAMPION, CANARY, SHADOW)
# The longest rollback history a champion record carries.
MAX_LINEAGE = 50

__all__ = [
    "CANARY",
    "CHAMPION",
    "EVENT_TYPES",
    "PUBLISHED",
    "REFUSED",
    "RETIRED",
    "ROLES",
    "SHADOW",
    "ModelEvent",
    "event_key",
    "now",
    "operator",
]


def now() -> str:
    """The current UTC time as ISO-8601 with milliseconds, the events' ``at`` format."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def operator() -> str:
    """Who acts: ``user@host``, recorded in ``by``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers with a random uid)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class ModelEvent:
    """One registry event; ``to_json``/``from_json`` are the wire format."""

    type: str
    model: str
    version: str | None
    at: str = field(default_factory=now)
    by: str = field(default_factory=operator)
    uri: str | None = None
    sha256: str | None = None
    preset: str | None = None
    threshold: float | None = None
    created_at: str | None = None
    percent: float | None = None
    lineage: tuple[str, ...] = ()
    instance: str | None = None
    reason: str | None = None

    def key(self) -> str:
        return event_key(self)

    def to_json(self) -> bytes:
        body = {"schema": SCHEMA, **asdict(self)}
        body["lineage"] = list(self.lineage)
        return json.dumps(
            {k: v for k, v in body.items() if v not in (None, [])}, sort_keys=True
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes | None) -> ModelEvent:
        """Parse one record value; ``InvalidInput`` names what is wrong with it."""
        try:
            body = json.loads(raw or b"")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"a model event is not JSON: {exc}") from exc
        if not isinstance(body, dict) or body.get("schema") != SCHEMA:
            raise InvalidInput(f"a model event has an unknown schema: {str(body)[:80]}")
        if body.get("type") not in EVENT_TYPES or not isinstance(body.get("model"), str):
            raise InvalidInput(f"a model event has no known type or no model: {str(body)[:80]}")
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {k: v for k, v in body.items() if k in known}
        values["lineage"] = tuple(str(v) for v in values.get("lineage", ()))
        values.setdefault("version", None)
        try:
            event = cls(**values)
        except TypeError as exc:
            raise InvalidInput(f"a model event is incomplete: {exc}") from exc
        _check(event)
        return event

    def with_lineage(self, lineage: list[str]) -> ModelEvent:
        return replace(self, lineage=tuple(lineage[-MAX_LINEAGE:]))


def _check(event: ModelEvent) -> None:
    needs_version = event.type in (PUBLISHED, RETIRED, CHAMPION, REFUSED)
    if needs_version and not event.version:
        raise InvalidInput(f"a {event.type!r} event needs a version")
    if event.type == PUBLISHED and not (event.uri and event.sha256):
        raise InvalidInput("a 'published' event needs a uri and a sha256")
    if event.type == CANARY and event.version and not 0 < (event.percent or 0) <= 100:
        raise InvalidInput(f"a canary needs a percent in (0, 100], not {event.percent}")
    if event.type == REFUSED and not event.instance:
        raise InvalidInput("a 'refused' event needs the instance that refused")


def event_key(event: ModelEvent) -> str:
    """The record key: the piece of state this event replaces.

    ``<model>/version/<version>`` for ``published``/``retired`` (the version's catalog
    entry), ``<model>/champion``, ``<model>/canary``, ``<model>/shadow`` for the roles, and
    ``<model>/refused/<version>/<instance>`` for a refusal report.
    """
    if event.type in (PUBLISHED, RETIRED):
        return f"{event.model}/version/{event.version}"
    if event.type in ROLES:
        return f"{event.model}/{event.type}"
    return f"{event.model}/refused/{event.version}/{event.instance}"

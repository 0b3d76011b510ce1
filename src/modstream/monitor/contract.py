"""The decision record: one moderator action on one comment, as it travels on Kafka.

A decision is a JSON object keyed by the comment's id::

    {"id": "t1_abc", "removed": true, "source": "moderator",
     "community": "science", "at": "2026-11-28T15:10:43Z"}

``id`` (required, 1-512 characters) is the comment's id: the key of the comment's input
record. The record key, when there is one, must be the same id (so every decision on a
comment lands in one partition, in order). ``removed`` (required) is a JSON boolean.
``source`` (default ``"moderator"``) says who decided (``moderator``, ``appeal``, ``report``,
``automod``, ... any short lower-case word). ``community`` is optional. ``at`` (required)
is an ISO-8601 time; one without a UTC offset is read as UTC; it may not be more than
``max_skew_s`` after the record's own timestamp (a wrong clock would otherwise move every
window). Other fields are allowed and ignored. A record that breaks any rule raises
``BadDecision`` with a reason a person can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from modstream.errors import InvalidInput

__all__ = ["DECISION_SCHEMA", "BadDecision", "Decision", "DecisionBatch", "parse_decision"]

MAX_ID_CHARS = 512
MAX_COMMUNITY_CHARS = 128
DEFAULT_MAX_SKEW_S = 86_400.0
_SOURCE = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")

DECISION_SCHEMA: dict[str, object] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "modstream moderator decision",
    "type": "object",
    "required": ["id", "removed", "at"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS},
        "removed": {"type": "boolean"},
        "source": {"type": "string", "pattern": _SOURCE.pattern, "default": "moderator"},
        "community": {"type": ["string", "null"], "maxLength": MAX_COMMUNITY_CHARS},
        "at": {"type": "string", "format": "date-time"},
    },
}


class BadDecision(InvalidInput):
    """A decision record that does not follow the contract; it goes to the dead-letter topic."""

    reason = "BAD_DECISION"


@dataclass(frozen=True)
class Decision:
    """A valid decision: ``at`` in seconds since the epoch (UTC)."""

    id: str
    removed: bool
    source: str
    community: str
    at: float


def parse_decision(
    value: bytes | None,
    key: bytes | None = None,
    timestamp_s: float | None = None,
    *,
    max_skew_s: float = DEFAULT_MAX_SKEW_S,
) -> Decision:
    """Validate one decision record; ``BadDecision`` says what is wrong with it."""
    if not value:
        raise BadDecision("the decision record has no value")
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise BadDecision(f"the decision is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BadDecision(f"a decision is a JSON object, not {type(doc).__name__}")
    ident = _id(doc.get("id"), key)
    removed = doc.get("removed")
    if not isinstance(removed, bool):
        raise BadDecision(f"'removed' must be true or false, not {removed!r}"[:200])
    at = _at(doc.get("at"), timestamp_s, max_skew_s)
    return Decision(ident, removed, _source(doc.get("source")), _community(doc), at)


def _id(value: object, key: bytes | None) -> str:
    if not isinstance(value, str) or not value:
        raise BadDecision("'id' (the comment's id, a non-empty string) is missing")
    if len(value) > MAX_ID_CHARS:
        raise BadDecision(f"'id' is longer than {MAX_ID_CHARS} characters")
    if key is not None and key != value.encode("utf-8"):
        shown = key.decode("utf-8", "replace")[:80]
        raise BadDecision(f"the record key {shown!r} is not the decision's id {value[:80]!r}")
    return value


def _source(value: object) -> str:
    if value is None:
        return "moderator"
    if not isinstance(value, str) or not _SOURCE.match(value):
        raise BadDecision(
            f"'source' must be a short lower-case word like moderator or appeal, not {value!r}"[
                :200
            ]
        )
    return value


def _community(doc: dict[str, object]) -> str:
    value = doc.get("community")
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_COMMUNITY_CHARS:
        raise BadDecision(f"'community' must be a string of at most {MAX_COMMUNITY_CHARS} chars")
    return value


def _at(value: object, timestamp_s: float | None, max_skew_s: float) -> float:
    if not isinstance(value, str):
        raise BadDecision("'at' (an ISO-8601 time such as 2026-11-28T15:10:43Z) is missing")
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadDecision(f"'at' is not an ISO-8601 time: {value[:60]!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    at = when.timestamp()
    if timestamp_s is not None and at - timestamp_s > max_skew_s:
        raise BadDecision(
            f"'at' ({value[:40]}) is {(at - timestamp_s) / 3600:.1f} h after the record was "
            f"written; more than {max_skew_s / 3600:g} h ahead means a wrong clock"
        )
    return at


@dataclass
class DecisionBatch:
    """Valid decisions collected from records, as parallel lists (cheap to append)."""

    ids: list[str]
    removed: list[bool]
    sources: list[str]
    communities: list[str]
    at: list[float]

    @classmethod
    def empty(cls) -> DecisionBatch:
        return cls([], [], [], [], [])

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, decision: Decision) -> None:
        self.ids.append(decision.id)
        self.removed.append(decision.removed)
        self.sources.append(decision.source)
        self.communities.append(decision.community)
        self.at.append(decision.at)

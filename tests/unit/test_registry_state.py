"""Registry events and the state folded from them: schema, keys, compaction, roles, views."""

from __future__ import annotations

import json

import pytest

from modstream.errors import InvalidInput, NotFound
from modstream.registry import events as ev
from modstream.registry.events import ModelEvent
from modstream.registry.state import RegistryState
from modstream.registry.views import event_row, version_rows


def published(version: str, at: str = "2026-01-01T00:00:00.000Z") -> ModelEvent:
    return ModelEvent(
        ev.PUBLISHED, "moderation", version, at=at, uri=f"/store/{version}",
        sha256="ab" * 32, preset="default", threshold=0.4,
    )  # fmt: skip


def role(kind: str, version: str | None, **extra: object) -> ModelEvent:
    return ModelEvent(kind, "moderation", version, **extra)  # type: ignore[arg-type]


def compact(events: list[ModelEvent]) -> list[ModelEvent]:
    """What Kafka compaction keeps: the last record per key, in offset order."""
    last = {event.key(): i for i, event in enumerate(events)}
    return [event for i, event in enumerate(events) if last[event.key()] == i]


def test_event_round_trips_through_json() -> None:
    event = role(ev.CHAMPION, "v2", by="alice@host").with_lineage(["v0", "v1"])
    wire = event.to_json()
    assert json.loads(wire)["schema"] == 1
    assert ModelEvent.from_json(wire) == event


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"schema": 9, "type": "champion", "model": "m"}', "unknown schema"),
        (b'{"schema": 1, "type": "crowned", "model": "m"}', "no known type"),
        (b'{"schema": 1, "type": "champion", "model": "m"}', "needs a version"),
        (b'{"schema": 1, "type": "published", "model": "m", "version": "1"}', "uri and a sha256"),
        (b'{"schema": 1, "type": "canary", "model": "m", "version": "1", "percent": 0}', "percent"),
        (b'{"schema": 1, "type": "refused", "model": "m", "version": "1"}', "instance"),
    ],
)
def test_bad_events_are_refused_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ModelEvent.from_json(raw)


def test_keys_make_each_record_one_piece_of_state() -> None:
    assert published("v1").key() == "moderation/version/v1"
    assert role(ev.RETIRED, "v1", uri="u", sha256="s").key() == "moderation/version/v1"
    assert role(ev.CANARY, None).key() == "moderation/canary"
    refusal = role(ev.REFUSED, "v3", instance="host:stream-0", reason="bad")
    assert refusal.key() == "moderation/refused/v3/host:stream-0"


def test_compaction_keeps_the_same_current_state() -> None:
    events = [
        published("v1"), published("v2"), published("v3"),
        role(ev.CHAMPION, "v1"), role(ev.CANARY, "v2", percent=10.0),
        role(ev.CHAMPION, "v2").with_lineage(["v1"]), role(ev.CANARY, None),
        role(ev.SHADOW, "v3"), role(ev.REFUSED, "v3", instance="w0", reason="checksum"),
        role(ev.RETIRED, "v1", uri="/store/v1", sha256="ab" * 32),
    ]  # fmt: skip
    full, compacted = RegistryState(events), RegistryState(compact(events))
    for state in (full, compacted):
        model = state.model("moderation")
        assert (model.champion, model.lineage) == ("v2", ["v1"])
        assert model.effective(ev.CANARY) is None and model.effective(ev.SHADOW) == "v3"
        assert model.versions["v1"].retired and model.refusals["v3"]["w0"].reason == "checksum"
    assert full.model("moderation").desired() == compacted.model("moderation").desired()
    assert len(compact(events)) < len(events)


def test_desired_names_the_artifacts_of_each_role() -> None:
    state = RegistryState(
        [published("v1"), published("v2"), role(ev.CHAMPION, "v1"),
         role(ev.CANARY, "v2", percent=12.5)]
    ).model("moderation")  # fmt: skip
    desired = state.desired()
    assert desired.champion is not None and desired.champion.uri == "/store/v1"
    assert desired.canary is not None and desired.canary.version == "v2"
    assert desired.canary_percent == 12.5 and desired.shadow is None


def test_a_canary_equal_to_the_champion_is_no_canary() -> None:
    state = RegistryState(
        [published("v1"), role(ev.CANARY, "v1", percent=5.0), role(ev.CHAMPION, "v1")]
    ).model("moderation")
    assert state.roles_of("v1") == ["champion"]
    assert state.desired().canary is None


def test_unknown_version_names_the_published_ones() -> None:
    state = RegistryState([published("v1")]).model("moderation")
    with pytest.raises(NotFound, match=r"'v9' .* not published \(published: v1\)"):
        state.version("v9")


def test_views_list_roles_refusals_and_history_lines() -> None:
    events = [
        published("v1", "2026-01-01T00:00:00.000Z"), published("v2", "2026-01-02T00:00:00.000Z"),
        role(ev.CHAMPION, "v1"), role(ev.CANARY, "v2", percent=10.0),
        role(ev.REFUSED, "v2", instance="w1", reason="checksum mismatch"),
    ]  # fmt: skip
    rows = version_rows(RegistryState(events).model("moderation"))
    assert [(r["version"], r["role"]) for r in rows] == [("v2", "canary 10%"), ("v1", "champion")]
    assert rows[0]["refused_by"] == {"w1": "checksum mismatch"}
    assert event_row(role(ev.CANARY, None))["event"] == "canary ended"
    assert event_row(events[-1])["event"] == "refused by w1: checksum mismatch"

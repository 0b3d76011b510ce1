"""The decision record contract: what is accepted, and the reason given for what is not."""

from __future__ import annotations

import json

import jsonschema
import pytest

from modstream.monitor import DECISION_SCHEMA, BadDecision, parse_decision

GOOD = {
    "id": "t1_abc",
    "removed": True,
    "source": "appeal",
    "community": "science",
    "at": "2026-11-28T15:10:43Z",
}


def _value(**changes: object) -> bytes:
    doc = {**GOOD, **changes}
    return json.dumps({k: v for k, v in doc.items() if v is not ...}).encode()


def test_a_complete_decision_is_read() -> None:
    decision = parse_decision(_value(), b"t1_abc", timestamp_s=1_795_878_650.0)
    assert decision.id == "t1_abc" and decision.removed is True
    assert decision.source == "appeal" and decision.community == "science"
    assert decision.at == 1_795_878_643.0


def test_optional_fields_have_defaults_and_a_time_without_offset_is_utc() -> None:
    value = _value(source=..., community=..., at="2026-11-28T15:10:43", extra="kept out")
    decision = parse_decision(value)
    assert decision.source == "moderator" and decision.community == ""
    assert decision.at == 1_795_878_643.0


@pytest.mark.parametrize(
    ("value", "key", "reason"),
    [
        (b"", None, "no value"),
        (b"{nope", None, "not JSON"),
        (b"[1, 2]", None, "JSON object"),
        (_value(id=...), None, "'id'"),
        (_value(id=""), None, "'id'"),
        (_value(), b"t1_other", "record key"),
        (_value(removed=1), None, "'removed' must be true or false"),
        (_value(removed=...), None, "'removed' must be true or false"),
        (_value(at=...), None, "'at'"),
        (_value(at="yesterday"), None, "not an ISO-8601 time"),
        (_value(source="Head Moderator!"), None, "'source'"),
        (_value(community=7), None, "'community'"),
    ],
)
def test_a_bad_decision_says_what_is_wrong(value: bytes, key: bytes | None, reason: str) -> None:
    with pytest.raises(BadDecision, match=reason) as caught:
        parse_decision(value, key)
    assert caught.value.reason == "BAD_DECISION" and caught.value.status == 400


def test_a_decision_from_a_clock_far_ahead_is_refused() -> None:
    written = 1_795_878_643.0 - 3 * 86_400
    with pytest.raises(BadDecision, match="wrong clock"):
        parse_decision(_value(), timestamp_s=written)
    assert parse_decision(_value(), timestamp_s=written, max_skew_s=4 * 86_400).removed


@pytest.mark.parametrize("changes", [{}, {"source": ...}, {"community": None}, {"removed": False}])
def test_the_published_schema_accepts_what_the_parser_accepts(changes: dict) -> None:
    doc = json.loads(_value(**changes))
    jsonschema.validate(doc, DECISION_SCHEMA)
    parse_decision(json.dumps(doc).encode())


@pytest.mark.parametrize("changes", [{"id": ...}, {"removed": "yes"}, {"source": "A B"}])
def test_the_published_schema_refuses_what_the_parser_refuses(changes: dict) -> None:
    doc = json.loads(_value(**changes))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, DECISION_SCHEMA)
    with pytest.raises(BadDecision):
        parse_decision(json.dumps(doc).encode())

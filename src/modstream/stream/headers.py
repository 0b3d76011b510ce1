"""Header names the worker adds to output and dead-letter records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from confluent_kafka import Message

if TYPE_CHECKING:
    from modstream.model.reference import TextProfile

Headers = list[tuple[str, str | bytes | None]]

SOURCE_TOPIC = "modstream.source.topic"
SOURCE_PARTITION = "modstream.source.partition"
SOURCE_OFFSET = "modstream.source.offset"
MODEL_NAME = "modstream.model.name"
MODEL_VERSION = "modstream.model.version"
ERROR_CLASS = "modstream.error.class"
ERROR_REASON = "modstream.error.reason"
ERROR_STATUS = "modstream.error.status"
ERROR_MESSAGE = "modstream.error.message"
ERROR_TIME = "modstream.error.time"
VALUE_DROPPED = "modstream.error.value-dropped"
# The moderation loop: where a comment was posted, and what the monitor needs without the text
# (comma-separated, one value per text of the record).
COMMUNITY = "modstream.community"
MODEL_ROLE = "modstream.model.role"
MODEL_THRESHOLD = "modstream.model.threshold"
TEXT_CHARS = "modstream.text.chars"
TEXT_OOV = "modstream.text.oov"
DECISION = "modstream.decision"  # keep | review | remove: the strongest over the record's texts


def own_headers(message: Message) -> Headers:
    """A record's headers as (name, value) pairs, whatever form the client gave them in."""
    own = message.headers() or []
    pairs = own.items() if isinstance(own, dict) else own
    return [(k, v if v is not None else b"") for k, v in pairs]


def source_headers(message: Message) -> Headers:
    """The input record's own headers plus where it came from (for de-duplication)."""
    headers = own_headers(message)
    headers.extend(
        [
            (SOURCE_TOPIC, str(message.topic()).encode()),
            (SOURCE_PARTITION, str(message.partition()).encode()),
            (SOURCE_OFFSET, str(message.offset()).encode()),
        ]
    )
    return headers


def text_headers(texts: list[str], profile: TextProfile | None) -> Headers:
    """Each text's length and out-of-vocabulary share (drift inputs; none without a profile)."""
    if profile is None:
        return []
    chars, oov = profile.measure(texts)
    return [(TEXT_CHARS, chars.encode()), (TEXT_OOV, oov.encode())]


def raw(data: str | bytes | None) -> bytes | None:
    """A record key or value as bytes (a consumer without deserialisers gives bytes)."""
    return data.encode() if isinstance(data, str) else data


def as_dict(headers: list[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Headers as ``{name: text}`` (the last value wins), for tests and the console tool."""
    return {k: (v or b"").decode("utf-8", "replace") for k, v in headers or []}

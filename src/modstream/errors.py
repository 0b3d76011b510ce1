"""One error tree for the whole package.

Every error carries an HTTP-like ``status`` code and a short ``reason``; transports
(REST, gRPC, Kafka dead-letter records, the CLI) map it in exactly one place each.
"""

from __future__ import annotations


class ModstreamError(Exception):
    """Base class: a failure a user can act on, with a status code."""

    status: int = 500
    reason: str = "INTERNAL_ERROR"

    def __init__(
        self, message: str, *, status: int | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        if reason is not None:
            self.reason = reason

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.reason


class InvalidInput(ModstreamError):
    """The request or record is malformed: bad JSON, wrong shape, non-text values."""

    status = 400
    reason = "BAD_REQUEST"


class PayloadTooLarge(ModstreamError):
    """A request or record is larger than the configured limit."""

    status = 413
    reason = "PAYLOAD_TOO_LARGE"


class NotFound(ModstreamError):
    """An unknown route, model name or version."""

    status = 404
    reason = "NOT_FOUND"


class DataError(ModstreamError):
    """A dataset cannot be read: missing columns, empty file, bad labels, one class."""

    status = 400
    reason = "DATA_ERROR"


class ArtifactError(ModstreamError):
    """A model artifact is missing, tampered with, truncated or incompatible."""

    status = 500
    reason = "ARTIFACT_ERROR"


class ModelError(ModstreamError):
    """The model failed while predicting."""

    status = 500
    reason = "MODEL_ERROR"


class NotReady(ModstreamError):
    """The server is starting or shutting down."""

    status = 503
    reason = "NOT_READY"


class AuthenticationFailed(ModstreamError):
    """The Kafka cluster refused the login (SASL credentials) or its certificate (TLS)."""

    status = 401
    reason = "AUTHENTICATION_FAILED"


class NotAuthorized(ModstreamError):
    """The Kafka cluster's ACLs do not allow what was asked (a topic, group, transactional id)."""

    status = 403
    reason = "NOT_AUTHORIZED"


class Fenced(ModstreamError):
    """Another worker took this one's transactional id or static group membership id: this
    one may no longer write or commit."""

    status = 409
    reason = "FENCED"


class TopicMissing(NotFound):
    """A topic the worker reads or writes does not exist (and the broker does not create it)."""

    reason = "TOPIC_MISSING"


class RecordTooLarge(PayloadTooLarge):
    """An answer or dead letter is larger than its topic accepts (``max.message.bytes``)."""

    reason = "RECORD_TOO_LARGE"

"""Keeping Kafka credentials out of everything modstream prints.

A client configuration can hold passwords (``sasl.password``, ``ssl.key.password``), private
keys (``ssl.key.pem``, Seldon's ``KAFKA_SSL_CLIENT_KEY``) and login modules with passwords
inside (``sasl.jaas.config``). Their values are remembered when a configuration is built
(``remember``), and every log record and one-line error passes through ``redact``, which
replaces them with ``***``. ``hidden`` is a configuration fit for showing (a banner, a
command to copy). Imports only the standard library.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping

MASK = "***"
# librdkafka properties whose values are secrets: passwords, private keys, client secrets,
# and JAAS / OAuth configurations that embed them.
_SECRET_PROPERTY = re.compile(
    r"(password|secret|\.key\.pem$|^ssl\.key$|jaas\.config|oauthbearer\.config|private\.key)"
)
# Shorter values are not masked in text: a two-letter password would mask every such
# letter pair in a log line, and is no secret worth the name anyway.
_MIN_MASKED_CHARS = 4

_lock = threading.Lock()
_known: set[str] = set()


def is_secret(name: str) -> bool:
    """Whether the property (or setting) ``name`` holds a secret."""
    return bool(_SECRET_PROPERTY.search(name.lower()))


def remember(config: Mapping[str, object]) -> None:
    """Note the secret values of ``config``, so ``redact`` masks them from now on."""
    values = {str(v) for k, v in config.items() if is_secret(k) and v}
    with _lock:
        _known.update(v for v in values if len(v) >= _MIN_MASKED_CHARS)


def redact(text: str) -> str:
    """``text`` with every remembered secret (and each line of a multi-line one) masked."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)  # a secret inside another one
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
        for line in value.splitlines():  # a PEM key quoted line by line
            if len(line) >= 16 and line in text:
                text = text.replace(line, MASK)
    return text


def hidden(config: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``config`` fit for showing: secret values replaced by ``***``."""
    return {k: (MASK if is_secret(k) else v) for k, v in config.items()}


class RedactingFilter(logging.Filter):
    """A log filter that masks remembered secrets in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def redact_logs() -> None:
    """Mask remembered secrets in every record the root logger's handlers write."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())

"""uvicorn for processes that decide themselves when to stop (serve, up, monitor), and the
listening sockets of ``serve``'s two servers."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator

import uvicorn

from modstream.errors import ModstreamError

__all__ = ["QuietServer", "listening"]

BACKLOG = 2048  # uvicorn's own default


def listening(host: str, port: int, what: str) -> socket.socket:
    """A socket listening on ``host:port``, or one line saying why the port cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ModstreamError(f"cannot listen for {what} on {host}:{port}: {reason}") from None


class QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the process running it stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

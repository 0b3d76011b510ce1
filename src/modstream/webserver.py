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
    # IPPROTO_TCP named, not implied: asyncio sets TCP_NODELAY only on connections whose
    # socket says so, and without it a reply written in two parts waits for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        return sock
    except OSError as exc:
        sock.close()
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise ModstreamError(f"cannot listen for {what} on {host}:{port}: {reason}") from None


class QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the process running it stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

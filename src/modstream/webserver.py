"""uvicorn for processes that decide themselves when to stop (serve, up, monitor)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn

__all__ = ["QuietServer"]


class QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the process running it stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

"""Helpers of the monitor's integration tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from modstream.monitor.service import run_monitor
from modstream.settings.monitor import MonitorSettings


@contextmanager
def running_monitor(settings: MonitorSettings) -> Iterator[str]:
    """``modstream monitor``'s service in a thread; yields its base URL."""
    stop = threading.Event()
    thread = threading.Thread(target=run_monitor, args=(settings, stop), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        stop.set()
        thread.join(60)
        assert not thread.is_alive()

"""The monitor process: settings -> references, state, Kafka loop and HTTP endpoints."""

from __future__ import annotations

import functools
import logging
import threading

from modstream.monitor.core import Monitor
from modstream.monitor.drift import DriftThresholds
from modstream.monitor.references import load_references
from modstream.monitor.report import Windows
from modstream.monitor.runner import MonitorRunner
from modstream.monitor.state import Retention
from modstream.settings.monitor import MonitorSettings

__all__ = ["build_runner", "run_monitor"]

log = logging.getLogger(__name__)


def build_runner(settings: MonitorSettings) -> MonitorRunner:
    """A runner whose monitors use the settings' references, retention, windows and alerts."""
    s = settings
    factory = functools.partial(
        Monitor,
        load_references(s.models),
        retention=Retention(s.retention_s, s.max_rows),
        windows=Windows(last_n=s.last_n, community_min_labels=s.community_min_labels),
        drift=DriftThresholds(
            window=s.drift_window,
            every=s.drift_every,
            psi_raise=s.psi_raise,
            psi_clear=s.psi_clear,
            share_raise=s.share_raise,
            share_clear=s.share_clear,
        ),
    )
    return MonitorRunner(settings, factory)


def run_monitor(settings: MonitorSettings, stop: threading.Event) -> None:
    """Run until ``stop`` is set: endpoints up first, then the Kafka loop in this thread."""
    runner = build_runner(settings)
    api = None
    if settings.port:
        from modstream.monitor.api import MonitorApi

        api = MonitorApi(runner, settings.host, settings.port)
        api.start()
        log.info("monitor endpoints on http://%s:%d/api/report", settings.host, settings.port)
    try:
        runner.run(stop)
    finally:
        if api is not None:
            api.stop()
        log.info("monitor stopped")

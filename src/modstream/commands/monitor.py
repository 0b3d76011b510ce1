"""``modstream monitor``: join predictions with moderators' decisions; quality and drift live."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import TYPE_CHECKING, Any

from modstream.commands._kafka import add_kafka_config_arg
from modstream.errors import InvalidInput
from modstream.settings.defaults import MONITOR_PORT as DEFAULT_MONITOR_PORT

if TYPE_CHECKING:
    from modstream.settings.monitor import MonitorSettings

EPILOG = f"""\
examples:
  modstream monitor --predictions-topic predictions --decisions-topic decisions \\
      --model models/rscience --state-dir /var/lib/modstream-monitor
  modstream monitor --predictions-topic predictions --shadow-topic predictions.shadow \\
      --decisions-topic decisions --metrics-topic monitor.metrics --alerts-topic monitor.alerts \\
      --model models/ --port 9500

A decision is one JSON record per moderator action, keyed by the comment's id:
  {{"id": "t1_abc", "removed": true, "source": "moderator", "community": "science",
   "at": "2026-11-28T15:10:43Z"}}
Bad decisions go to the dead-letter topic (default <decisions-topic>.dlq) with the reason
in headers. Results: http://HOST:PORT/api/report (JSON), /metrics (Prometheus), the
metrics topic (one record per tick) and the alerts topic. With --state-dir the state and
the offsets read are saved together, so a restart (even after kill -9) continues where
the last snapshot stopped; without it the topics are read from the beginning at start.
The REST port defaults to {DEFAULT_MONITOR_PORT}; 0 turns the endpoints off.
"""

_FIELDS = (
    "bootstrap_servers",
    "predictions_topic",
    "shadow_topic",
    "decisions_topic",
    "dead_letter_topic",
    "metrics_topic",
    "alerts_topic",
    "state_dir",
    "host",
    "port",
    "tick_s",
    "snapshot_s",
    "records_per_poll",
    "retention_s",
    "max_rows",
    "last_n",
    "community_min_labels",
    "max_skew_s",
    "drift_window",
    "psi_raise",
    "psi_clear",
    "share_raise",
    "share_clear",
)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "monitor",
        help="measure live quality per model version from moderators' decisions, and drift",
        description=(
            "Join the worker's predictions (and a shadow model's) with moderators' decisions "
            "arriving in either order, seconds to days apart; report precision, recall, F1, "
            "ROC AUC, PR AUC, Brier score, calibration, label delay and coverage per model "
            "version and community over sliding windows; alert when live traffic drifts "
            "from the training reference."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--bootstrap-servers", help="Kafka bootstrap servers (default 127.0.0.1:9092)")
    add("--predictions-topic", help="the worker's output topic")
    add("--shadow-topic", help="a shadow model's answers (compared on the same comments)")
    add("--decisions-topic", help="moderators' decisions (JSON, keyed by comment id)")
    add("--dead-letter-topic", help="bad decisions (default <decisions-topic>.dlq)")
    add("--metrics-topic", help="one JSON record of every number per tick")
    add("--alerts-topic", help="drift alerts raised and cleared")
    add(
        "--model",
        dest="models",
        action="append",
        metavar="PATH",
        help="artifact (or directory of artifacts) of the versions served: thresholds and "
        "drift references; repeatable",
    )
    add("--state-dir", help="where the state and offsets are saved (survives kill -9)")
    add("--host", help="address of the REST/metrics endpoints (default 127.0.0.1)")
    add(
        "--port",
        type=int,
        help=f"port of the REST/metrics endpoints (default {DEFAULT_MONITOR_PORT})",
    )
    add("--tick-s", type=float, help="seconds between window ticks (default 10)")
    add("--snapshot-s", type=float, help="seconds between snapshots (default 30)")
    add("--records-per-poll", type=int, help="records read per poll (default 5000)")
    add("--retention-s", type=float, help="event-time retention of rows (default 7 days)")
    add("--max-rows", type=int, help="most prediction rows kept (default 5,000,000)")
    add("--last-n", type=int, help="size of the last-N-labels window (default 1000)")
    add("--community-min-labels", type=int, help="labels before a community is ranked (30)")
    add("--max-skew-s", type=float, help="how far a decision's 'at' may run ahead (1 day)")
    add("--drift-window", type=int, help="live predictions compared per version (default 1000)")
    add("--psi-raise", type=float, help="PSI that raises a drift alert (default 0.25)")
    add("--psi-clear", type=float, help="PSI under which it clears (default 0.15)")
    add("--share-raise", type=float, help="predicted-removed share change that alerts (0.15)")
    add("--share-clear", type=float, help="share change under which it clears (0.10)")
    add_kafka_config_arg(parser)
    parser.set_defaults(func=_run)


def settings_from_args(args: argparse.Namespace) -> MonitorSettings:
    """Environment settings, overridden by the flags that were given."""
    from pydantic import ValidationError

    from modstream.settings.monitor import MonitorSettings
    from modstream.stream.config import parse_properties

    base = MonitorSettings()
    updates = {f: getattr(args, f) for f in _FIELDS if getattr(args, f, None) is not None}
    if args.models:
        updates["models"] = args.models
    kafka = {**base.kafka_config, **parse_properties(args.kafka_config)}
    try:
        settings = MonitorSettings.model_validate(
            {**base.model_dump(), **updates, "kafka_config": kafka}
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = "".join(f"--{str(part).replace('_', '-')}: " for part in error["loc"])
        raise InvalidInput(f"invalid monitor settings: {where}{error['msg']}") from exc
    if not settings.predictions_topic or not settings.decisions_topic:
        raise InvalidInput("--predictions-topic and --decisions-topic are required")
    return settings


def _run(args: argparse.Namespace) -> int:
    from modstream.monitor.service import run_monitor
    from modstream.stream.refusals import check_login

    settings = settings_from_args(args)
    check_login(settings.client_config())  # a refused login ends here, in about a second
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_monitor(settings, stop)
    return 0

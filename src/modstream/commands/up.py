"""``modstream up``: broker, topics, model, stream worker, REST/gRPC server and dashboard."""

from __future__ import annotations

import argparse
from typing import Any

from modstream.commands._kafka import add_kafka_config_arg
from modstream.settings import defaults

EPILOG = f"""\
examples:
  modstream up                              # a DEMO model trained on the built-in corpus
  modstream up --model models/default       # your trained model
  modstream up --data comments.csv          # train one at start-up on your CSV
  modstream up --port 8081 --http-port 9001 --grpc-port 5001 --broker-port 19092
  modstream up --bootstrap-servers kafka:9092      # your Kafka instead of the embedded one
  modstream up --bootstrap-servers kafka:9093 --kafka-config @client.properties

Then open the dashboard (http://127.0.0.1:{defaults.UP_PORT}/ by default), write a comment in its box,
or send some from another terminal:
  modstream produce --bootstrap-servers 127.0.0.1:{defaults.BROKER_PORT} --topic comments "lol source: trust me bro"

Everything listens on 127.0.0.1 only. A default port that is taken is replaced by a free
one (and said so); a port you chose that is taken is an error. The broker keeps its data
in memory. The monitor joins the moderators' decisions (the dashboard's remove / keep
buttons, or records on the decisions topic) to the predictions. Ctrl-C stops the
dashboard, the monitor, the worker and the server side by side, then the broker.

With --bootstrap-servers no broker is started. Before loading a model, up checks that
this Kafka answers and accepts the login (if not, it stops with one line and exit code 2),
creates the topics that are missing and says which, or stops naming them if the principal
may not create them. --kafka-config takes librdkafka properties (SASL, TLS) as KEY=VALUE
or @FILE (a properties file keeps passwords off the command line); the worker, server and
monitor get them through their environment, and the commands up prints name a private
copy of the file, never a password. That Kafka's model registry outlives up, so the copy
of the model up publishes is kept in MODSTREAM_REGISTRY_STORE or ~/.cache/modstream/registry
(not up's temporary directory): a later up can roll back to it.

Environment: MODSTREAM_UP_PORT, MODSTREAM_UP_HTTP_PORT, MODSTREAM_UP_GRPC_PORT,
MODSTREAM_UP_BROKER_PORT, MODSTREAM_UP_METRICS_PORT, MODSTREAM_UP_MONITOR_PORT,
MODSTREAM_UP_INPUT_TOPIC, MODSTREAM_UP_BOOTSTRAP_SERVERS, MODSTREAM_UP_KAFKA_CONFIG (a
JSON object), MODSTREAM_UP_CONNECT_TIMEOUT_S, ... (flags win).
See docs/quickstart.md.
"""

_PORT_FLAGS = (
    ("--port", "port", f"dashboard port (default {defaults.UP_PORT})"),
    ("--http-port", "http_port", f"REST port (default {defaults.HTTP_PORT})"),
    ("--grpc-port", "grpc_port", f"gRPC port (default {defaults.GRPC_PORT})"),
    (
        "--broker-port",
        "broker_port",
        f"embedded Kafka broker's port (default {defaults.BROKER_PORT}; not with "
        "--bootstrap-servers)",
    ),
    (
        "--metrics-port",
        "metrics_port",
        f"stream worker's {defaults.METRICS_PATH} and {defaults.READY_PATH} "
        f"(default {defaults.METRICS_PORT})",
    ),
    (
        "--monitor-port",
        "monitor_port",
        f"the monitor's REST and /metrics (default {defaults.MONITOR_PORT})",
    ),
)
_TOPIC_FLAGS = (
    (
        "--input-topic",
        "input_topic",
        f"topic of comments to score (default {defaults.UP_INPUT_TOPIC})",
    ),
    (
        "--output-topic",
        "output_topic",
        f"topic of predictions (default {defaults.UP_OUTPUT_TOPIC})",
    ),
    (
        "--dead-letter-topic",
        "dead_letter_topic",
        f"topic of failures (default {defaults.dead_letter_topic('<input>')})",
    ),
    (
        "--decisions-topic",
        "decisions_topic",
        f"moderators' decisions (default {defaults.UP_DECISIONS_TOPIC})",
    ),
)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "up",
        help="run everything locally (broker, worker, REST/gRPC server) with a live dashboard",
        description=(
            "Start an embedded Kafka broker (or use an existing Kafka: --bootstrap-servers) "
            "with the input, output and dead-letter topics, a stream worker, the REST/gRPC "
            "model server, the quality monitor, the model registry and a live dashboard, in "
            "one command. Without --model or --data a DEMO model is trained on the small "
            "sample corpus shipped with modstream."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--model", metavar="DIR", help="a trained model artifact directory")
    model.add_argument("--data", metavar="CSV", help="train a model on this CSV at start-up")
    parser.add_argument("--text-column", help="with --data: text column (default body/text)")
    parser.add_argument("--label-column", help="with --data: label column (default removed)")
    parser.add_argument("--preset", default="default", help="with --data or the demo: preset")
    for flag, dest, text in _PORT_FLAGS:
        parser.add_argument(flag, dest=dest, type=int, metavar="PORT", help=text)
    for flag, dest, text in _TOPIC_FLAGS:
        parser.add_argument(flag, dest=dest, metavar="TOPIC", help=text)
    parser.add_argument(
        "--partitions",
        type=int,
        help=f"partitions per topic it creates (default {defaults.UP_PARTITIONS})",
    )
    parser.add_argument(
        "--bootstrap-servers",
        metavar="HOST:PORT",
        help="use this existing Kafka instead of starting the embedded broker",
    )
    add_kafka_config_arg(
        parser, "librdkafka property for the existing Kafka (SASL, TLS), repeatable; @FILE "
        "reads a properties file, which keeps passwords off the command line",
    )  # fmt: skip
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from modstream.errors import InvalidInput
    from modstream.settings import UpSettings
    from modstream.stream.config import parse_properties
    from modstream.up.orchestrator import Orchestrator

    names = [dest for _, dest, _ in _PORT_FLAGS + _TOPIC_FLAGS]
    names += ["partitions", "bootstrap_servers"]
    flags = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    settings = UpSettings(**flags)  # flags win over the environment
    if args.kafka_config:
        extra = parse_properties(args.kafka_config)
        settings = settings.model_copy(update={"kafka_config": {**settings.kafka_config, **extra}})
    if settings.kafka_config and not settings.bootstrap_servers:
        raise InvalidInput("--kafka-config is for an existing Kafka: add --bootstrap-servers")
    if args.broker_port is not None and settings.bootstrap_servers:
        raise InvalidInput(
            "--broker-port is the embedded broker's port; with --bootstrap-servers no "
            "broker is started: drop one of the two"
        )
    model_args = {
        "model_dir": args.model,
        "data": args.data,
        "text_column": args.text_column,
        "label_column": args.label_column,
        "preset": args.preset,
    }
    return Orchestrator(settings, model_args).run()

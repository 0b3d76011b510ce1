"""``modstream stream``: the Kafka worker (Seldon/V2 requests in, predictions out)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modstream.commands._kafka import add_kafka_config_arg
from modstream.commands._registry import add_answer_args, add_follow_args, with_rollout_args
from modstream.errors import InvalidInput
from modstream.settings import defaults

if TYPE_CHECKING:
    from modstream.settings import StreamSettings

EPILOG = f"""\
examples:
  modstream broker --port {defaults.BROKER_PORT} &
  modstream stream --model models/default --input-topic comments --output-topic predictions
  modstream stream --registry --input-topic comments --output-topic predictions  # follow models
  modstream stream --model models/default --bootstrap-servers kafka:9092 \\
      --input-topic comments --output-topic predictions --group moderation --workers 2 \\
      --kafka-config security.protocol=SASL_SSL --kafka-config sasl.mechanism=SCRAM-SHA-512 \\
      --kafka-config @client.properties     # sasl.username=..., sasl.password=...

Records that cannot be answered go to the dead-letter topic (default
{defaults.dead_letter_topic("<input-topic>")}) with the reason in headers. Offsets are committed
only after every output of a batch is acknowledged (at-least-once). With --metrics-port,
worker i serves {defaults.METRICS_PATH} and {defaults.READY_PATH} (200 once it is warmed up and in its
group) on PORT+i. A refused login or ACL, a topic still missing after --topic-wait-s, or
another worker taking this one's transactional id (--exactly-once) or group.instance.id
stops the worker with one line and exit code 2 (also when it happens after start-up).
With --workers N and a group.instance.id, worker i uses ID-i.
The environment may set every option: MODSTREAM_MODEL,
MODSTREAM_BOOTSTRAP_SERVERS (or KAFKA_BROKER), KAFKA_INPUT_TOPIC, KAFKA_OUTPUT_TOPIC,
KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_* and MODSTREAM_KAFKA_CONFIG (a JSON object).
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "stream",
        help="run the Kafka worker: predict every record of a topic into another topic",
        description=(
            "Consume Seldon or V2 inference requests from a Kafka topic in micro-batches, "
            "predict each batch in one call and produce the responses (same key, input "
            "headers kept) to the output topic."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--model", help="model artifact directory (MODSTREAM_MODEL)")
    add(
        "--bootstrap-servers",
        help=f"Kafka bootstrap servers (default {defaults.BOOTSTRAP_SERVERS})",
    )
    add("--input-topic", help="topic of requests (KAFKA_INPUT_TOPIC)")
    add("--output-topic", help="topic of responses (KAFKA_OUTPUT_TOPIC)")
    add("--group", help=f"consumer group shared by the workers (default {defaults.GROUP})")
    add(
        "--dead-letter-topic",
        help=f"topic for records that fail (default {defaults.dead_letter_topic('<input-topic>')})",
    )
    add("--workers", type=int, help="worker processes on this machine (default 1)")
    add(
        "--max-batch-records",
        "--max-batch",
        dest="max_batch_records",
        type=int,
        metavar="N",
        help=f"records per poll: most records in one micro-batch "
        f"(default {defaults.MAX_BATCH_RECORDS})",
    )
    add(
        "--max-wait-ms",
        type=float,
        help=f"how long the first record waits for the batch to fill "
        f"(default {defaults.STREAM_MAX_WAIT_MS:g})",
    )
    add(
        "--max-value-bytes",
        type=int,
        help=f"larger record values are dead-lettered (default {defaults.MAX_VALUE_BYTES})",
    )
    add(
        "--metrics-port",
        type=int,
        help=f"serve {defaults.METRICS_PATH} and {defaults.READY_PATH} (worker i uses PORT+i)",
    )
    add("--metrics-host", help=f"address of the metrics server (default {defaults.HOST})")
    add(
        "--exactly-once",
        action="store_true",
        default=None,
        help="use Kafka transactions (needs a real Kafka cluster); each worker's transactional "
        "id names this host, MODSTREAM_INSTANCE to name it otherwise",
    )
    add(
        "--topic-wait-s",
        type=float,
        metavar="SECONDS",
        help=f"how long a missing input, output or dead-letter topic is waited for, then "
        f"the worker stops naming it (default {defaults.TOPIC_WAIT_S:g})",
    )
    add_kafka_config_arg(parser)
    add_follow_args(parser, connection=False)
    add_answer_args(parser)
    parser.set_defaults(func=_run)


def settings_from_args(args: argparse.Namespace) -> StreamSettings:
    """Environment settings, overridden by the flags that were given."""
    from modstream.settings import StreamSettings
    from modstream.stream.config import parse_properties

    base = StreamSettings()
    fields = (
        "model", "bootstrap_servers", "input_topic", "output_topic", "group",
        "dead_letter_topic", "workers", "max_batch_records", "max_wait_ms", "max_value_bytes",
        "metrics_port", "metrics_host", "exactly_once", "topic_wait_s",
    )  # fmt: skip
    updates = {f: getattr(args, f) for f in fields if getattr(args, f, None) is not None}
    kafka = {**base.kafka_config, **parse_properties(args.kafka_config)}
    settings = StreamSettings.model_validate(
        {**base.model_dump(), **updates, "kafka_config": kafka}
    )
    settings = with_rollout_args(settings, args)
    required: tuple[str, ...] = ("input_topic", "output_topic")
    if not settings.registry_settings.follow:  # following the registry, --model is optional
        required = ("model", *required)
    for name in required:
        if not getattr(settings, name):
            flag = "--" + name.replace("_", "-")
            raise InvalidInput(f"{flag} is required (or set MODSTREAM_{name.upper()})")
    return settings


def _run(args: argparse.Namespace) -> int:
    from modstream.stream.supervisor import run_workers

    return run_workers(settings_from_args(args))

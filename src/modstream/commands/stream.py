"""``modstream stream``: the Kafka worker (Seldon/V2 requests in, predictions out)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from modstream.errors import InvalidInput

if TYPE_CHECKING:
    from modstream.settings import StreamSettings

EPILOG = """\
examples:
  modstream broker --port 9092 &
  modstream stream --model models/default --input-topic comments --output-topic predictions
  modstream stream --model models/default --bootstrap-servers kafka:9092 \\
      --input-topic comments --output-topic predictions --group moderation --workers 2 \\
      --kafka-config security.protocol=SASL_SSL --kafka-config sasl.mechanism=PLAIN \\
      --kafka-config sasl.username=app --kafka-config sasl.password=secret

Records that cannot be answered go to the dead-letter topic (default <input-topic>.dlq)
with the reason in headers. Offsets are committed only after every output of a batch is
acknowledged (at-least-once). The environment may set every option: MODSTREAM_MODEL,
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
    add("--bootstrap-servers", help="Kafka bootstrap servers (default 127.0.0.1:9092)")
    add("--input-topic", help="topic of requests (KAFKA_INPUT_TOPIC)")
    add("--output-topic", help="topic of responses (KAFKA_OUTPUT_TOPIC)")
    add("--group", help="consumer group; workers with the same group share partitions")
    add("--dead-letter-topic", help="topic for records that fail (default <input-topic>.dlq)")
    add("--workers", type=int, help="worker processes on this machine (default 1)")
    add("--max-batch", type=int, help="records per micro-batch (default 256)")
    add("--max-wait-ms", type=float, help="how long to wait to fill a batch (default 5)")
    add("--max-value-bytes", type=int, help="larger record values are dead-lettered (1 MiB)")
    add("--metrics-port", type=int, help="serve Prometheus metrics (worker i uses PORT+i)")
    add("--metrics-host", help="address of the metrics server (default 127.0.0.1)")
    add(
        "--exactly-once",
        action="store_true",
        default=None,
        help="use Kafka transactions (needs a real Kafka cluster)",
    )
    add(
        "--kafka-config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any librdkafka property, repeatable (SASL, TLS, timeouts)",
    )
    parser.set_defaults(func=_run)


def settings_from_args(args: argparse.Namespace) -> StreamSettings:
    """Environment settings, overridden by the flags that were given."""
    from modstream.settings import StreamSettings
    from modstream.stream.config import parse_properties

    base = StreamSettings()
    fields = (
        "model", "bootstrap_servers", "input_topic", "output_topic", "group",
        "dead_letter_topic", "workers", "max_batch", "max_wait_ms", "max_value_bytes",
        "metrics_port", "metrics_host", "exactly_once",
    )  # fmt: skip
    updates = {f: getattr(args, f) for f in fields if getattr(args, f, None) is not None}
    kafka = {**base.kafka_config, **parse_properties(args.kafka_config)}
    settings = StreamSettings.model_validate(
        {**base.model_dump(), **updates, "kafka_config": kafka}
    )
    for name in ("model", "input_topic", "output_topic"):
        if not getattr(settings, name):
            flag = "--" + name.replace("_", "-")
            raise InvalidInput(f"{flag} is required (or set MODSTREAM_{name.upper()})")
    return settings


def _run(args: argparse.Namespace) -> int:
    from modstream.stream.supervisor import run_workers

    return run_workers(settings_from_args(args))

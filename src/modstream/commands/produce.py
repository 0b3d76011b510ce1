"""``modstream produce``: send texts to a topic as Seldon requests (or raw lines)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from modstream.commands._kafka import add_kafka_config_arg
from modstream.settings.defaults import BOOTSTRAP_SERVERS

if TYPE_CHECKING:
    from modstream.settings import StreamSettings

EPILOG = (
    """\
examples:
  modstream produce --topic comments "This is an input" "Another comment"
  cat comments.txt | modstream produce --topic comments --key user-42
  echo '{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"data":["hi"]}]}' \\
      | modstream produce --topic comments --raw

Each text becomes {"data": {"ndarray": [text]}}; --raw sends every line unchanged.
"""
    f"--bootstrap-servers defaults to MODSTREAM_BOOTSTRAP_SERVERS, KAFKA_BROKER or "
    f"{BOOTSTRAP_SERVERS}.\n"
)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "produce",
        help="send texts (or raw lines) to a Kafka topic",
        description="Produce one record per text argument, or per line of stdin.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("texts", nargs="*", help="texts to send (default: lines of stdin)")
    parser.add_argument("--bootstrap-servers", help="Kafka bootstrap servers")
    parser.add_argument("--topic", required=True, help="topic to produce to")
    parser.add_argument("--key", help="record key for every record")
    parser.add_argument("--raw", action="store_true", help="send lines as they are")
    add_kafka_config_arg(parser)
    parser.set_defaults(func=_run)


def tool_settings(args: argparse.Namespace) -> StreamSettings:
    """Connection settings of the console tools: environment, then flags."""
    from modstream.settings import StreamSettings
    from modstream.stream.config import parse_properties

    base = StreamSettings()
    updates: dict[str, Any] = {
        "kafka_config": {**base.kafka_config, **parse_properties(args.kafka_config)}
    }
    if args.bootstrap_servers:
        updates["bootstrap_servers"] = args.bootstrap_servers
    return base.model_copy(update=updates)


def _lines(args: argparse.Namespace) -> Iterator[str]:
    if args.texts:
        yield from args.texts
        return
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if line:
            yield line


def _run(args: argparse.Namespace) -> int:
    from modstream.kafka_tools import produce_values, seldon_request

    settings = tool_settings(args)
    values = (line.encode("utf-8") if args.raw else seldon_request(line) for line in _lines(args))
    key = args.key.encode("utf-8") if args.key is not None else None
    count = produce_values(settings.client_config(), args.topic, values, key=key)
    print(f"produced {count} record(s) to {args.topic}", file=sys.stderr)
    return 0

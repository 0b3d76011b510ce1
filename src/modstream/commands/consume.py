"""``modstream consume``: print the records of a topic (values, optionally headers)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from modstream.commands._kafka import add_kafka_config_arg
from modstream.commands.produce import tool_settings
from modstream.settings.defaults import BOOTSTRAP_SERVERS, dead_letter_topic

EPILOG = f"""\
examples:
  modstream consume --topic predictions --from-beginning --max 10
  modstream consume --topic {dead_letter_topic("comments")} --from-beginning --headers --timeout 5

Without --from-beginning only records produced from now on are shown.
--bootstrap-servers defaults to MODSTREAM_BOOTSTRAP_SERVERS, KAFKA_BROKER or {BOOTSTRAP_SERVERS}.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "consume",
        help="print the records of a Kafka topic",
        description="Print one record value per line (with --headers: key and headers too).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--bootstrap-servers", help="Kafka bootstrap servers")
    add("--topic", required=True, help="topic to read")
    add("--from-beginning", action="store_true", help="start at the oldest record")
    add("--timeout", type=float, help="stop after this many seconds without a record")
    add("--max", type=int, dest="max_records", help="stop after this many records")
    add("--headers", action="store_true", help="print key, partition, offset and headers")
    add("--group", help="consumer group (default: a fresh one; nothing is committed)")
    add_kafka_config_arg(parser)
    parser.set_defaults(func=_run)


def _text(raw: str | bytes | None) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    return raw.decode("utf-8", "replace")


def _run(args: argparse.Namespace) -> int:
    from modstream.kafka_tools import consume_records

    settings = tool_settings(args)
    records = consume_records(
        settings.client_config(),
        args.topic,
        from_beginning=args.from_beginning,
        timeout=args.timeout,
        max_records=args.max_records,
        group=args.group,
    )
    try:
        for record in records:
            if args.headers:
                meta = {
                    "partition": record.partition,
                    "offset": record.offset,
                    "key": _text(record.key),
                    "headers": {k: _text(v) for k, v in record.headers},
                }
                print(json.dumps(meta, ensure_ascii=False), flush=True)
            print(_text(record.value), flush=True)
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        sys.stderr.close()
    return 0

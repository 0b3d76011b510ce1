"""``modstream export``: comments joined with moderators' latest decisions, as training data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from modstream.commands._kafka import add_kafka_config_arg

EPILOG = """\
examples:
  modstream export --input-topic comments --decisions-topic decisions --out labels.csv
  modstream train --data labels.csv --out models/next
  modstream retune --model models/current --data labels.csv --target-precision 0.9 \\
      --out models/current-p90

The CSV has the columns id, community, body, removed (0/1), decided_at and source; a
comment counts with its latest decision (by 'at'). labels.csv.labels.json records where
the labels came from (topics, offsets read, decision sources, time span); train and
retune copy it into the new artifact's manifest.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "export",
        help="write comments with their moderators' latest decision as a labelled CSV",
        description=(
            "Read the input topic (comment texts) and the decisions topic to their current "
            "end, join each comment with its latest decision and write a CSV that "
            "'modstream train --data' reads as is."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--bootstrap-servers", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    add("--input-topic", required=True, help="the topic of comments (the worker's input)")
    add("--decisions-topic", required=True, help="the topic of moderators' decisions")
    add("--out", required=True, type=Path, help="CSV file to write")
    add_kafka_config_arg(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from modstream.monitor.export import export_labels
    from modstream.settings.monitor import MonitorSettings
    from modstream.stream.config import parse_properties

    settings = MonitorSettings(
        bootstrap_servers=args.bootstrap_servers, kafka_config=parse_properties(args.kafka_config)
    )
    summary = export_labels(
        settings.client_config(), args.input_topic, args.decisions_topic, args.out
    )
    print(
        f"{args.out}: {summary['rows']:,} labelled comments "
        f"({summary['decisions_read']:,} decisions read, {summary['bad_decisions']:,} bad, "
        f"{summary['decisions_without_text']:,} without a comment text)"
    )
    return 0

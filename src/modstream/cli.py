"""``modstream <verb>``: the command-line entry point.

Each verb lives in ``modstream.commands.<verb>`` and registers its own sub-parser.
Errors a user can act on (``ModstreamError``) become one line on stderr and exit code 2;
this is the only place the CLI maps them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from modstream import __version__
from modstream.credentials import redact, redact_logs
from modstream.errors import ModstreamError

COMMANDS = (
    "train",
    "evaluate",
    "predict",
    "compare",
    "serve",
    "broker",
    "stream",
    "produce",
    "consume",
    "deploy",
    "up",
    "models",
    "policy",
    "monitor",
    "export",
    "retune",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modstream",
        description=(
            "Train, serve and stream a comment-moderation text classifier: "
            "Seldon and V2 protocols over REST, gRPC and Kafka."
        ),
    )
    parser.add_argument("--version", action="version", version=f"modstream {__version__}")
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"modstream.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    redact_logs()  # no Kafka credential in any log line
    logging.getLogger("spacy").setLevel(max(logging.WARNING, logging.getLevelName(args.log_level)))
    try:
        result = args.func(args)
    except ModstreamError as exc:
        print(f"modstream {args.command}: error: {redact(exc.message)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

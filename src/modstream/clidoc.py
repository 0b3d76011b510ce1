"""Render every command's ``--help`` as markdown (docs/cli.md is generated from this)."""

from __future__ import annotations

import argparse
import os
from unittest import mock

from modstream.cli import build_parser

HEADER = (
    "# modstream command reference\n\n"
    "Generated from the commands' own `--help` by `python -m modstream.clidoc > docs/cli.md`; "
    "a test keeps it in step with the code.\n"
)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help(parser: argparse.ArgumentParser) -> str:
    return parser.format_help().rstrip()


def render() -> str:
    """The whole reference as one markdown string (stable: fixed terminal width)."""
    # argparse wraps to the terminal's width (COLUMNS); pin it while rendering.
    with mock.patch.dict(os.environ, {"COLUMNS": "100"}):
        parser = build_parser()
        parts = [HEADER, "## modstream\n", "```text", _help(parser), "```\n"]
        for name, sub in _subparsers(parser).items():
            parts += [f"## modstream {name}\n", "```text", _help(sub), "```\n"]
            for child, grandchild in _subparsers(sub).items():
                parts += [f"### modstream {name} {child}\n", "```text", _help(grandchild), "```\n"]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")

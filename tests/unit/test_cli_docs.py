"""docs/cli.md is the commands' own --help; it must not drift from the code."""

from __future__ import annotations

from pathlib import Path

from modstream.cli import COMMANDS
from modstream.clidoc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_matches_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run `python -m modstream.clidoc > docs/cli.md`"
    )


def test_every_command_has_real_help() -> None:
    text = render()
    for name in COMMANDS:
        assert f"## modstream {name}\n" in text
    assert "not yet available" not in text

"""``modstream monitor`` refuses settings it cannot run with, in one line and exit code 2."""

from __future__ import annotations

import pytest

from modstream.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["monitor", "--predictions-topic", "p"], "--predictions-topic and --decisions-topic"),
        (
            ["monitor", "--predictions-topic", "p", "--decisions-topic", "d", "--psi-clear", "0.5"],
            "clear level must not be above its raise level",
        ),
        (
            ["monitor", "--predictions-topic", "p", "--decisions-topic", "d", "--last-n", "0"],
            "--last-n: Input should be greater than or equal to 1",
        ),
    ],
)
def test_bad_settings_are_one_line_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("modstream monitor: error:") and message in err


def test_a_missing_model_artifact_is_an_error_before_anything_starts(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "monitor",
        "--predictions-topic",
        "p",
        "--decisions-topic",
        "d",
        "--model",
        str(tmp_path),
        "--port",
        "0",
    ]
    assert main(argv) == 2
    assert "no model artifact" in capsys.readouterr().err

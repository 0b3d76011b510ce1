"""``modstream serve`` settings: environment names, old spellings, and defaults from one place."""

from __future__ import annotations

import pytest

from modstream.cli import build_parser
from modstream.settings import ServeSettings, defaults


def test_defaults_are_the_ones_help_and_deploy_quote(capsys: pytest.CaptureFixture[str]) -> None:
    settings = ServeSettings()
    assert (settings.http_port, settings.grpc_port) == (defaults.HTTP_PORT, defaults.GRPC_PORT)
    assert settings.max_body_bytes == defaults.MAX_BODY_BYTES
    assert settings.max_text_chars == defaults.MAX_TEXT_CHARS
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    assert f"default {defaults.MAX_BODY_BYTES})" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["MODSTREAM_MAX_BATCH_TEXTS", "MODSTREAM_MAX_BATCH"])
def test_texts_per_model_call_is_read_under_its_name_and_the_old_one(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "7")
    assert ServeSettings().max_batch_texts == 7


def test_the_old_flag_spelling_still_works() -> None:
    args = build_parser().parse_args(["serve", "--max-batch", "9"])
    assert args.max_batch_texts == 9


def test_seldons_port_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREDICTIVE_UNIT_HTTP_SERVICE_PORT", "9123")
    monkeypatch.setenv("PREDICTIVE_UNIT_GRPC_SERVICE_PORT", "0")
    settings = ServeSettings()
    assert (settings.http_port, settings.grpc_port) == (9123, 0)

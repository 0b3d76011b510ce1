"""Kafka credentials stay out of what modstream prints: settings reprs, log lines, one-line
errors, ``--help``; ``--kafka-config @FILE`` keeps them off the command line; the errors
no retry fixes are told apart from the ones a retry does."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from confluent_kafka import KafkaError

from modstream.cli import main
from modstream.credentials import hidden, redact
from modstream.errors import AuthenticationFailed, InvalidInput, NotAuthorized
from modstream.settings import StreamSettings
from modstream.stream.config import parse_properties
from modstream.stream.refusals import refusal

PASSWORD = "s3cret-Pa55word-xyz"
KEY_PASS = "key-pa55-abcdef"
PEM = (
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    + "QUJD" * 16
    + "\n-----END ENCRYPTED PRIVATE KEY-----"
)


def _settings() -> StreamSettings:
    return StreamSettings(
        input_topic="in",
        output_topic="out",
        kafka_config={"sasl.username": "app", "sasl.password": PASSWORD},
        ssl_client_key=PEM,
        ssl_client_key_pass=KEY_PASS,
    )


def test_settings_repr_hides_every_secret_but_the_clients_get_them() -> None:
    settings = _settings()
    shown = repr(settings) + str(settings)
    assert PASSWORD not in shown and KEY_PASS not in shown and "QUJD" not in shown
    config = settings.client_config()
    assert config["sasl.password"] == PASSWORD and config["ssl.key.password"] == KEY_PASS


def test_remembered_secrets_are_masked_in_errors_and_logs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _settings().client_config()  # building a client's configuration remembers its secrets
    assert redact(f"login with {PASSWORD} failed") == "login with *** failed"
    assert "QUJD" * 16 not in redact(f"bad key:\n{PEM}")
    handler = logging.StreamHandler()
    logging.getLogger().addHandler(handler)
    try:
        from modstream.credentials import redact_logs

        redact_logs()
        logging.getLogger("modstream.test").warning("password is %s", PASSWORD)
    finally:
        logging.getLogger().removeHandler(handler)
    err = capsys.readouterr().err
    assert "password is ***" in err and PASSWORD not in err


def test_hidden_config_masks_secret_properties_only() -> None:
    config = {"sasl.username": "app", "sasl.password": PASSWORD, "ssl.key.pem": PEM,
              "sasl.jaas.config": f'x password="{PASSWORD}";', "ssl.ca.location": "/ca.pem"}  # fmt: skip
    assert hidden(config) == {
        "sasl.username": "app",
        "sasl.password": "***",
        "ssl.key.pem": "***",
        "sasl.jaas.config": "***",
        "ssl.ca.location": "/ca.pem",
    }


def test_kafka_config_file_keeps_the_password_off_the_command_line(tmp_path: Path) -> None:
    properties = tmp_path / "client.properties"
    properties.write_text(f"# login\nsasl.username=app\nsasl.password = {PASSWORD}\n\n")
    parsed = parse_properties(["security.protocol=SASL_SSL", f"@{properties}", "linger.ms=1"])
    assert parsed == {
        "security.protocol": "SASL_SSL",
        "sasl.username": "app",
        "sasl.password": PASSWORD,
        "linger.ms": "1",
    }


@pytest.mark.parametrize("bad", [PASSWORD, f"=:{PASSWORD}"])
def test_a_malformed_item_is_not_echoed(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_properties(["a=b", bad])
    assert "item 2" in str(caught.value) and PASSWORD not in str(caught.value)


def test_a_missing_or_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="No such file"):
        parse_properties([f"@{tmp_path / 'absent.properties'}"])
    broken = tmp_path / "broken.properties"
    broken.write_text(f"sasl.username=app\n{PASSWORD}\n")
    with pytest.raises(InvalidInput, match="line 2 is not") as caught:
        parse_properties([f"@{broken}"])
    assert PASSWORD not in str(caught.value)


def test_a_numeric_password_in_json_is_taken_as_text() -> None:
    settings = StreamSettings(kafka_config={"sasl.password": 12345678})  # type: ignore[dict-item]
    assert settings.client_config()["sasl.password"] == "12345678"


@pytest.mark.parametrize("command", ["stream", "produce", "consume", "up", "monitor"])
def test_help_shows_no_secret_from_the_environment(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MODSTREAM_KAFKA_CONFIG", f'{{"sasl.password": "{PASSWORD}"}}')
    monkeypatch.setenv("KAFKA_SSL_CLIENT_KEY_PASS", KEY_PASS)
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "usage: modstream" in out and PASSWORD not in out and KEY_PASS not in out


def test_login_and_acl_refusals_stop_other_errors_are_retried() -> None:
    login = refusal(KafkaError(KafkaError._AUTHENTICATION, "SASL authentication error"))
    assert isinstance(login, AuthenticationFailed) and "refused the login" in str(login)
    assert isinstance(refusal(KafkaError(KafkaError._SSL, "certificate verify failed")),
                      AuthenticationFailed)  # fmt: skip
    acl = refusal(
        KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED),
        action="write to",
        names={"topic": "predictions"},
    )
    assert isinstance(acl, NotAuthorized)
    assert "write to topic 'predictions': TOPIC_AUTHORIZATION_FAILED" in str(acl)
    group = refusal(KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED), names={"group": "g"})
    assert "join group 'g'" in str(group)
    for transient in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT):
        assert refusal(KafkaError(transient)) is None

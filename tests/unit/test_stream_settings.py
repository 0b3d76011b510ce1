"""Settings and client configuration of the Kafka worker: Seldon's names, TLS mapping,
pass-through properties, and flags overriding the environment."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from modstream.broker import CLUSTER_ID as EMBEDDED_CLUSTER_ID
from modstream.cli import build_parser
from modstream.commands.stream import settings_from_args
from modstream.errors import InvalidInput
from modstream.settings import StreamSettings, UpSettings
from modstream.stream.config import (
    LONG_FETCH_WAIT_MS,
    consumer_config,
    fetch_wait_ms,
    parse_properties,
    producer_config,
)
from modstream.up.registry import registry_store


def test_seldon_environment_names_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BROKER", "kafka:9093")
    monkeypatch.setenv("KAFKA_INPUT_TOPIC", "requests")
    monkeypatch.setenv("KAFKA_OUTPUT_TOPIC", "responses")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    monkeypatch.setenv("KAFKA_SSL_CA_CERT_FILE", "/certs/ca.pem")
    monkeypatch.setenv("KAFKA_SSL_CLIENT_KEY_PASS", "secret")
    settings = StreamSettings()
    assert settings.dead_letter == "requests.dlq"
    config = settings.client_config()
    assert config["bootstrap.servers"] == "kafka:9093"
    assert config["security.protocol"] == "SSL"
    assert config["ssl.ca.location"] == "/certs/ca.pem"
    assert config["ssl.key.password"] == "secret"


def test_kafka_config_from_environment_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODSTREAM_KAFKA_CONFIG", '{"sasl.mechanism": "PLAIN"}')
    assert StreamSettings().client_config()["sasl.mechanism"] == "PLAIN"


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BROKER", "from-env:9092")
    monkeypatch.setenv("MODSTREAM_MODEL", "/models/m")
    monkeypatch.setenv("KAFKA_INPUT_TOPIC", "in")
    args = build_parser().parse_args(
        ["stream", "--bootstrap-servers", "flag:9092", "--output-topic", "out",
         "--kafka-config", "sasl.username=app", "--max-batch", "32"]
    )  # fmt: skip
    settings = settings_from_args(args)
    assert settings.bootstrap_servers == "flag:9092"
    assert settings.model == "/models/m"
    assert settings.max_batch_records == 32  # --max-batch is the old spelling
    assert settings.client_config()["sasl.username"] == "app"


def test_missing_topic_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_OUTPUT_TOPIC", raising=False)
    args = build_parser().parse_args(["stream", "--model", "m", "--input-topic", "in"])
    with pytest.raises(InvalidInput, match="--output-topic"):
        settings_from_args(args)


def test_bad_property_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        parse_properties(["no-equals-sign"])


def test_commit_settings_cannot_be_overridden() -> None:
    settings = StreamSettings(
        input_topic="in", output_topic="out", kafka_config={"enable.auto.commit": "true"}
    )
    config = consumer_config(settings)
    assert config["enable.auto.commit"] == "false"
    assert config["enable.auto.offset.store"] == "false"
    assert "transactional.id" not in producer_config(settings)


def test_exactly_once_uses_a_stable_transactional_id_per_worker_and_host() -> None:
    settings = StreamSettings(input_topic="in", output_topic="out", exactly_once=True)
    ids = [producer_config(settings, i)["transactional.id"] for i in (0, 1, 0)]
    # the same slot again (a restart) gets the same id; another slot its own
    assert ids == [f"modstream-modstream-in-{socket.gethostname()}-{i}" for i in (0, 1, 0)]
    # a worker on another host (another machine or pod) in the same group, likewise
    elsewhere = StreamSettings(input_topic="in", output_topic="out", exactly_once=True,
                               instance="pod-b")  # fmt: skip
    assert producer_config(elsewhere, 0)["transactional.id"] == "modstream-modstream-in-pod-b-0"
    assert consumer_config(settings)["isolation.level"] == "read_committed"


def test_a_static_membership_id_is_kept_for_one_worker_and_suffixed_per_worker_of_several() -> None:
    static = {"group.instance.id": "pod-0"}
    one = StreamSettings(input_topic="in", output_topic="out", kafka_config=static)
    assert consumer_config(one, worker_index=0)["group.instance.id"] == "pod-0"
    two = StreamSettings(input_topic="in", output_topic="out", kafka_config=static, workers=2)
    ids = [consumer_config(two, worker_index=i)["group.instance.id"] for i in (0, 1)]
    assert ids == ["pod-0-0", "pod-0-1"]  # two consumers with one id would fence each other
    unset = StreamSettings(input_topic="in", output_topic="out", workers=2)
    assert "group.instance.id" not in consumer_config(unset, worker_index=1)


def test_fetches_wait_long_only_where_the_broker_answers_them_as_records_arrive() -> None:
    settings = StreamSettings(input_topic="in", output_topic="out")
    assert consumer_config(settings)["fetch.wait.max.ms"] == 5  # before the broker is known
    wait = fetch_wait_ms("kafka-cluster-id", {})
    assert wait == LONG_FETCH_WAIT_MS
    assert consumer_config(settings, wait)["fetch.wait.max.ms"] == LONG_FETCH_WAIT_MS
    assert fetch_wait_ms(EMBEDDED_CLUSTER_ID, {}) is None  # it answers when the wait ends
    assert fetch_wait_ms(None, {}) is None  # a broker that names no cluster
    # The user's choice stands, and a fetch that waits for more than one record keeps the
    # short wait: there the wait is what bounds a record's delay.
    assert fetch_wait_ms("kafka-cluster-id", {"fetch.wait.max.ms": "50"}) is None
    assert fetch_wait_ms("kafka-cluster-id", {"fetch.min.bytes": "65536"}) is None
    chosen = StreamSettings(
        input_topic="in", output_topic="out", kafka_config={"fetch.wait.max.ms": "50"}
    )
    assert consumer_config(chosen)["fetch.wait.max.ms"] == "50"


def test_records_per_poll_has_its_own_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODSTREAM_MAX_BATCH_RECORDS", "64")
    monkeypatch.setenv("MODSTREAM_MAX_BATCH", "8")  # the server's texts per model call
    assert StreamSettings().max_batch_records == 64
    args = build_parser().parse_args(
        ["stream", "--model", "m", "--input-topic", "in", "--output-topic", "out",
         "--max-batch-records", "16"]
    )  # fmt: skip
    assert settings_from_args(args).max_batch_records == 16


def test_up_and_deploy_use_the_worker_defaults() -> None:
    from modstream.deploy import DeployOptions
    from modstream.deploy.common import METRICS_PORT
    from modstream.registry.instance import review_topic, shadow_topic
    from modstream.settings.defaults import dead_letter_topic

    up = UpSettings(input_topic="posts")
    stream = StreamSettings(input_topic="posts")
    deploy = DeployOptions("n", "img", "b:9092", "posts", "out")
    assert up.dead_letter == stream.dead_letter == deploy.dead_letter == dead_letter_topic("posts")
    assert up.broker_port == int(stream.bootstrap_servers.rsplit(":", 1)[1])
    assert up.metrics_port == METRICS_PORT
    # up makes the topics its worker writes review-band comments and shadow answers to
    worker = StreamSettings(input_topic="posts", output_topic=up.output_topic)
    assert {review_topic(worker), shadow_topic(worker)} <= set(up.topics)


def test_up_takes_a_kafka_login_only_with_an_existing_kafka(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from modstream.cli import main

    assert main(["up", "--kafka-config", "security.protocol=SSL"]) == 2
    assert "add --bootstrap-servers" in capsys.readouterr().err


def test_up_refuses_an_embedded_broker_port_beside_an_existing_kafka(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from modstream.cli import main

    assert main(["up", "--bootstrap-servers", "kafka:9092", "--broker-port", "19092"]) == 2
    assert "--broker-port is the embedded broker's port" in capsys.readouterr().err


def test_up_keeps_its_copy_in_its_own_directory_only_with_the_embedded_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODSTREAM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("MODSTREAM_REGISTRY_STORE", raising=False)
    workdir = tmp_path / "up"
    assert registry_store(UpSettings(), workdir) == workdir / "registry"
    existing = UpSettings(bootstrap_servers="kafka:9092")
    assert registry_store(existing, workdir) == tmp_path / "cache" / "registry"
    monkeypatch.setenv("MODSTREAM_REGISTRY_STORE", str(tmp_path / "models"))
    assert registry_store(existing, workdir) == tmp_path / "models"

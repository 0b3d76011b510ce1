"""Generated manifests agree with each other and with what the modstream commands read.

Env names are never spelled out here: the settings classes read the generated
environment, so renaming a setting without updating the generator fails these tests.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from modstream.cli import build_parser
from modstream.deploy import DeployOptions, build_manifests
from modstream.errors import InvalidInput
from modstream.settings import ServeSettings, StreamSettings
from modstream.settings.defaults import METRICS_PATH, READY_PATH
from tests.unit.test_deploy_schemas import BASE, CASES, manifests_for

SECRETS = {
    ("kafka-tls", "ca.crt"): "CA PEM",
    ("kafka-tls", "user.crt"): "CERT PEM",
    ("kafka-tls", "user.key"): "KEY PEM",
    ("kafka-sasl", "username"): "alice",
    ("kafka-sasl", "password"): "s3cret",
}


def by_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def one(manifests: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = by_kind(manifests, kind)
    return found


def containers(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    pod = one(manifests, "Deployment")["spec"]["template"]["spec"]
    return {c["name"]: c for c in pod["containers"]}


def resolve_env(container: dict[str, Any], config_maps: dict[str, dict[str, str]]) -> dict:
    """The environment Kubernetes would give the container (secrets from SECRETS)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for var in container.get("env", []):
        if "valueFrom" in var:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = SECRETS[(ref["name"], ref["key"])]
        else:
            env[var["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], var["value"])
    return env


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("MODSTREAM_", "KAFKA_", "PREDICTIVE_UNIT_")):
            monkeypatch.delenv(name)
    return monkeypatch


def apply_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def plain_env(case: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    manifests = manifests_for(case)
    maps = {m["metadata"]["name"]: m["data"] for m in by_kind(manifests, "ConfigMap")}
    return manifests, maps


def in_container(
    env: pytest.MonkeyPatch, name: str
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, int]]:
    """The plain manifests, with container ``name``'s environment applied; its named ports."""
    manifests, maps = plain_env("plain-keda")
    container = containers(manifests)[name]
    apply_env(env, resolve_env(container, maps))
    return manifests, container, {p["name"]: p["containerPort"] for p in container["ports"]}


@pytest.mark.parametrize("case", ["plain-keda", "plain-fixed-secure"])
def test_the_worker_reads_the_topics_group_and_credentials_it_is_given(
    case: str, clean_env: pytest.MonkeyPatch
) -> None:
    manifests, maps = plain_env(case)
    apply_env(clean_env, resolve_env(containers(manifests)["stream"], maps))
    settings = StreamSettings()
    assert settings.model == "/opt/modstream/model"
    assert settings.bootstrap_servers == BASE["bootstrap_servers"]
    assert (settings.input_topic, settings.output_topic) == ("comments", "comments.verdicts")
    assert settings.group == "moderation"
    topics = {m["spec"]["topicName"] for m in by_kind(manifests, "KafkaTopic")}
    assert {settings.input_topic, settings.output_topic, settings.dead_letter} == topics
    metrics = containers(manifests)["stream"]["ports"][0]
    assert settings.metrics_port == metrics["containerPort"]
    if CASES[case].get("sasl_secret"):
        config = settings.client_config()
        assert config["security.protocol"] == "SASL_SSL"
        assert (config["sasl.username"], config["sasl.password"]) == ("alice", "s3cret")
        assert config["ssl.ca.pem"] == "CA PEM" and config["ssl.key.pem"] == "KEY PEM"
        assert config["a.b"] == "1"


def test_keda_watches_the_group_and_topic_the_worker_consumes(
    clean_env: pytest.MonkeyPatch,
) -> None:
    manifests, maps = plain_env("plain-keda")
    apply_env(clean_env, resolve_env(containers(manifests)["stream"], maps))
    settings = StreamSettings()
    trigger = one(manifests, "ScaledObject")["spec"]["triggers"][0]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == settings.group
    assert trigger["metadata"]["topic"] == settings.input_topic
    assert trigger["metadata"]["bootstrapServers"] == settings.bootstrap_servers
    assert trigger["metadata"]["lagThreshold"] == "1000"


def test_the_server_listens_on_the_ports_its_probes_and_service_use(
    clean_env: pytest.MonkeyPatch,
) -> None:
    manifests, serve, ports = in_container(clean_env, "serve")
    settings = ServeSettings()
    assert settings.host == "0.0.0.0"
    assert settings.model == "/opt/modstream/model"
    assert (settings.http_port, settings.grpc_port) == (ports["http"], ports["grpc"])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert serve[probe]["httpGet"]["port"] == "http"
        assert serve[probe]["httpGet"]["path"].startswith(("/v2/health/", "/health/"))
    service_ports = {p["targetPort"] for p in one(manifests, "Service")["spec"]["ports"]}
    all_ports = {p["name"] for c in containers(manifests).values() for p in c["ports"]}
    assert service_ports <= all_ports


def test_the_worker_is_ready_only_once_it_says_so_on_its_metrics_port(
    clean_env: pytest.MonkeyPatch,
) -> None:
    _, stream, ports = in_container(clean_env, "stream")
    settings = StreamSettings()
    assert settings.metrics_host == "0.0.0.0"
    readiness = stream["readinessProbe"]["httpGet"]
    # The path the worker's metrics server answers 503 on until it has joined its group.
    assert readiness["path"] == READY_PATH
    assert ports[readiness["port"]] == settings.metrics_port
    for probe in ("startupProbe", "livenessProbe"):  # the process is up, joined or not
        assert stream[probe]["httpGet"]["path"] == METRICS_PATH
        assert ports[stream[probe]["httpGet"]["port"]] == settings.metrics_port


@pytest.mark.parametrize("case", sorted(c for c in CASES if c.startswith("plain")))
def test_names_labels_and_selectors_agree(case: str) -> None:
    manifests = manifests_for(case)
    deployment = one(manifests, "Deployment")
    match = deployment["spec"]["selector"]["matchLabels"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert match.items() <= pod_labels.items()
    for kind in ("Service", "PodDisruptionBudget"):
        for obj in by_kind(manifests, kind):
            selector = obj["spec"]["selector"]
            selector = selector.get("matchLabels", selector)
            assert selector.items() <= pod_labels.items(), kind
    for kind in ("ScaledObject", "HorizontalPodAutoscaler"):
        for obj in by_kind(manifests, kind):
            assert obj["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    for container in containers(manifests).values():
        for source in container["envFrom"]:
            assert source["configMapRef"]["name"] in {
                m["metadata"]["name"] for m in by_kind(manifests, "ConfigMap")
            }
    names = [(m["kind"], m["metadata"]["name"]) for m in manifests]
    assert len(names) == len(set(names))


def fixed_replicas(manifests: list[dict[str, Any]]) -> int | None:
    for deployment in by_kind(manifests, "Deployment"):
        return deployment["spec"].get("replicas")
    return one(manifests, "SeldonDeployment")["spec"]["predictors"][0].get("replicas")


@pytest.mark.parametrize("case", sorted(CASES))
def test_exactly_one_autoscaler_owns_the_workload(case: str) -> None:
    manifests = manifests_for(case)
    autoscaler = CASES[case].get("autoscaler", "keda")
    owners = by_kind(manifests, "ScaledObject") + by_kind(manifests, "HorizontalPodAutoscaler")
    for sdep in by_kind(manifests, "SeldonDeployment"):
        (component,) = sdep["spec"]["predictors"][0]["componentSpecs"]
        owners += [component[k] for k in ("kedaSpec", "hpaSpec") if k in component]
    assert len(owners) == (0 if autoscaler == "none" else 1)
    # A replica count in the workload would undo the autoscaler's choice on every apply.
    expected = CASES[case].get("min_replicas", 1) if autoscaler == "none" else None
    assert fixed_replicas(manifests) == expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_container_commands_are_accepted_by_the_cli(case: str) -> None:
    manifests = manifests_for(case)
    pods = (
        [one(manifests, "Deployment")["spec"]["template"]["spec"]]
        if "plain" in case
        else [
            cs["spec"]
            for cs in one(manifests, "SeldonDeployment")["spec"]["predictors"][0]["componentSpecs"]
        ]
    )
    parser = build_parser()
    for pod in pods:
        for container in pod["containers"]:
            args = parser.parse_args(container["args"])
            assert args.command in {"serve", "stream"}
            assert args.command == container["args"][0]


def test_topics_have_at_least_as_many_partitions_as_replicas() -> None:
    manifests = build_manifests(DeployOptions(**BASE, max_replicas=5, kafka_cluster="prod"))
    topics = by_kind(manifests, "KafkaTopic")
    assert [t["spec"]["topicName"] for t in topics] == [
        "comments",
        "comments.verdicts",
        "comments.dlq",
    ]
    for topic in topics:
        assert topic["spec"]["partitions"] == 5
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "prod"
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", topic["metadata"]["name"])


def test_fewer_partitions_than_replicas_is_refused() -> None:
    with pytest.raises(InvalidInput, match="--partitions 2 is smaller than --max-replicas 4"):
        build_manifests(DeployOptions(**BASE, max_replicas=4, partitions=2))


def test_topic_names_kafka_allows_become_valid_object_names() -> None:
    options = DeployOptions(**{**BASE, "input_topic": "Raw_Comments", "output_topic": "out"})
    (topic, *_) = by_kind(build_manifests(options), "KafkaTopic")
    assert topic["metadata"]["name"] == "raw-comments"
    assert topic["spec"]["topicName"] == "Raw_Comments"


def seldon_parts(case: str) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    manifests = manifests_for(case)
    sdep = one(manifests, "SeldonDeployment")
    return manifests, sdep, sdep["spec"]["predictors"][0]


@pytest.mark.parametrize("case", ["seldon-keda", "seldon-keda-secure"])
def test_seldon_orchestrator_env_uses_names_modstream_honours_too(
    case: str, clean_env: pytest.MonkeyPatch
) -> None:
    """The executor's KAFKA_* variables mean the same to ``modstream stream``."""
    _, sdep, predictor = seldon_parts(case)
    assert sdep["spec"]["serverType"] == "kafka"
    apply_env(clean_env, resolve_env(predictor["svcOrchSpec"], {}))
    settings = StreamSettings()
    assert settings.bootstrap_servers == BASE["bootstrap_servers"]
    assert (settings.input_topic, settings.output_topic) == ("comments", "comments.verdicts")
    if "secure" in case:
        config = settings.client_config()
        assert config["security.protocol"] == "SASL_SSL"
        assert (config["ssl.ca.pem"], config["ssl.certificate.pem"]) == ("CA PEM", "CERT PEM")


def test_seldon_model_container_listens_where_the_operator_says(
    clean_env: pytest.MonkeyPatch,
) -> None:
    _, _, predictor = seldon_parts("seldon-keda")
    (container,) = predictor["componentSpecs"][0]["spec"]["containers"]
    assert container["name"] == predictor["graph"]["name"]
    # The operator injects the ports it routes to through Seldon's variables.
    env = resolve_env(container, {})
    env |= {
        "PREDICTIVE_UNIT_HTTP_SERVICE_PORT": "9001",
        "PREDICTIVE_UNIT_GRPC_SERVICE_PORT": "9501",
    }
    apply_env(clean_env, env)
    settings = ServeSettings()
    assert (settings.http_port, settings.grpc_port, settings.host) == (9001, 9501, "0.0.0.0")
    assert settings.model == "/opt/modstream/model"


def test_seldon_keda_watches_the_executors_consumer_group() -> None:
    manifests, sdep, predictor = seldon_parts("seldon-keda")
    keda = predictor["componentSpecs"][0]["kedaSpec"]
    (trigger,) = keda["triggers"]
    # Seldon Core v1's executor joins the group "<predictor>.<deployment>.<namespace>".
    group = f"{predictor['name']}.{sdep['metadata']['name']}.{sdep['metadata']['namespace']}"
    assert trigger["metadata"]["consumerGroup"] == group == "default.moderation.mod"
    assert trigger["metadata"]["topic"] == "comments"
    assert (keda["minReplicaCount"], keda["maxReplicaCount"]) == (1, 4)
    topics = by_kind(manifests, "KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics} == {"comments", "comments.verdicts"}
    assert all(t["spec"]["partitions"] == 4 for t in topics)


@pytest.mark.parametrize("case", ["seldon-keda-secure", "plain-keda-secure-worker-only"])
def test_keda_authenticates_with_the_secrets_the_pods_use(case: str) -> None:
    manifests = manifests_for(case)
    auth = one(manifests, "TriggerAuthentication")
    trigger = kafka_trigger(manifests)
    assert trigger["metadata"]["tls"] == "enable" and trigger["metadata"]["sasl"] == "plaintext"
    assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]
    refs = {(r["parameter"], r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]}
    assert {("ca", "kafka-tls", "ca.crt"), ("password", "kafka-sasl", "password")} <= refs


def kafka_trigger(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    for scaled in by_kind(manifests, "ScaledObject"):
        return scaled["spec"]["triggers"][0]
    predictor = one(manifests, "SeldonDeployment")["spec"]["predictors"][0]
    return predictor["componentSpecs"][0]["kedaSpec"]["triggers"][0]

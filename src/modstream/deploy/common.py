"""What every generated object shares: options, names, labels and settings' env names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modstream import __version__
from modstream.errors import InvalidInput
from modstream.settings import defaults

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

Manifest = dict[str, Any]

FLAVOURS = ("plain", "seldon")
AUTOSCALERS = ("keda", "hpa", "none")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
MODEL_PATH = "/opt/modstream/model"
HTTP_PORT = defaults.HTTP_PORT
GRPC_PORT = defaults.GRPC_PORT
METRICS_PORT = defaults.METRICS_PORT
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class DeployOptions:
    """Everything ``modstream deploy k8s`` needs to write one deployment's manifests."""

    name: str
    image: str
    bootstrap_servers: str
    input_topic: str
    output_topic: str
    flavour: str = "plain"
    namespace: str = "default"
    group: str | None = None
    dead_letter_topic: str | None = None
    kafka_cluster: str = "my-cluster"
    kafka_namespace: str | None = None
    min_replicas: int = 1
    max_replicas: int = 2
    partitions: int | None = None
    topic_replicas: int | None = None
    lag_threshold: int = 1000
    autoscaler: str = "keda"
    cpu_target: int = 70
    cpu_request: str = "500m"
    cpu_limit: str = "1"
    memory: str = "1Gi"
    grace_period: int = 30
    model_path: str = MODEL_PATH
    tls_secret: str | None = None
    sasl_secret: str | None = None
    sasl_mechanism: str = "PLAIN"
    security_protocol: str | None = None
    kafka_config: dict[str, str] = field(default_factory=dict)
    serve: bool = True
    topics: bool = True

    @property
    def topic_partitions(self) -> int:
        return self.partitions if self.partitions is not None else self.max_replicas

    @property
    def consumer_group(self) -> str:
        """The group whose lag KEDA watches: Seldon's executor names its own."""
        if self.flavour == "seldon":
            return f"{PREDICTOR}.{self.name}.{self.namespace}"
        return self.group or self.name

    @property
    def dead_letter(self) -> str:
        return self.dead_letter_topic or defaults.dead_letter_topic(self.input_topic)

    @property
    def protocol(self) -> str | None:
        """``security.protocol``: explicit, else implied by the secrets given."""
        if self.security_protocol:
            return self.security_protocol
        if self.sasl_secret:
            return "SASL_SSL" if self.tls_secret else "SASL_PLAINTEXT"
        return "SSL" if self.tls_secret else None


PREDICTOR = "default"


def validate(options: DeployOptions) -> None:
    """Refuse options that would deploy something broken, with a message that says why."""
    if not _DNS_LABEL.match(options.name) or len(options.name) > 52:
        raise InvalidInput(
            f"--name {options.name!r} must be a DNS label: lowercase letters, digits and '-', "
            "at most 52 characters"
        )
    if options.flavour not in FLAVOURS:
        raise InvalidInput(f"--flavour must be one of {', '.join(FLAVOURS)}")
    if options.autoscaler not in AUTOSCALERS:
        raise InvalidInput(f"--autoscaler must be one of {', '.join(AUTOSCALERS)}")
    if not 1 <= options.min_replicas <= options.max_replicas:
        raise InvalidInput(
            f"need 1 <= --min-replicas ({options.min_replicas}) <= --max-replicas "
            f"({options.max_replicas})"
        )
    if options.topic_partitions < options.max_replicas:
        raise InvalidInput(
            f"--partitions {options.topic_partitions} is smaller than --max-replicas "
            f"{options.max_replicas}: a consumer group uses at most one consumer per "
            "partition, so the extra replicas would sit idle. Raise --partitions or lower "
            "--max-replicas."
        )
    if options.sasl_mechanism not in SASL_MECHANISMS:
        raise InvalidInput(f"--sasl-mechanism must be one of {', '.join(SASL_MECHANISMS)}")
    if _cores(options.cpu_request) > _cores(options.cpu_limit):
        raise InvalidInput(
            f"--cpu {options.cpu_request} is above --cpu-limit {options.cpu_limit}: "
            "Kubernetes rejects a request larger than its limit"
        )
    if options.lag_threshold < 1:
        raise InvalidInput("--lag-threshold must be at least 1")


def _cores(quantity: str) -> float:
    """A Kubernetes CPU quantity ("500m", "1", "1.5") in cores."""
    try:
        return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)
    except ValueError:
        raise InvalidInput(f"not a CPU quantity: {quantity!r} (use e.g. 500m or 2)") from None


def labels(options: DeployOptions, component: str) -> dict[str, str]:
    """Recommended Kubernetes labels; the selector is the name/instance pair only."""
    return {
        **selector(options),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "modstream",
        "app.kubernetes.io/version": __version__,
        "app.kubernetes.io/managed-by": "modstream-deploy",
    }


def selector(options: DeployOptions) -> dict[str, str]:
    return {"app.kubernetes.io/name": "modstream", "app.kubernetes.io/instance": options.name}


def metadata(options: DeployOptions, name: str, component: str) -> Manifest:
    return {"name": name, "namespace": options.namespace, "labels": labels(options, component)}


def k8s_name(value: str) -> str:
    """A Kafka topic name as a Kubernetes object name (lowercase, '.', '-')."""
    name = re.sub(r"[^a-z0-9.-]+", "-", value.lower()).strip(".-")
    return name[:253] or "topic"


def env_name(settings: type[BaseSettings], field_name: str) -> str:
    """The environment variable a settings field is read from (its first upper-case alias)."""
    from pydantic import AliasChoices

    info = settings.model_fields[field_name]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        for choice in alias.choices:
            if isinstance(choice, str) and choice.isupper():
                return choice
    elif isinstance(alias, str) and alias.isupper():
        return alias
    prefix = str(settings.model_config.get("env_prefix", ""))
    return f"{prefix}{field_name}".upper()


def resources(options: DeployOptions) -> Manifest:
    return {
        "requests": {"cpu": options.cpu_request, "memory": options.memory},
        "limits": {"cpu": options.cpu_limit, "memory": options.memory},
    }


def secret_env(name: str, secret: str, key: str) -> Manifest:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}

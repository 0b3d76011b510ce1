"""The ``plain`` flavour: a Deployment running ``modstream stream`` (and ``serve``), no operator.

One pod holds two containers built from the same image: ``stream`` consumes the input
topic, and ``serve`` answers REST/gRPC requests on demand. Both read their settings from
one ConfigMap through the same environment variables the commands read.
"""

from __future__ import annotations

import json

from modstream.deploy.common import (
    GRPC_PORT,
    HTTP_PORT,
    METRICS_PORT,
    DeployOptions,
    Manifest,
    env_name,
    metadata,
    resources,
    secret_env,
    selector,
)
from modstream.settings import ServeSettings, StreamSettings
from modstream.settings.defaults import METRICS_PATH, READY_PATH

TLS_FIELDS = {"ssl_ca_cert": "ca.crt", "ssl_client_cert": "user.crt", "ssl_client_key": "user.key"}
SASL_USER = "KAFKA_SASL_USERNAME"
SASL_PASSWORD = "KAFKA_SASL_PASSWORD"


def config_map(options: DeployOptions) -> Manifest:
    """Non-secret settings, keyed by the variables ServeSettings and StreamSettings read."""
    data = {
        env_name(ServeSettings, "model"): options.model_path,
        env_name(ServeSettings, "host"): "0.0.0.0",
        env_name(ServeSettings, "http_port"): str(HTTP_PORT),
        env_name(ServeSettings, "grpc_port"): str(GRPC_PORT),
        env_name(StreamSettings, "model"): options.model_path,
        env_name(StreamSettings, "bootstrap_servers"): options.bootstrap_servers,
        env_name(StreamSettings, "input_topic"): options.input_topic,
        env_name(StreamSettings, "output_topic"): options.output_topic,
        env_name(StreamSettings, "group"): options.consumer_group,
        env_name(StreamSettings, "dead_letter_topic"): options.dead_letter,
        env_name(StreamSettings, "metrics_port"): str(METRICS_PORT),
        env_name(StreamSettings, "metrics_host"): "0.0.0.0",
    }
    if options.protocol:
        data[env_name(StreamSettings, "security_protocol")] = options.protocol
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(options, options.name, "config"),
        "data": data,
    }


def _stream_env(options: DeployOptions) -> list[Manifest]:
    """Secrets as env vars; librdkafka pass-through as the JSON ``kafka_config`` setting."""
    env = []
    if options.tls_secret:
        env += [
            secret_env(env_name(StreamSettings, field), options.tls_secret, key)
            for field, key in TLS_FIELDS.items()
        ]
    extra = dict(options.kafka_config)
    if options.sasl_secret:
        env += [
            secret_env(SASL_USER, options.sasl_secret, "username"),
            secret_env(SASL_PASSWORD, options.sasl_secret, "password"),
        ]
        # Kubernetes expands $(VAR) from the variables defined above it.
        extra.update(
            {
                "sasl.mechanisms": options.sasl_mechanism,
                "sasl.username": f"$({SASL_USER})",
                "sasl.password": f"$({SASL_PASSWORD})",
            }
        )
    if extra:
        env.append({"name": env_name(StreamSettings, "kafka_config"), "value": json.dumps(extra)})
    return env


def _security_context() -> Manifest:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def _http_probe(path: str, port: str, period: int, failures: int = 3) -> Manifest:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def _container(options: DeployOptions, name: str, ports: list[Manifest]) -> Manifest:
    return {
        "name": name,
        "image": options.image,
        "imagePullPolicy": "IfNotPresent",
        "args": [name],
        "envFrom": [{"configMapRef": {"name": options.name}}],
        "ports": ports,
        "resources": resources(options),
        "securityContext": _security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def stream_container(options: DeployOptions) -> Manifest:
    container = _container(options, "stream", [{"name": "metrics", "containerPort": METRICS_PORT}])
    env = _stream_env(options)
    if env:
        container["env"] = env
    # The metrics server answers /metrics as soon as the process runs (startup and
    # liveness) and /ready once the worker is warmed up and has joined its group.
    container["startupProbe"] = _http_probe(METRICS_PATH, "metrics", 2, failures=60)
    container["readinessProbe"] = _http_probe(READY_PATH, "metrics", 5)
    container["livenessProbe"] = _http_probe(METRICS_PATH, "metrics", 10)
    return container


def serve_container(options: DeployOptions) -> Manifest:
    ports = [
        {"name": "http", "containerPort": HTTP_PORT},
        {"name": "grpc", "containerPort": GRPC_PORT},
    ]
    container = _container(options, "serve", ports)
    container["startupProbe"] = _http_probe("/v2/health/live", "http", 2, failures=60)
    container["readinessProbe"] = _http_probe("/v2/health/ready", "http", 5)
    container["livenessProbe"] = _http_probe("/v2/health/live", "http", 10)
    return container


def _pod_spec(options: DeployOptions) -> Manifest:
    containers = [stream_container(options)]
    if options.serve:
        containers.append(serve_container(options))
    return {
        # Service links would inject MODSTREAM_*-looking variables for a Service whose
        # name starts with "modstream", which the settings would then try to parse.
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": options.grace_period,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": containers,
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }


def deployment(options: DeployOptions) -> Manifest:
    spec: Manifest = {
        "selector": {"matchLabels": selector(options)},
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
        },
        "template": {
            "metadata": {
                "labels": metadata(options, options.name, "worker")["labels"],
                "annotations": {
                    "prometheus.io/scrape": "true",
                    "prometheus.io/port": str(METRICS_PORT),
                    "prometheus.io/path": METRICS_PATH,
                },
            },
            "spec": _pod_spec(options),
        },
    }
    if options.autoscaler == "none":
        # With an autoscaler, a replica count here would reset its choice on every apply.
        spec["replicas"] = options.min_replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(options, options.name, "worker"),
        "spec": spec,
    }


def service(options: DeployOptions) -> Manifest:
    ports = [{"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics"}]
    annotations = {}
    if options.serve:
        ports = [
            {"name": "http", "port": HTTP_PORT, "targetPort": "http"},
            {"name": "grpc", "port": GRPC_PORT, "targetPort": "grpc", "appProtocol": "grpc"},
            *ports,
        ]
        # The pod annotations scrape the worker; this scrapes the server's /metrics.
        annotations = {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": str(HTTP_PORT),
            "prometheus.io/path": "/metrics",
        }
    meta = metadata(options, options.name, "server")
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {"type": "ClusterIP", "selector": selector(options), "ports": ports},
    }


def pod_disruption_budget(options: DeployOptions) -> Manifest:
    # maxUnavailable rather than minAvailable: with one replica, minAvailable=1 would
    # block every node drain.
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(options, options.name, "worker"),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(options)}},
    }

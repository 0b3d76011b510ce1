"""Autoscaling: KEDA on consumer lag (the default), or a CPU HPA as the fallback.

Only one autoscaler may own a Deployment: KEDA creates and drives its own HPA, so a
second HPA on the same target would fight it. ``--autoscaler`` picks exactly one.
"""

from __future__ import annotations

from modstream.deploy.common import DeployOptions, Manifest, metadata

KEDA_API = "keda.sh/v1alpha1"
# librdkafka's sasl.mechanisms value -> KEDA's kafka scaler `sasl` value.
KEDA_SASL = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}


def kafka_trigger(options: DeployOptions) -> Manifest:
    """KEDA's kafka scaler: add a replica per ``lag_threshold`` messages of lag."""
    meta = {
        "bootstrapServers": options.bootstrap_servers,
        "consumerGroup": options.consumer_group,
        "topic": options.input_topic,
        "lagThreshold": str(options.lag_threshold),
        "offsetResetPolicy": "earliest",
        # Lag on a partition without a consumer cannot be worked off: never scale past
        # the partition count.
        "allowIdleConsumers": "false",
    }
    if options.tls_secret:
        meta["tls"] = "enable"
    if options.sasl_secret:
        meta["sasl"] = KEDA_SASL[options.sasl_mechanism]
    trigger: Manifest = {"type": "kafka", "name": "consumer-lag", "metadata": meta}
    if options.tls_secret or options.sasl_secret:
        trigger["authenticationRef"] = {"name": _auth_name(options)}
    return trigger


def keda_limits(options: DeployOptions) -> Manifest:
    return {
        "minReplicaCount": options.min_replicas,
        "maxReplicaCount": options.max_replicas,
        "pollingInterval": 15,
        "cooldownPeriod": 300,
    }


def scaled_object(options: DeployOptions, target: str) -> Manifest:
    return {
        "apiVersion": KEDA_API,
        "kind": "ScaledObject",
        "metadata": metadata(options, options.name, "autoscaler"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            **keda_limits(options),
            "triggers": [kafka_trigger(options)],
        },
    }


def trigger_authentication(options: DeployOptions) -> Manifest | None:
    """Broker credentials for KEDA's lag queries, from the same secrets the pods use."""
    refs = []
    if options.tls_secret:
        refs += [
            {"parameter": "ca", "name": options.tls_secret, "key": "ca.crt"},
            {"parameter": "cert", "name": options.tls_secret, "key": "user.crt"},
            {"parameter": "key", "name": options.tls_secret, "key": "user.key"},
        ]
    if options.sasl_secret:
        refs += [
            {"parameter": "username", "name": options.sasl_secret, "key": "username"},
            {"parameter": "password", "name": options.sasl_secret, "key": "password"},
        ]
    if not refs:
        return None
    return {
        "apiVersion": KEDA_API,
        "kind": "TriggerAuthentication",
        "metadata": metadata(options, _auth_name(options), "autoscaler"),
        "spec": {"secretTargetRef": refs},
    }


def cpu_metric(options: DeployOptions) -> Manifest:
    return {
        "type": "Resource",
        "resource": {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": options.cpu_target},
        },
    }


def horizontal_pod_autoscaler(options: DeployOptions, target: str) -> Manifest:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(options, options.name, "autoscaler"),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": options.min_replicas,
            "maxReplicas": options.max_replicas,
            "metrics": [cpu_metric(options)],
        },
    }


def _auth_name(options: DeployOptions) -> str:
    return f"{options.name}-kafka"

"""The ``seldon`` flavour: a SeldonDeployment with ``serverType: kafka``.

Seldon Core v1's service orchestrator consumes the input topic, calls the model container
(``modstream serve``, which speaks the Seldon protocol) over REST, and produces the reply
to the output topic. Its Kafka settings are Seldon's own ``KAFKA_*`` variables in
``svcOrchSpec.env``; the operator tells the model container its ports through
``PREDICTIVE_UNIT_*`` variables, which ``ServeSettings`` honours.
"""

from __future__ import annotations

from modstream.deploy.common import (
    PREDICTOR,
    DeployOptions,
    Manifest,
    env_name,
    metadata,
    resources,
    secret_env,
)
from modstream.deploy.scaling import cpu_metric, kafka_trigger, keda_limits
from modstream.settings import ServeSettings

MODEL_NODE = "model"
# The variables the Seldon Core v1 executor reads (executor/api/util and api/kafka).
BROKER, INPUT_TOPIC, OUTPUT_TOPIC = "KAFKA_BROKER", "KAFKA_INPUT_TOPIC", "KAFKA_OUTPUT_TOPIC"
SECURITY_PROTOCOL = "KAFKA_SECURITY_PROTOCOL"
TLS_ENV = {
    "KAFKA_SSL_CA_CERT": "ca.crt",
    "KAFKA_SSL_CLIENT_CERT": "user.crt",
    "KAFKA_SSL_CLIENT_KEY": "user.key",
}
SASL_ENV = {"KAFKA_SASL_USERNAME": "username", "KAFKA_SASL_PASSWORD": "password"}


def orchestrator_env(options: DeployOptions) -> list[Manifest]:
    env: list[Manifest] = [
        {"name": BROKER, "value": options.bootstrap_servers},
        {"name": INPUT_TOPIC, "value": options.input_topic},
        {"name": OUTPUT_TOPIC, "value": options.output_topic},
    ]
    if options.protocol:
        env.append({"name": SECURITY_PROTOCOL, "value": options.protocol})
    if options.tls_secret:
        env += [secret_env(name, options.tls_secret, key) for name, key in TLS_ENV.items()]
    if options.sasl_secret:
        env.append({"name": "KAFKA_SASL_MECHANISM", "value": options.sasl_mechanism})
        env += [secret_env(name, options.sasl_secret, key) for name, key in SASL_ENV.items()]
    return env


def model_container(options: DeployOptions) -> Manifest:
    """``modstream serve``; the operator injects ports and probes for this container."""
    return {
        "name": MODEL_NODE,
        "image": options.image,
        "args": ["serve"],
        "env": [
            {"name": env_name(ServeSettings, "model"), "value": options.model_path},
            {"name": env_name(ServeSettings, "host"), "value": "0.0.0.0"},
        ],
        "resources": resources(options),
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
    }


def _component_spec(options: DeployOptions) -> Manifest:
    spec: Manifest = {
        "spec": {
            "terminationGracePeriodSeconds": options.grace_period,
            "containers": [model_container(options)],
        }
    }
    if options.autoscaler == "keda":
        spec["kedaSpec"] = {**keda_limits(options), "triggers": [kafka_trigger(options)]}
    elif options.autoscaler == "hpa":
        spec["hpaSpec"] = {
            "minReplicas": options.min_replicas,
            "maxReplicas": options.max_replicas,
            "metricsv2": [cpu_metric(options)],
        }
    return spec


def seldon_deployment(options: DeployOptions) -> Manifest:
    predictor: Manifest = {
        "name": PREDICTOR,
        "graph": {"name": MODEL_NODE, "type": "MODEL", "endpoint": {"type": "REST"}},
        "componentSpecs": [_component_spec(options)],
        "svcOrchSpec": {"env": orchestrator_env(options)},
        "labels": metadata(options, options.name, "worker")["labels"],
    }
    if options.autoscaler == "none":
        predictor["replicas"] = options.min_replicas
    return {
        "apiVersion": "machinelearning.seldon.io/v1",
        "kind": "SeldonDeployment",
        "metadata": metadata(options, options.name, "worker"),
        "spec": {
            "name": options.name,
            "serverType": "kafka",
            "protocol": "seldon",
            "transport": "rest",
            "predictors": [predictor],
        },
    }

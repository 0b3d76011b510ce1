"""``modstream deploy k8s``: write Kubernetes manifests for a model image."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from modstream import deploy
from modstream.commands._kafka import add_kafka_config_arg
from modstream.deploy import DeployOptions, build_manifests
from modstream.deploy.common import AUTOSCALERS, FLAVOURS, MODEL_PATH, SASL_MECHANISMS
from modstream.settings.defaults import dead_letter_topic

EPILOG = """examples:
  # Kafka worker + REST/gRPC server, KEDA on consumer lag, Strimzi topics (stdout)
  modstream deploy k8s --name moderation --image registry.example.com/modstream:0.1.0 \\
      --bootstrap-servers my-cluster-kafka-bootstrap.kafka:9092 \\
      --input-topic comments --output-topic verdicts --max-replicas 4 | kubectl apply -f -

  # Seldon Core v1 (serverType: kafka), one file per object
  modstream deploy k8s --flavour seldon --name moderation --image IMG \\
      --bootstrap-servers B --input-topic comments --output-topic verdicts --out deploy/

  # managed Kafka over SASL_SSL (topics created in the provider's console)
  modstream deploy k8s --name moderation --image IMG --bootstrap-servers HOST:9092 \\
      --input-topic comments --output-topic verdicts --no-topics \\
      --sasl-secret kafka-credentials --security-protocol SASL_SSL --out deploy/

Partitions cap the useful replicas: each partition feeds at most one consumer of the group,
so --partitions (default: --max-replicas) may not be smaller than --max-replicas.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "deploy",
        help="write deployment manifests (Kubernetes)",
        description="Write deployment manifests. See docs/deploy.md for the whole path from "
        "a trained model to a scaled deployment.",
    )
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    k8s = targets.add_parser(
        "k8s",
        help="Kubernetes manifests: plain Deployment or SeldonDeployment, KEDA, Strimzi topics",
        description="Write Kubernetes manifests for one deployment of a modstream image: "
        "'plain' (Deployment running 'modstream stream' and 'modstream serve', Service, "
        "ConfigMap, PodDisruptionBudget, KEDA ScaledObject or CPU HPA) or 'seldon' "
        "(SeldonDeployment with serverType kafka and a kedaSpec); plus Strimzi KafkaTopics.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_args(k8s)
    k8s.set_defaults(func=_run)


def _add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", required=True, help="object name (DNS label)")
    p.add_argument("--image", required=True, help="container image with modstream and a model")
    p.add_argument("--bootstrap-servers", required=True, help="Kafka bootstrap servers")
    p.add_argument("--input-topic", required=True, help="topic of comments to score")
    p.add_argument("--output-topic", required=True, help="topic for the verdicts")
    p.add_argument("--flavour", choices=FLAVOURS, default="plain", help="default: plain")
    p.add_argument("--namespace", default="default", help="namespace of the objects")
    p.add_argument("--group", help="consumer group (plain; default: --name)")
    p.add_argument(
        "--dead-letter-topic",
        help=f"plain only (default: {dead_letter_topic('<input-topic>')})",
    )
    p.add_argument("--min-replicas", type=int, default=1, help="default: 1")
    p.add_argument("--max-replicas", type=int, default=2, help="default: 2")
    p.add_argument("--partitions", type=int, help="topic partitions (default: --max-replicas)")
    p.add_argument("--topic-replicas", type=int, help="topic replication factor")
    p.add_argument(
        "--no-topics", action="store_true", help="no Strimzi KafkaTopics (topics managed elsewhere)"
    )
    p.add_argument("--kafka-cluster", default="my-cluster", help="strimzi.io/cluster label")
    p.add_argument("--kafka-namespace", help="namespace of the KafkaTopics (default: --namespace)")
    p.add_argument(
        "--autoscaler",
        choices=AUTOSCALERS,
        default="keda",
        help="keda: consumer lag (default); hpa: CPU; none: fixed --min-replicas",
    )
    p.add_argument(
        "--lag-threshold",
        type=int,
        default=1000,
        help="KEDA: target lag per replica (default: 1000)",
    )
    p.add_argument("--cpu-target", type=int, default=70, help="HPA: CPU utilisation %%")
    p.add_argument("--cpu", default="500m", help="CPU request per container (default: 500m)")
    p.add_argument("--cpu-limit", default="1", help="CPU limit per container (default: 1)")
    p.add_argument("--memory", default="1Gi", help="memory request = limit (default: 1Gi)")
    p.add_argument(
        "--grace-period",
        type=int,
        default=30,
        help="seconds to finish a batch and commit on shutdown (default: 30)",
    )
    p.add_argument(
        "--model-path",
        default=MODEL_PATH,
        help="model directory inside the container (default: the baked-in one)",
    )
    p.add_argument(
        "--no-serve",
        action="store_true",
        help="plain: run only the Kafka worker, no REST/gRPC container",
    )
    _add_security_args(p)
    p.add_argument(
        "--out", default="-", help="directory for one file per object, or '-' for stdout (default)"
    )


def _add_security_args(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("Kafka security")
    group.add_argument("--tls-secret", help="Secret with ca.crt, user.crt, user.key (mTLS)")
    group.add_argument("--sasl-secret", help="Secret with username and password")
    group.add_argument(
        "--sasl-mechanism",
        choices=SASL_MECHANISMS,
        default="PLAIN",
        help="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default: PLAIN)",
    )
    group.add_argument(
        "--security-protocol",
        help="default: implied by the secrets (SSL, SASL_SSL, SASL_PLAINTEXT)",
    )
    add_kafka_config_arg(group, "librdkafka property for the plain worker (repeatable)")


def options_from_args(args: argparse.Namespace) -> DeployOptions:
    """Flags to options: same-named flags map directly, the rest are spelled out."""
    from modstream.stream.config import parse_properties

    same = {f.name: getattr(args, f.name) for f in fields(DeployOptions) if hasattr(args, f.name)}
    same.pop("kafka_config", None)
    return DeployOptions(
        **same,
        cpu_request=args.cpu,
        kafka_config=parse_properties(args.kafka_config),
        serve=not args.no_serve,
        topics=not args.no_topics,
    )


def _run(args: argparse.Namespace) -> int:
    manifests = build_manifests(options_from_args(args))
    if args.out == "-":
        sys.stdout.write(deploy.to_yaml(manifests))
        return 0
    for path in deploy.write_directory(manifests, Path(args.out)):
        print(path)
    return 0

"""Flags of the registry and policy commands, and those with which ``serve`` and
``stream`` follow the model registry."""

from __future__ import annotations

import argparse
from typing import Any

from modstream.commands._kafka import add_kafka_config_arg


def add_kafka_args(group: Any) -> None:
    """``--bootstrap-servers`` and ``--kafka-config`` (read by ``produce.tool_settings``)."""
    add = group.add_argument
    add("--bootstrap-servers", help="Kafka bootstrap servers (default 127.0.0.1:9092)")
    add_kafka_config_arg(group)


def add_follow_args(parser: argparse.ArgumentParser, *, connection: bool) -> None:
    """``--registry``, ``--models-topic``, ``--model-name`` (and, for a command that has no
    Kafka connection of its own, ``--bootstrap-servers`` and ``--kafka-config``)."""
    group = parser.add_argument_group("model registry (docs/models.md)")
    add = group.add_argument
    add("--registry", action="store_true", default=None,
        help="follow the registry: run its champion (and canary, shadow), switch live "
             "(MODSTREAM_REGISTRY=true); --model then only serves until it has a champion")  # fmt: skip
    add("--models-topic", help="the registry topic (MODSTREAM_MODELS_TOPIC, modstream-models)")
    add("--model-name", help="the model to follow (MODSTREAM_MODEL_NAME, moderation)")
    if connection:
        add_kafka_args(group)


def following(args: argparse.Namespace) -> bool:
    """Whether the command follows the registry (flag, else ``MODSTREAM_REGISTRY``)."""
    from modstream.settings import RegistrySettings

    return bool(args.registry) if args.registry is not None else RegistrySettings().follow


def registry_link(args: argparse.Namespace, client_config: dict[str, str], initial: Any) -> Any:
    """Start following (blocks until the first model set is ready); a ``RegistryLink``."""
    from modstream.registry.admin import RegistryAdmin
    from modstream.registry.client import Registry
    from modstream.registry.follow import start_following
    from modstream.registry.repository import RegistryLink
    from modstream.settings import RegistrySettings
    from modstream.stream.refusals import check_login

    check_login(client_config)  # a refused login ends here, in about a second
    settings = RegistrySettings()
    topic = args.models_topic or settings.models_topic
    name = args.model_name or settings.model_name
    followed = start_following(
        client_config, kind="serve", initial=initial, models_topic=topic, model_name=name
    )
    return RegistryLink(followed, RegistryAdmin(Registry(client_config, topic), name))


def add_answer_args(parser: argparse.ArgumentParser) -> None:
    """The worker's shadow topic and keep/review/remove policy flags."""
    group = parser.add_argument_group("roles and policy (docs/models.md)")
    add = group.add_argument
    add("--shadow-topic", help="the shadow's answers (default <output-topic>.shadow)")
    add("--policy-file", help="JSON policy, re-read when it changes (MODSTREAM_POLICY_FILE)")
    add(
        "--policies-topic",
        help="compacted policies topic, followed live (MODSTREAM_POLICIES_TOPIC)",
    )
    add("--review-topic", help="review-band comments with reasons (default <output-topic>.review)")


def with_rollout_args(settings: Any, args: argparse.Namespace) -> Any:
    """``settings`` (a ``StreamSettings``) with the registry and policy flags that were given."""
    registry = {
        "follow": args.registry,
        "models_topic": args.models_topic,
        "model_name": args.model_name,
        "shadow_topic": args.shadow_topic,
    }
    policy = {
        "policy_file": args.policy_file,
        "policies_topic": args.policies_topic,
        "review_topic": args.review_topic,
    }
    given = {k: v for k, v in registry.items() if v is not None}
    chosen = {k: v for k, v in policy.items() if v is not None}
    return settings.model_copy(
        update={
            "registry_settings": settings.registry_settings.model_copy(update=given),
            "policy_settings": settings.policy_settings.model_copy(update=chosen),
        }
    )

"""Setting up a stream worker's models and answering from its settings.

``worker_plane`` gives the data plane a worker scores with: following the registry (its
champion, canary and shadow, swapped between batches) or the one ``--model``.
``worker_answering`` gives the policy source and the shadow and review topics, creating
those topics when they are missing (like the output topic, same partition count), so a
shadow or review record never blocks a batch's commit on a topic that is not there.
"""

from __future__ import annotations

import logging

from confluent_kafka.admin import AdminClient, NewTopic

from modstream.dataplane import DataPlane
from modstream.errors import InvalidInput
from modstream.policy.source import policy_source
from modstream.registry.follow import FollowedModels, start_following
from modstream.registry.outputs import Answering
from modstream.settings import StreamSettings, defaults

log = logging.getLogger(__name__)

__all__ = ["review_topic", "shadow_topic", "worker_answering", "worker_plane"]


def shadow_topic(settings: StreamSettings) -> str:
    """Where the shadow's answers go: the configured topic, or ``<output-topic>.shadow``."""
    registry = settings.registry_settings
    return registry.shadow_topic or f"{settings.output_topic}{defaults.SHADOW_SUFFIX}"


def review_topic(settings: StreamSettings) -> str:
    """Where review-band comments go: the configured topic, or ``<output-topic>.review``."""
    policy = settings.policy_settings
    return policy.review_topic or f"{settings.output_topic}{defaults.REVIEW_SUFFIX}"


def worker_plane(settings: StreamSettings, index: int) -> tuple[DataPlane, FollowedModels | None]:
    """The worker's data plane and its registry follower (if it follows one)."""
    from modstream.model import load_model

    model = load_model(settings.model) if settings.model else None
    registry = settings.registry_settings
    if not registry.follow:
        if model is None:
            raise InvalidInput("no model: pass --model DIR or --registry (or set MODSTREAM_MODEL)")
        return DataPlane(model), None
    followed = start_following(
        settings.client_config(),
        kind="stream",
        index=index,
        initial=model,
        models_topic=registry.models_topic,
        model_name=registry.model_name,
    )
    assert followed.current is not None
    plane = DataPlane(followed.current)
    followed.manager.attach(plane.swap)
    return plane, followed


def worker_answering(settings: StreamSettings) -> Answering:
    """The policy source and the shadow and review topics of a worker."""
    config = settings.client_config()
    shadow, review = shadow_topic(settings), review_topic(settings)
    _create_like_output(config, str(settings.output_topic), [shadow, review])
    policy = settings.policy_settings
    return Answering(policy_source(policy, config), shadow, review, policy.review_top)


def _create_like_output(config: dict[str, str], output: str, topics: list[str]) -> None:
    admin = AdminClient({**config, "log_level": 0})
    try:
        existing = admin.list_topics(timeout=10).topics
    except Exception as exc:  # the broker may be down; producing will tell later
        log.warning("cannot check the shadow and review topics: %s", exc)
        return
    if output not in existing:
        return
    partitions = len(existing[output].partitions)
    missing = [NewTopic(t, num_partitions=partitions) for t in topics if t not in existing]
    if not missing:
        return
    for topic, future in admin.create_topics(missing, request_timeout=15).items():
        try:
            future.result(timeout=20)
            log.info("created topic %s (%d partitions)", topic, partitions)
        except Exception as exc:
            log.warning("could not create topic %s: %s", topic, exc)

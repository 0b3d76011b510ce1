"""Kubernetes manifests for modstream: Python dicts, written as YAML.

``build_manifests(options)`` returns every object of one deployment, in apply order.
The builders (which read the settings classes) and the YAML writer are imported on first
use, so ``modstream deploy --help`` does not load pydantic or yaml.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modstream._lazy import lazy_attributes
from modstream.deploy.common import DeployOptions, Manifest, validate

if TYPE_CHECKING:
    from modstream.deploy.writer import to_yaml, write_directory

__all__ = ["DeployOptions", "build_manifests", "to_yaml", "write_directory"]


__getattr__ = lazy_attributes(__name__, {"to_yaml": "writer", "write_directory": "writer"})


def build_manifests(options: DeployOptions) -> list[Manifest]:
    """All objects for ``options``; raises ``InvalidInput`` for options that cannot work."""
    from modstream.deploy.plain import config_map, deployment, pod_disruption_budget, service
    from modstream.deploy.scaling import (
        horizontal_pod_autoscaler,
        scaled_object,
        trigger_authentication,
    )
    from modstream.deploy.seldon import seldon_deployment
    from modstream.deploy.topics import kafka_topics

    validate(options)
    manifests = kafka_topics(options) if options.topics else []
    if options.flavour == "seldon":
        manifests.append(seldon_deployment(options))
        auth = trigger_authentication(options) if options.autoscaler == "keda" else None
        return manifests + ([auth] if auth else [])
    manifests += [config_map(options), service(options), deployment(options)]
    manifests.append(pod_disruption_budget(options))
    if options.autoscaler == "keda":
        auth = trigger_authentication(options)
        manifests += [auth] if auth else []
        manifests.append(scaled_object(options, options.name))
    elif options.autoscaler == "hpa":
        manifests.append(horizontal_pod_autoscaler(options, options.name))
    return manifests

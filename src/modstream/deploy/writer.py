"""Manifests to YAML: one multi-document stream, or one file per object in a directory."""

from __future__ import annotations

from pathlib import Path

import yaml

from modstream.deploy.common import Manifest

# kubectl applies a directory in file-name order: topics and config before workloads.
_ORDER = {
    "KafkaTopic": 10,
    "ConfigMap": 20,
    "TriggerAuthentication": 30,
    "Service": 40,
    "Deployment": 50,
    "SeldonDeployment": 50,
    "PodDisruptionBudget": 60,
    "ScaledObject": 70,
    "HorizontalPodAutoscaler": 70,
}


def to_yaml(manifests: list[Manifest]) -> str:
    return yaml.safe_dump_all(manifests, sort_keys=False, default_flow_style=False)


def file_name(manifest: Manifest) -> str:
    kind = manifest["kind"]
    return f"{_ORDER.get(kind, 90):02d}-{kind.lower()}-{manifest['metadata']['name']}.yaml"


def write_directory(manifests: list[Manifest], out: Path) -> list[Path]:
    """Write each object to its own file; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for manifest in manifests:
        path = out / file_name(manifest)
        path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths

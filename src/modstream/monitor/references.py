"""Training references of the model versions the monitor may see, read from their artifacts.

``--model PATH`` names an artifact directory, or a directory of artifact directories (a
registry's store); every verified manifest found gives its version's shipped threshold
and, when the training run stored one, its reference distributions.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from modstream.errors import ArtifactError
from modstream.model.manifest import MANIFEST, read_manifest
from modstream.model.reference import REFERENCE_KEY

__all__ = ["load_references"]

log = logging.getLogger(__name__)


def _artifacts(path: Path) -> list[Path]:
    if (path / MANIFEST).is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if (p / MANIFEST).is_file())
    raise ArtifactError(f"no model artifact at {path}")


def load_references(paths: list[str]) -> dict[str, dict[str, Any]]:
    """Version -> ``{"threshold": ..., <reference block>}`` for every artifact under ``paths``."""
    references: dict[str, dict[str, Any]] = {}
    for path in paths:
        found = _artifacts(Path(path))
        if not found:
            raise ArtifactError(f"no model artifact at {path} or in its subdirectories")
        for artifact in found:
            manifest = read_manifest(artifact)
            reference = dict(manifest.get("training", {}).get(REFERENCE_KEY) or {})
            reference.pop("vocabulary", None)  # the worker's concern, not the monitor's
            if "score" not in reference:
                log.warning(
                    "%s (version %s) has no reference distributions: quality is monitored, "
                    "drift is not (retrain it with this modstream version)",
                    artifact,
                    manifest["version"],
                )
                reference = {}
            references[str(manifest["version"])] = {
                "threshold": float(manifest["threshold"]),
                **reference,
            }
    return references

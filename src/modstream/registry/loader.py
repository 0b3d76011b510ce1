"""Load a published version and prove it works before anything is switched to it.

Checks, in order: the artifact is where the event says and its manifest has the
published digest; ``load_model`` verifies every file against the manifest and rebuilds
the pipeline; the model has the expected name, classes and version; a warm-up prediction
gives finite probabilities that sum to one. Any failure is an ``ArtifactError`` whose
message says which check failed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modstream.errors import ArtifactError
from modstream.model import TextModel, load_model
from modstream.model.textmodel import CLASS_NAMES
from modstream.registry.state import VersionEntry
from modstream.registry.store import artifact_digest, local_artifact

# Texts of the warm-up prediction: an ordinary comment, an empty one, markup and emoji.
WARM_UP_TEXTS = (
    "The sample size seems small for this claim; is there a follow-up study?",
    "",
    "See [the paper](https://doi.org/10.1000/xyz) — 🙂",
)

__all__ = ["WARM_UP_TEXTS", "load_version", "warm_up"]


def load_version(entry: VersionEntry, *, model_name: str, cache: Path) -> TextModel:
    """The verified, warmed-up model of ``entry``; ``ArtifactError`` when it is refused."""
    path = local_artifact(entry.uri, entry.sha256, cache)
    model = load_model(path)
    if artifact_digest(path) != entry.sha256:  # replaced while it was being read
        raise ArtifactError(f"{entry.uri} changed while it was being loaded")
    check_identity(model, model_name, entry.version)
    warm_up(model)
    return model


def check_identity(model: TextModel, model_name: str, version: str | None) -> None:
    """``ArtifactError`` unless ``model`` is ``model_name`` (at ``version``) with our classes."""
    if model.name != model_name:
        raise ArtifactError(
            f"incompatible artifact: it is model {model.name!r}, not {model_name!r}"
        )
    if version is not None and model.version != version:
        raise ArtifactError(
            f"incompatible artifact: it holds version {model.version!r}, not {version!r}"
        )
    if tuple(model.class_names) != CLASS_NAMES:
        raise ArtifactError(f"incompatible artifact: classes {model.class_names}")


def warm_up(model: TextModel) -> None:
    """One prediction on fixed texts; ``ArtifactError`` if it fails or gives nonsense."""
    try:
        proba = model.predict_proba(list(WARM_UP_TEXTS))
    except Exception as exc:
        raise ArtifactError(f"the warm-up prediction failed: {exc}") from exc
    ok = (
        proba.shape == (len(WARM_UP_TEXTS), 2)
        and bool(np.isfinite(proba).all())
        and bool(np.allclose(proba.sum(axis=1), 1.0))
    )
    if not ok:
        raise ArtifactError("the warm-up prediction gave invalid probabilities")

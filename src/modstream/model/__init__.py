"""The moderation model: presets, training, thresholds, evaluation, artifacts.

Names are imported on first use, so a process that only loads and serves a model never
imports the training stack (datasets, pandas, cross-validation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modstream._lazy import lazy_attributes

if TYPE_CHECKING:
    from modstream.model.artifact import load_model, save_model
    from modstream.model.manifest import read_manifest
    from modstream.model.presets import PRESETS, build_pipeline
    from modstream.model.textmodel import CLASS_NAMES, Contribution, TextModel
    from modstream.model.train import TrainResult, train, train_model

_HOMES = {
    "CLASS_NAMES": "textmodel",
    "PRESETS": "presets",
    "Contribution": "textmodel",
    "TextModel": "textmodel",
    "TrainResult": "train",
    "build_pipeline": "presets",
    "load_model": "artifact",
    "read_manifest": "manifest",
    "save_model": "artifact",
    "train": "train",
    "train_model": "train",
}
__all__ = [
    "CLASS_NAMES",
    "PRESETS",
    "Contribution",
    "TextModel",
    "TrainResult",
    "build_pipeline",
    "load_model",
    "read_manifest",
    "save_model",
    "train",
    "train_model",
]


# One caveat of lazy names: once the module ``modstream.model.train`` has been imported on
# its own, the package attribute ``train`` is that module, not the function; code inside
# the package imports the function from ``modstream.model.train``.
__getattr__ = lazy_attributes(__name__, _HOMES)

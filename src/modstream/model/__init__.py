"""The moderation model: presets, training, thresholds, evaluation, artifacts."""

from __future__ import annotations

from modstream.model.artifact import load_model, read_manifest, save_model
from modstream.model.presets import PRESETS, build_pipeline
from modstream.model.textmodel import CLASS_NAMES, Contribution, TextModel
from modstream.model.train import TrainResult, train, train_model

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

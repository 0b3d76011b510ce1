"""modstream: real-time text classification on Kafka, REST and gRPC.

The names below are the package's public Python API; they are imported on first use, so
``import modstream`` stays cheap (no scikit-learn, spaCy or Kafka client until needed)::

    import modstream

    data = modstream.read_dataset("comments.csv")        # text and label columns
    result = modstream.train(data)                        # cross-validated, threshold chosen
    modstream.save_model(result.model, "model/")
    model = modstream.load_model("model/")
    plane = modstream.DataPlane(model)
    scores = plane.score(["This is an input"])   # scores.probabilities: [[P(t:0), P(t:1)]]

Everything not listed in a package's ``__all__`` is internal and may change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modstream._lazy import lazy_attributes

if TYPE_CHECKING:
    from modstream.dataplane import DataPlane
    from modstream.datasets import Dataset, read_dataset
    from modstream.errors import (
        ArtifactError,
        InvalidInput,
        ModelError,
        ModstreamError,
        NotReady,
        PayloadTooLarge,
    )
    from modstream.facts import CLASS_NAMES, ModelFacts, Scores
    from modstream.model import TextModel, TrainResult, load_model, save_model, train
    from modstream.settings import ServeSettings, StreamSettings

__version__ = "0.1.0"

_HOMES = {
    "ArtifactError": "errors",
    "CLASS_NAMES": "facts",
    "DataPlane": "dataplane",
    "Dataset": "datasets",
    "InvalidInput": "errors",
    "ModelError": "errors",
    "ModelFacts": "facts",
    "ModstreamError": "errors",
    "NotReady": "errors",
    "PayloadTooLarge": "errors",
    "Scores": "facts",
    "ServeSettings": "settings",
    "StreamSettings": "settings",
    "TextModel": "model",
    "TrainResult": "model",
    "load_model": "model",
    "read_dataset": "datasets",
    "save_model": "model",
    "train": "model",
}
__all__ = [
    "CLASS_NAMES",
    "ArtifactError",
    "DataPlane",
    "Dataset",
    "InvalidInput",
    "ModelError",
    "ModelFacts",
    "ModstreamError",
    "NotReady",
    "PayloadTooLarge",
    "Scores",
    "ServeSettings",
    "StreamSettings",
    "TextModel",
    "TrainResult",
    "__version__",
    "load_model",
    "read_dataset",
    "save_model",
    "train",
]
__getattr__ = lazy_attributes(__name__, _HOMES)


def __dir__() -> list[str]:
    return list(__all__)

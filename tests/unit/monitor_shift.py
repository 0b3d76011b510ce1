"""Comments that are not like the training data, for drift tests and the drift benchmark."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from modstream.dataplane import DataPlane
from modstream.datasets import Dataset, read_dataset
from modstream.demo.corpus import demo_rows
from modstream.model import TextModel
from modstream.model.reference import TextProfile
from modstream.model.train import train

KINDS = ("german", "spam", "demo")

_GERMAN = (
    "Das ist eine interessante Studie, aber die Stichprobe ist viel zu klein.",
    "Ich glaube nicht, dass die Ergebnisse wirklich übertragbar sind.",
    "Wo kann man den vollständigen Artikel lesen?",
    "Die Forscher haben das sehr gründlich untersucht.",
    "Warum wird das erst jetzt veröffentlicht?",
    "Meiner Meinung nach fehlt hier eine Kontrollgruppe.",
    "Ohne Quellenangabe glaube ich gar nichts davon.",
    "Endlich mal eine Untersuchung mit echten Messdaten.",
)


def off_distribution(kind: str, n: int, seed: int = 1) -> list[str]:
    """``n`` comments of another language, spam-like repeats or the demo corpus."""
    rng = random.Random(seed)
    if kind == "german":
        return [" ".join(rng.sample(_GERMAN, rng.randint(1, 3))) for _ in range(n)]
    if kind == "spam":
        return [
            f"BUY CHEAP FOLLOWERS NOW!!! visit www.cheap-followers{rng.randint(1, 9)}.example "
            f"best price {rng.choice(['today', 'guaranteed', 'limited offer'])}"
            for _ in range(n)
        ]
    return [text for text, _ in demo_rows(n, seed=seed)]


def split_dev(path: Path, share: float = 0.6, seed: int = 0) -> tuple[Dataset, list[str]]:
    """A training part of the dev sample and the held-out comments (unseen by the model)."""
    data = read_dataset(str(path))
    order = np.random.default_rng(seed).permutation(len(data.texts))
    cut = int(share * len(order))
    train_rows, held_out = order[:cut], order[cut:]
    part = Dataset(
        [data.texts[i] for i in train_rows], data.labels[train_rows], f"{data.sha256}:{seed}"
    )
    return part, [data.texts[i] for i in held_out]


def train_on(part: Dataset) -> TextModel:
    return train(part, "default", n_jobs=1).model


def drift_inputs(model: TextModel, texts: list[str]) -> np.ndarray:
    """``(n, 3)`` score, length and out-of-vocabulary share, as the worker sends them."""
    profile = TextProfile.of(model.training)
    assert profile is not None
    chars, oov = profile.measure(texts)
    p = DataPlane(model).score(texts).p_removed
    return np.column_stack(
        [p, [float(c) for c in chars.split(",")], [float(o) for o in oov.split(",")]]
    )


def reference_of(model: TextModel) -> dict:
    """The monitor's view of ``model``'s reference (as ``--model`` loads it)."""
    reference = dict(model.training["reference"])
    reference.pop("vocabulary")
    return {"threshold": model.threshold, **reference}

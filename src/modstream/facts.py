"""What every part agrees on about a model and its answers; a leaf module (stdlib + numpy).

Serving and streaming processes import this instead of the model package, so they do not
pay for the training stack. ``Scores`` carries the model that produced its numbers: once
models can be swapped or a canary answers some calls, that is the only honest source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only named in annotations: the command line starts without numpy
    import numpy as np

__all__ = ["CLASS_NAMES", "NGRAM_PRESETS", "PRESETS", "ModelFacts", "Scores"]

CLASS_NAMES = ("t:0", "t:1")  # [P(kept), P(removed)], the reference wire names
# What a model can be trained as; model.presets builds them.
PRESETS = ("default", "article", "minilm")
# Presets whose columns are all tf-idf (non-negative, as naive Bayes and chi² need): what
# `modstream compare` runs. minilm adds signed sentence vectors and a transformer pass.
NGRAM_PRESETS = ("default", "article")


@dataclass(frozen=True)
class ModelFacts:
    """Who a model is: name, version, preset and its decision threshold on P(removed)."""

    name: str
    version: str
    preset: str
    threshold: float

    def tags(self) -> dict[str, str]:
        """The model's tags as responses carry them (Seldon ``meta.tags``)."""
        return {"model_name": self.name, "model_version": self.version, "preset": self.preset}


@dataclass(frozen=True)
class Scores:
    """Probabilities of one model call and what a response must say about them.

    ``probabilities`` is ``(n, 2)`` float64, ``[P(kept), P(removed)]`` per text in input
    order; ``model`` is the model that produced them; ``text_limit`` is the length texts
    were cut at and ``truncated`` the ``(index, original length)`` of each text that was.
    """

    probabilities: np.ndarray
    model: ModelFacts
    text_limit: int
    truncated: tuple[tuple[int, int], ...] = ()

    def __len__(self) -> int:
        return len(self.probabilities)

    @property
    def p_removed(self) -> np.ndarray:
        """P(removed) per text."""
        return self.probabilities[:, 1]

    def slice(self, start: int, stop: int) -> Scores:
        """The scores of texts ``start:stop``, re-indexed from 0 (one request of a batch)."""
        cut = tuple((i - start, n) for i, n in self.truncated if start <= i < stop)
        return Scores(self.probabilities[start:stop], self.model, self.text_limit, cut)

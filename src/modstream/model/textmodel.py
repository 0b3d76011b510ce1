"""A fitted moderation model: probabilities, explanations and per-stage traces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.pipeline import Pipeline

from modstream.facts import CLASS_NAMES, ModelFacts
from modstream.model.explain import Contribution, explain_rows
from modstream.model.features import TextFeatures

__all__ = ["CLASS_NAMES", "Contribution", "TextModel"]


@dataclass
class TextModel:
    """A fitted pipeline (clean → features → linear classifier) and what is known about it."""

    pipeline: Pipeline
    threshold: float
    preset: str
    name: str = "moderation"
    version: str = "0"
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""

    @property
    def class_names(self) -> list[str]:
        return list(CLASS_NAMES)

    @property
    def facts(self) -> ModelFacts:
        """Name, version, preset and threshold, as responses and metrics report them."""
        return ModelFacts(self.name, self.version, self.preset, self.threshold)

    @property
    def features(self) -> TextFeatures:
        return self._steps["features"]  # type: ignore[no-any-return]

    @property
    def classifier(self) -> Any:
        return self._steps["clf"]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, 2)`` float64 array of ``[P(kept), P(removed)]`` per text, in input order.

        Bit for bit ``pipeline.predict_proba``, without scikit-learn's and scipy's input
        checks on every call (they cost more than scoring one comment). The logistic
        regression's binary ``predict_proba`` is ``expit(X @ coef + intercept)`` with the
        matrix product summed in each row's entry order, as scipy sums it (``Rows.dot``).
        """
        if len(texts) == 0:
            return np.empty((0, 2), dtype=np.float64)
        features = self.features
        cleaned = self._steps["clean"].transform(list(texts))
        rows = features.transform_rows(features.analyze(cleaned))
        weights = self._coef
        if rows.width != weights.shape[0]:
            raise ValueError(f"{rows.width} features, the classifier expects {weights.shape[0]}")
        removed = rows.dot(weights)
        removed += self.classifier.intercept_[0]
        expit(removed, out=removed)
        return np.stack([1 - removed, removed], axis=1)

    @cached_property
    def _steps(self) -> dict[str, Any]:
        """The pipeline's steps by name, looked up once (``Pipeline.named_steps`` builds a
        new mapping on every access, several times per comment scored)."""
        return dict(self.pipeline.steps)

    @cached_property
    def _coef(self) -> np.ndarray:
        """The binary logistic regression's weight per feature column, as float64."""
        clf = self.classifier
        if len(clf.classes_) != 2 or clf.coef_.shape[0] != 1:
            raise ValueError("the moderation model's classifier must be binary")
        return np.ascontiguousarray(clf.coef_[0], dtype=np.float64)

    def labels(self, p_removed: np.ndarray) -> np.ndarray:
        return (np.asarray(p_removed) >= self.threshold).astype(int)

    @cached_property
    def _feature_names(self) -> np.ndarray:
        return np.asarray(self.features.feature_names(), dtype=object)

    def explain(self, texts: Sequence[str], top: int = 5) -> list[list[Contribution]]:
        """Per text, the ``top`` n-grams or words with the largest push on the score."""
        cleaned = [str(t) for t in self._steps["clean"].transform(list(texts))]
        matrix = self.features.transform(cleaned).tocsr()
        return explain_rows(self.features, self._feature_names, self._coef, cleaned, matrix, top)

    def trace(self, text: str, top: int = 8) -> dict[str, Any]:
        """What each stage makes of ``text``: cleaned text, tokens, strongest features, scores."""
        cleaned = str(self._steps["clean"].transform([text])[0])
        tokens = list(self.features.tokenize([cleaned])[0])
        row = self.features.transform([cleaned]).tocsr()
        order = np.argsort(-row.data)[:top]
        tfidf = [(str(self._feature_names[row.indices[i]]), float(row.data[i])) for i in order]
        proba = np.asarray(self.classifier.predict_proba(row)[0], dtype=np.float64)
        [pushes] = explain_rows(self.features, self._feature_names, self._coef, [cleaned], row, top)
        return {
            "input": text,
            "cleaned": cleaned,
            "tokens": tokens,
            "tfidf": tfidf,
            "contributions": [(c.feature, c.weight, c.kind) for c in pushes],
            "probabilities": {"t:0": float(proba[0]), "t:1": float(proba[1])},
            "threshold": self.threshold,
            "removed": int(proba[1] >= self.threshold),
        }

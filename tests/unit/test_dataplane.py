"""The data plane: batching merges concurrent requests without mixing up their answers."""

from __future__ import annotations

import asyncio
from unittest import mock

import numpy as np
import pytest

from modstream.dataplane import DataPlane
from modstream.errors import ModelError, NotReady
from modstream.model import TextModel

TEXTS = ["great paper, thanks for sharing", "you are all idiots", "source?", "lol"]


def test_infer_matches_the_model(model: TextModel) -> None:
    plane = DataPlane(model)
    np.testing.assert_allclose(plane.infer(TEXTS), model.predict_proba(TEXTS))


def test_concurrent_predicts_are_merged_and_answered_in_order(model: TextModel) -> None:
    plane = DataPlane(model, max_batch=64, max_wait_ms=50)
    calls: list[int] = []
    original = plane.infer

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return original(texts)

    plane.infer = counting  # type: ignore[method-assign]

    async def scenario() -> list[np.ndarray]:
        await plane.start()
        plane.in_flight = len(TEXTS)
        try:
            return await asyncio.gather(*(plane.predict([t]) for t in TEXTS))
        finally:
            await plane.stop()

    results = asyncio.run(scenario())
    expected = model.predict_proba(TEXTS)
    for i, rows in enumerate(results):
        np.testing.assert_allclose(rows, expected[i : i + 1])
    assert len(calls) < len(TEXTS)  # merged into fewer model calls


def test_long_texts_are_truncated_with_a_note(model: TextModel) -> None:
    plane = DataPlane(model, max_text_chars=10)
    assert plane.notes(["short", "x" * 50]) == ["text 1 truncated from 50 to 10 characters"]
    np.testing.assert_allclose(plane.infer(["x" * 50]), model.predict_proba(["x" * 10]))


def test_a_failing_model_is_a_model_error(model: TextModel) -> None:
    plane = DataPlane(model)
    with (
        mock.patch.object(type(model), "predict_proba", side_effect=RuntimeError("boom")),
        pytest.raises(ModelError),
    ):
        plane.infer(["a"])


def test_predict_before_start_is_not_ready(model: TextModel) -> None:
    with pytest.raises(NotReady):
        asyncio.run(DataPlane(model).predict(["a"]))

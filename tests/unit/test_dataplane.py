"""The data plane: batching merges concurrent requests without mixing up their answers."""

from __future__ import annotations

import asyncio
from unittest import mock

import numpy as np
import pytest

from modstream.dataplane import DataPlane
from modstream.errors import ModelError, NotReady
from modstream.facts import Scores
from modstream.model import TextModel

TEXTS = ["great paper, thanks for sharing", "you are all idiots", "source?", "lol"]


def test_score_matches_the_model_and_names_it(model: TextModel) -> None:
    scores = DataPlane(model).score(TEXTS)
    np.testing.assert_allclose(scores.probabilities, model.predict_proba(TEXTS))
    assert scores.model == model.facts
    assert scores.model.tags()["model_version"] == model.version


def _count_model_calls(plane: DataPlane) -> list[int]:
    """The number of texts of each model call ``plane`` makes from now on."""
    calls: list[int] = []
    original = plane.score

    def counting(texts: list[str], model: TextModel | None = None) -> Scores:
        calls.append(len(texts))
        return original(texts, model)

    plane.score = counting  # type: ignore[method-assign]
    return calls


def test_concurrent_batched_calls_are_merged_and_answered_in_order(model: TextModel) -> None:
    plane = DataPlane(model, max_batch_texts=64, max_wait_ms=50)
    calls = _count_model_calls(plane)

    async def scenario() -> list[Scores]:
        await plane.start()
        plane.in_flight = len(TEXTS)
        try:
            return await asyncio.gather(*(plane.score_batched([t]) for t in TEXTS))
        finally:
            await plane.stop()

    results = asyncio.run(scenario())
    expected = model.predict_proba(TEXTS)
    for i, scores in enumerate(results):
        np.testing.assert_allclose(scores.probabilities, expected[i : i + 1])
    assert len(calls) < len(TEXTS)  # merged into fewer model calls


def test_a_request_waits_for_as_many_as_were_served_together_before(model: TextModel) -> None:
    """Two clients answered together send their next requests a few loop turns apart; the
    first waits for the second instead of taking a model call of its own."""
    plane = DataPlane(model, max_batch_texts=64, max_wait_ms=30_000)  # never reached here
    calls = _count_model_calls(plane)

    async def client(text: str, late_by: int) -> Scores:
        for _ in range(late_by):  # still on its way to the server
            await asyncio.sleep(0)
        plane.in_flight += 1  # what a transport does while it serves the request
        try:
            return await plane.score_batched([text])
        finally:
            plane.in_flight -= 1

    async def scenario() -> list[Scores]:
        await plane.start()
        try:
            await asyncio.gather(client(TEXTS[0], 0), client(TEXTS[1], 0))
            return await asyncio.gather(client(TEXTS[2], 0), client(TEXTS[3], 50))
        finally:
            await plane.stop()

    late = asyncio.run(scenario())
    assert calls == [2, 2]
    expected = model.predict_proba(TEXTS[2:])
    assert [s.probabilities.tolist() for s in late] == [[row] for row in expected.tolist()]


def test_long_texts_are_truncated_and_say_which(model: TextModel) -> None:
    scores = DataPlane(model, max_text_chars=10).score(["short", "x" * 50, "y" * 11])
    np.testing.assert_allclose(
        scores.probabilities, model.predict_proba(["short", "x" * 10, "y" * 10])
    )
    assert (scores.text_limit, scores.truncated) == (10, ((1, 50), (2, 11)))
    assert scores.slice(2, 3).truncated == ((0, 11),)
    assert scores.slice(0, 1).truncated == ()


def test_a_failing_model_is_a_model_error(model: TextModel) -> None:
    plane = DataPlane(model)
    with (
        mock.patch.object(type(model), "predict_proba", side_effect=RuntimeError("boom")),
        pytest.raises(ModelError),
    ):
        plane.score(["a"])


def test_batched_before_start_is_not_ready(model: TextModel) -> None:
    with pytest.raises(NotReady):
        asyncio.run(DataPlane(model).score_batched(["a"]))


def test_trace_and_explain_cut_long_texts_like_score(model: TextModel) -> None:
    plane = DataPlane(model, max_text_chars=10)
    assert plane.trace("x" * 50)["input"] == "x" * 10
    assert len(plane.explain(["x" * 50, "fine"], top=3)) == 2


def test_the_batcher_outlives_a_failure_that_is_not_a_model_error(model: TextModel) -> None:
    plane = DataPlane(model)
    real = plane.score
    failures = iter([RuntimeError("a bug")])

    def flaky(texts: list[str], model: TextModel | None = None) -> Scores:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real(texts, model)

    plane.score = flaky  # type: ignore[method-assign]

    async def scenario() -> Scores:
        await plane.start()
        try:
            with pytest.raises(RuntimeError, match="a bug"):
                await plane.score_batched(["first"])
            return await plane.score_batched(["second"])
        finally:
            await plane.stop()

    assert len(asyncio.run(scenario())) == 1


def test_the_loop_keeps_running_while_a_long_batch_is_scored(model: TextModel) -> None:
    """A batch too long to score on the event loop goes to the model thread: meanwhile the
    loop keeps turning (a server answers health checks and reads new requests)."""
    long_texts = [
        f"comment {i}: " + "a fairly long sentence about a study " * 20 for i in range(300)
    ]
    plane = DataPlane(model, max_batch_texts=len(long_texts))

    async def scenario() -> tuple[int, float]:
        await plane.start()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.002)
                ticks += 1

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0)
        started = asyncio.get_running_loop().time()
        try:
            await plane.score_batched(long_texts)
            return ticks, asyncio.get_running_loop().time() - started
        finally:
            ticker.cancel()
            await plane.stop()

    ticks, seconds = asyncio.run(scenario())
    assert seconds > 0.05  # long enough that a blocked loop could not have ticked
    assert ticks >= 3

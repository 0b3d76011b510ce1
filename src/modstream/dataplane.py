"""The data plane: the only path to the model, shared by REST, gRPC, Kafka and the dashboard.

It owns the model, readiness, text truncation, metrics of model calls and adaptive
batching: ``score`` is one synchronous vectorised model call; concurrent ``score_batched``
calls are merged into one such call on a single worker thread, so the event loop keeps
accepting requests while the model works (a merged batch of a few short texts is scored on
the loop itself: handing it to that thread and back would cost more than scoring it). A
batch waits (at most ``max_wait``) for as many requests as were served at once while the
previous batch was scored: clients that send their next request once answered come back
together but reach the batcher spread out (gRPC's hand-off to the event loop takes longer
than REST's). Every result is a ``Scores`` naming the model that produced it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modstream import metrics
from modstream.errors import ModelError, NotFound, NotReady
from modstream.facts import ModelFacts, Scores
from modstream.registry.modelset import ModelSet
from modstream.settings import defaults

if TYPE_CHECKING:
    from modstream.model import Contribution, TextModel

__all__ = ["DataPlane"]

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    texts: list[str]
    future: asyncio.Future[Scores]
    comment_id: str | None = None  # decides champion or canary
    version: str | None = None  # a version asked for by name (V2 versioned routes)


# A merged batch of at most this many characters is scored on the event loop's thread. The
# hand-off to the model thread and back measured about 0.3 ms of CPU per call on 2 cores
# (the two threads run on different cores), against about 0.33 ms to score one comment;
# this many characters take 2-3 ms, as long as the loop may stall, and larger batches
# go to the model thread so the servers keep accepting and answering health checks.
INLINE_CHARS = 4_000


class DataPlane:
    """Scores texts with one model; ``score`` is synchronous, ``score_batched`` merges."""

    def __init__(
        self,
        model: TextModel | ModelSet,
        *,
        max_batch_texts: int = defaults.MAX_BATCH_TEXTS,
        max_wait_ms: float = defaults.MAX_WAIT_MS,
        max_text_chars: int = defaults.MAX_TEXT_CHARS,
    ) -> None:
        self._models = model if isinstance(model, ModelSet) else ModelSet(model)
        self.max_batch_texts = max(1, max_batch_texts)
        self.max_wait = max(0.0, max_wait_ms) / 1000.0
        self.max_text_chars = max_text_chars
        self.ready = False
        self._in_flight = 0
        self._peak_in_flight = 0  # most requests served at once since the last batch left
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._busy = False
        self.swap(self._models)

    @property
    def in_flight(self) -> int:
        """Requests a transport is serving now (transports count them in and out)."""
        return self._in_flight

    @in_flight.setter
    def in_flight(self, count: int) -> None:
        self._in_flight = count
        self._peak_in_flight = max(self._peak_in_flight, count)

    # -- the models: a set swapped whole, between calls (see modstream.registry) ----------
    @property
    def models(self) -> ModelSet:
        """The champion, canary and shadow in use now; read once per batch, never mid-batch."""
        return self._models

    @property
    def model(self) -> TextModel:
        """The champion now."""
        return self._models.champion

    def facts_for(self, version: str | None) -> ModelFacts:
        """The facts of loaded ``version`` (empty or ``None``: the champion); else ``NotFound``."""
        if not version:
            return self.facts
        return _model_for(self._models, None, version).facts

    def swap(self, models: ModelSet) -> None:
        """Score with ``models`` from the next call or merged batch on."""
        self._models = models
        facts = models.champion.facts
        metrics.set_model_info(facts.name, facts.version, facts.preset)

    # -- facts about the model -------------------------------------------------------------
    @property
    def facts(self) -> ModelFacts:
        """The model being served now (ask each time: it may change between calls)."""
        return self.model.facts

    def metadata(self) -> dict[str, Any]:
        model = self.model
        return {
            "name": model.name,
            "version": model.version,
            "preset": model.preset,
            "threshold": model.threshold,
            "created_at": model.created_at,
            "class_names": model.class_names,
            "max_text_chars": self.max_text_chars,
        }

    # -- scoring ---------------------------------------------------------------------------
    def score(self, texts: list[str], model: TextModel | None = None) -> Scores:
        """One vectorised model call (the champion's unless ``model`` is given), texts cut
        at ``max_text_chars``; ``ModelError`` if it fails."""
        model, limit = model or self.model, self.max_text_chars  # one model for the whole call
        truncated = tuple((i, len(text)) for i, text in enumerate(texts) if len(text) > limit)
        if truncated:
            metrics.TRUNCATED.inc(len(truncated))
            texts = [text[:limit] for text in texts]
        started = time.perf_counter()
        try:
            proba = model.predict_proba(texts)
        except Exception as exc:
            metrics.MODEL_ERRORS.inc()
            raise ModelError(f"the model failed on a batch of {len(texts)} texts: {exc}") from exc
        metrics.MODEL_LATENCY.observe(time.perf_counter() - started)
        metrics.MODEL_BATCH_TEXTS.observe(len(texts))
        metrics.TEXTS.inc(len(texts))
        return Scores(proba, model.facts, limit, truncated)

    def explain(
        self, texts: list[str], top: int = 5, model: TextModel | None = None
    ) -> list[list[Contribution]]:
        """Per text, the ``top`` n-grams or words that pushed its removal score most."""
        limit = self.max_text_chars
        try:
            return (model or self.model).explain([text[:limit] for text in texts], top)
        except Exception as exc:
            raise ModelError(f"the model could not explain {len(texts)} texts: {exc}") from exc

    def trace(self, text: str, top: int = 8) -> dict[str, Any]:
        """What each stage of the model makes of ``text`` (cut at ``max_text_chars``)."""
        try:
            return self.model.trace(text[: self.max_text_chars], top)
        except Exception as exc:
            raise ModelError(f"the model could not trace the text: {exc}") from exc

    async def score_batched(
        self, texts: list[str], *, comment_id: str | None = None, version: str | None = None
    ) -> Scores:
        """Score ``texts``, merged with whatever other requests arrive at the same time.

        ``comment_id`` decides whether the champion or the canary answers (see
        ``ModelSet.role_of``); ``version`` asks for one loaded version by name.
        """
        if not self.ready or self._queue is None:
            raise NotReady("the model server is not ready")
        future: asyncio.Future[Scores] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(texts, future, comment_id, version))
        return await future

    def record_feedback(self, protocol: str, reward: float | None, truth_rows: int) -> None:
        """Count a feedback message into the metrics (the model itself does not learn online)."""
        metrics.FEEDBACK.labels(protocol).inc()
        if reward is not None:
            metrics.FEEDBACK_REWARD.inc(reward)
        if truth_rows:
            metrics.FEEDBACK_TRUTH.inc(truth_rows)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the batcher on the running loop; the plane is ready afterwards."""
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modstream-model")
        self._task = asyncio.create_task(self._batch_loop(), name="modstream-batcher")
        self.ready = True

    async def stop(self) -> None:
        """Stop taking requests, finish queued ones, then stop the worker thread."""
        self.ready = False
        if self._queue is not None:
            while not self._queue.empty() or self._busy:
                await asyncio.sleep(0.005)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self._task = self._executor = None

    async def _batch_loop(self) -> None:
        assert self._queue is not None
        while True:
            batch = await self._collect(await self._queue.get())
            self._busy = True
            try:
                await self._run(batch)
            finally:
                self._busy = False

    async def _collect(self, first: _Pending) -> list[_Pending]:
        """Take what is queued; wait up to ``max_wait`` while fewer requests are merged than
        were served at once since the last batch left (the peak includes those served now)."""
        assert self._queue is not None
        batch, size = [first], len(first.texts)
        deadline = time.monotonic() + self.max_wait
        while size < self.max_batch_texts:
            if self._queue.empty():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._peak_in_flight <= len(batch):
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            else:
                item = self._queue.get_nowait()
            batch.append(item)
            size += len(item.texts)
        self._peak_in_flight = self._in_flight  # the next batch counts from here
        return batch

    async def _run(self, batch: list[_Pending]) -> None:
        """Score a merged batch with one model set: one model call per model asked for."""
        models = self._models
        groups: dict[int, tuple[TextModel, list[_Pending]]] = {}
        for item in batch:
            try:
                model = _model_for(models, item.comment_id, item.version)
            except NotFound as exc:
                _settle(item.future, exc)
                continue
            groups.setdefault(id(model), (model, []))[1].append(item)
        for model, items in groups.values():
            await self._run_with(model, items)

    async def _run_with(self, model: TextModel, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        texts = [text for item in batch for text in item.texts]
        try:
            if sum(map(len, texts)) <= INLINE_CHARS:
                scores = self.score(texts, model)
            else:
                scores = await loop.run_in_executor(self._executor, self.score, texts, model)
        except Exception as exc:  # the batcher must outlive any failure, even a bug
            if len(batch) == 1 or not isinstance(exc, ModelError):
                for item in batch:
                    _settle(item.future, exc)
                return
            # one bad request must not fail its neighbours: score each on its own
            log.warning("merged batch of %d requests failed; retrying one by one", len(batch))
            for item in batch:
                await self._run_with(model, [item])
            return
        start = 0
        for item in batch:
            end = start + len(item.texts)
            _settle(item.future, scores.slice(start, end))
            start = end


def _model_for(models: ModelSet, comment_id: str | None, version: str | None) -> TextModel:
    """The model that answers: the ``version`` asked for, else champion or canary."""
    if version is None:
        return models.model(models.role_of(comment_id))
    for model in (models.champion, models.canary, models.shadow):
        if model is not None and model.version == version:
            return model
    raise NotFound(f"version {version!r} is not loaded here ({models.describe()})")


def _settle(future: asyncio.Future[Scores], result: Scores | BaseException) -> None:
    if future.done():  # the client went away
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)

"""Explanations for the dashboard: which words pushed each verdict, in plain terms.

New verdicts are explained in batches through the data plane on one worker thread, so
the event loop stays free. Under a flood only the newest ``MAX_PER_BATCH`` of a batch are
explained; the others are shown without an explanation rather than late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from modstream.dashboard.feeds import Comment
from modstream.dataplane import DataPlane
from modstream.model.explain import Contribution
from modstream.policy import reasons

log = logging.getLogger(__name__)

MAX_PER_BATCH = 32
TOP = 6


def plain_reasons(contributions: list[Contribution], top: int = TOP) -> list[dict[str, Any]]:
    """Merge pushes of the same words (as n-gram and by spelling); strongest first."""
    return reasons.plain_reasons(contributions, top)


class Explainer:
    """Queue of comments to explain; ``publish`` gets each one once it is ready to show."""

    def __init__(self, plane: DataPlane, publish: Callable[[Comment], None]) -> None:
        self.plane = plane
        self.publish = publish
        self._queue: asyncio.Queue[Comment] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dashboard-explain")

    def submit(self, comment: Comment) -> None:
        self._queue.put_nowait(comment)

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._explain(batch)

    async def _explain(self, batch: list[Comment]) -> None:
        chosen = [c for c in batch if c.text and c.error is None][-MAX_PER_BATCH:]
        if chosen:
            loop = asyncio.get_running_loop()
            texts = [str(c.text) for c in chosen]
            try:
                found = await loop.run_in_executor(
                    self._executor, self.plane.explain, texts, TOP * 2
                )
            except Exception as exc:
                log.warning("explanations failed for %d comments: %s", len(chosen), exc)
                found = [[] for _ in chosen]
            for comment, contributions in zip(chosen, found, strict=True):
                comment.why = plain_reasons(contributions)
        for comment in batch:
            if comment.why is None and comment.error is None:
                comment.why = []
            self.publish(comment)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

"""Keeps an instance's ``ModelSet`` in line with what the registry wants, off the hot path.

``want(desired)`` only records the wish and wakes the manager's own thread, which loads
and verifies what is missing (see ``loader``), builds the new set and swaps it in with one
assignment. Scoring code reads ``current`` once per batch, so a swap always falls between
two batches. A version that fails to load or verify is refused: logged, counted, reported
through ``on_refused`` (an event on the models topic) and not retried until a new role
event names it again; its role keeps the model it had, so the instance never stops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from modstream.errors import ModstreamError
from modstream.model import TextModel
from modstream.registry import metrics
from modstream.registry.modelset import ModelSet
from modstream.registry.state import Desired, VersionEntry

log = logging.getLogger(__name__)

Loader = Callable[[VersionEntry], TextModel]
OnRefused = Callable[[VersionEntry, str], None]
OnSwap = Callable[[ModelSet], None]

__all__ = ["ModelManager"]


class ModelManager:
    """The model set one worker or server scores with, following the registry."""

    def __init__(
        self,
        load: Loader,
        *,
        initial: ModelSet | None = None,
        on_refused: OnRefused | None = None,
        on_swap: OnSwap | None = None,
    ) -> None:
        self._load = load
        self._on_refused = on_refused
        self._on_swap = on_swap
        self._current = initial
        self._previous_champion: TextModel | None = None
        self._loaded: dict[tuple[str, str], TextModel] = {}
        self._refused: dict[tuple[str, str], tuple[str, ...]] = {}
        self._reasons: dict[str, tuple[str, float]] = {}  # version -> (why, when refused)
        self._wanted: Desired | None = None
        self._done: Desired | None = None
        self._changed = threading.Condition()
        self._swapping = threading.Lock()  # a swap and its announcement happen together
        self._stopping = False
        self._thread: threading.Thread | None = None
        if initial is not None:
            metrics.observe_set(initial)

    @property
    def current(self) -> ModelSet | None:
        """The set to score the next batch with (``None`` before any model is loaded)."""
        return self._current

    def attach(self, on_swap: OnSwap) -> None:
        """Call ``on_swap`` with the current set now and with every later one, in order."""
        with self._swapping:
            self._on_swap = on_swap
            if self._current is not None:
                on_swap(self._current)

    def refusal(self, version: str, since: float | None = None) -> str | None:
        """Why ``version`` was refused here (at or after monotonic time ``since``), if it was."""
        reason, when = self._reasons.get(version, (None, 0.0))
        return reason if since is None or when >= since else None

    # -- following ------------------------------------------------------------------------
    def want(self, desired: Desired) -> None:
        """Ask for ``desired``; the manager's thread gets there in the background."""
        with self._changed:
            self._wanted = desired
            self._changed.notify_all()

    def start(self) -> ModelManager:
        self._thread = threading.Thread(target=self._run, name="modstream-models", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until the last wish has been acted on (loaded or refused)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._wanted is None or self._wanted is self._done, timeout
            )

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopping or self._wanted is not self._done)
                if self._stopping:
                    return
                wanted = self._wanted
            assert wanted is not None
            self.reconcile(wanted)
            with self._changed:
                self._done = wanted
                self._changed.notify_all()

    # -- loading and swapping -------------------------------------------------------------
    def reconcile(self, desired: Desired) -> ModelSet | None:
        """Load what ``desired`` needs and swap the new set in; returns the set in use.

        A role whose version is refused keeps the model it had (the champion always does).
        """
        now = self._current
        champion = self._resolve(desired.champion, desired) or (now.champion if now else None)
        canary, percent = self._resolve(desired.canary, desired), desired.canary_percent
        if desired.canary is not None and canary is None and now is not None:
            canary, percent = now.canary, now.canary_percent
        shadow = self._resolve(desired.shadow, desired)
        if desired.shadow is not None and shadow is None and now is not None:
            shadow = now.shadow
        if champion is None:
            return now  # nothing to serve with yet: keep what there is
        self._swap(ModelSet(champion, canary, percent if canary is not None else 0.0, shadow))
        return self._current

    def _resolve(self, entry: VersionEntry | None, desired: Desired) -> TextModel | None:
        """The model of ``entry``, cached or freshly loaded; ``None`` when it is refused."""
        if entry is None:
            return None
        key = (entry.version, entry.sha256)
        if key in self._loaded:
            return self._loaded[key]
        if self._refused.get(key) == desired.issued:
            return None
        try:
            model = self._load(entry)
        except ModstreamError as exc:
            self._refuse(entry, key, desired, exc.message)
            return None
        except Exception as exc:  # a bug in loading must not stop the instance either
            log.exception("loading version %s failed unexpectedly", entry.version)
            self._refuse(entry, key, desired, f"{type(exc).__name__}: {exc}")
            return None
        self._loaded[key] = model
        self._reasons.pop(entry.version, None)
        return model

    def _refuse(
        self, entry: VersionEntry, key: tuple[str, str], desired: Desired, reason: str
    ) -> None:
        self._refused[key] = desired.issued
        self._reasons[entry.version] = (reason, time.monotonic())
        log.error("version %s refused, keeping the running models: %s", entry.version, reason)
        metrics.REFUSED.labels(entry.version).inc()
        if self._on_refused is not None:
            try:
                self._on_refused(entry, reason)
            except Exception:
                log.exception("the refusal of version %s could not be reported", entry.version)

    def _swap(self, new: ModelSet) -> None:
        old = self._current
        if new == old:
            return
        with self._swapping:
            self._current = new  # one assignment: the next batch sees the whole new set
            if self._on_swap is not None:
                self._on_swap(new)
        if old is not None and old.champion is not new.champion:
            self._previous_champion = old.champion
        self._forget_unused(new)
        metrics.observe_set(new)
        metrics.SWAPS.inc()
        log.info("now scoring with %s", new.describe())

    def _forget_unused(self, keep: ModelSet) -> None:
        """Drop loaded models no role uses, except the previous champion (fast rollback)."""
        used = [keep.champion, keep.canary, keep.shadow, self._previous_champion]
        ids = {id(model) for model in used if model is not None}
        self._loaded = {key: model for key, model in self._loaded.items() if id(model) in ids}

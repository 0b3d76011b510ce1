"""Answering a micro-batch with a model set: who answers each comment, the shadow beside
it, and the policy's decision.

The set is read once per batch, so a swap falls between two batches. Each comment goes to
the champion or the canary by its id (``ModelSet.role_of``); each role's texts go to the
model in one call (record by record if that call fails, so only the culprit fails). The
shadow, when there is one, scores every decoded record in one more call; its failure is
logged and counted and never touches the real answers.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import Counter

from modstream.facts import Scores
from modstream.policy.rules import Decision, Policy, severest
from modstream.registry import events as ev
from modstream.registry.modelset import ModelSet
from modstream.stream.codec import Decoded
from modstream.stream.scoring import Outcome, score_records

if TYPE_CHECKING:
    from modstream.model import TextModel

log = logging.getLogger(__name__)

SHADOW_FAILURES = Counter(
    "modstream_shadow_failures", "Batches the shadow model could not score (answers unaffected)"
)
DECISIONS = Counter(
    "modstream_decisions", "Comments decided, by role and decision", ["role", "decision"]
)

__all__ = ["Answer", "ModelScorer", "answer_batch"]


class ModelScorer(Protocol):
    """What answering needs from the data plane: its model set and per-model scoring."""

    @property
    def models(self) -> ModelSet: ...

    def score(self, texts: list[str], model: TextModel | None = None) -> Scores: ...


@dataclass(frozen=True)
class Answer:
    """One record's answer: its scores, the role that gave them, the decision per text."""

    scores: Scores
    role: str
    decisions: tuple[Decision, ...]
    community: str | None = None
    shadow: Answer | None = None
    model: TextModel | None = field(default=None, compare=False, repr=False)  # for explaining

    @functools.cached_property
    def decision(self) -> str:
        """The record's decision: the strongest over its texts (remove > review > keep)."""
        return severest([d.decision for d in self.decisions])

    @property
    def remove_at(self) -> float:
        """The removal threshold the answer was given with."""
        return self.decisions[0].remove_at if self.decisions else self.scores.model.threshold

    def tags(self) -> dict[str, str]:
        """What the response's ``meta.tags`` (V2 ``parameters``) gain."""
        tags = {"model_role": self.role, "decision": self.decision}
        if len(self.decisions) > 1:
            tags["decisions"] = ",".join(d.decision for d in self.decisions)
        if self.community:
            tags["community"] = self.community
        return tags


class _Bound:
    """A scorer fixed to one model, for ``score_records``."""

    def __init__(self, plane: ModelScorer, model: TextModel) -> None:
        self.plane, self.model = plane, model

    def score(self, texts: list[str]) -> Scores:
        return self.plane.score(texts, self.model)


def answer_batch(
    plane: ModelScorer,
    outcomes: Sequence[Outcome],
    ids: Sequence[str | None],
    communities: Sequence[str | None],
    policy: Policy,
) -> list[Answer | BaseException]:
    """Each record's ``Answer``, or why it has none (its decoding or scoring error)."""
    models = plane.models  # one set for the whole batch
    roles = models.route(ids)
    answers: list[Answer | BaseException] = list(outcomes)  # type: ignore[arg-type]
    for role in dict.fromkeys(roles):
        chosen = [i for i, r in enumerate(roles) if r == role]
        model = models.model(role)
        scored = score_records(_Bound(plane, model), [outcomes[i] for i in chosen])
        for i, result in zip(chosen, scored, strict=True):
            answers[i] = _decide(result, role, communities[i], policy, model)
    if models.shadow is not None:
        _add_shadow(plane, models.shadow, outcomes, answers, communities, policy)
    return answers


def _decide(
    result: Scores | BaseException,
    role: str,
    community: str | None,
    policy: Policy,
    model: TextModel,
) -> Answer | BaseException:
    if isinstance(result, BaseException):
        return result
    threshold = result.model.threshold
    decisions = policy.decide_each(result.p_removed.tolist(), threshold, community)
    for decision in decisions:
        _decided(role, decision.decision).inc()
    return Answer(result, role, decisions, community, model=model)


@functools.lru_cache(maxsize=16)
def _decided(role: str, decision: str) -> Any:
    """The counter child of ``role`` and ``decision`` (looked up once, not per comment)."""
    return DECISIONS.labels(role, decision)


def _add_shadow(
    plane: ModelScorer,
    shadow: TextModel,
    outcomes: Sequence[Outcome],
    answers: list[Answer | BaseException],
    communities: Sequence[str | None],
    policy: Policy,
) -> None:
    """Score every answered record with the shadow in one call and attach its answer."""
    answered = [i for i, a in enumerate(answers) if isinstance(a, Answer)]
    texts = [t for i in answered for t in _texts(outcomes[i])]
    if not texts:
        return
    try:
        scores = plane.score(texts, shadow)
    except Exception as exc:
        SHADOW_FAILURES.inc()
        log.warning("the shadow %s failed on a batch (answers unaffected): %s", shadow.version, exc)
        return
    start = 0
    for i in answered:
        answer = answers[i]
        assert isinstance(answer, Answer)
        end = start + len(_texts(outcomes[i]))
        mirrored = _decide(scores.slice(start, end), ev.SHADOW, communities[i], policy, shadow)
        answers[i] = _with_shadow(answer, mirrored)
        start = end


def _texts(outcome: Outcome) -> list[str]:
    assert isinstance(outcome, Decoded)
    return outcome.texts


def _with_shadow(answer: Answer, shadow: Answer | BaseException) -> Answer:
    assert isinstance(shadow, Answer)
    return replace(answer, shadow=shadow)

"""Scoring a micro-batch: one model call for all its texts, record by record on failure."""

from __future__ import annotations

import itertools
import logging
from typing import Protocol

from modstream.facts import Scores
from modstream.stream.codec import Decoded

log = logging.getLogger(__name__)

Outcome = Decoded | BaseException


class Scorer(Protocol):
    """What the worker scores texts with (the ``DataPlane`` is one).

    ``score`` makes one vectorised model call; the returned ``Scores`` name the model that
    produced them, so a scorer may swap models between calls.
    """

    def score(self, texts: list[str]) -> Scores: ...


def score_records(scorer: Scorer, outcomes: list[Outcome]) -> list[Scores | BaseException]:
    """The scores of each decoded record, or why it has none (its decoding or scoring error).

    All texts of the batch go to the model in one call. If that call fails, each record is
    scored alone, so only the records the model fails on go to the dead-letter topic.
    """
    decoded = [o for o in outcomes if isinstance(o, Decoded)]
    texts = [t for o in decoded for t in o.texts]
    if not texts:  # every record failed to decode
        return [_score_alone(scorer, o) for o in outcomes]
    try:
        scores = scorer.score(texts)
    except Exception as exc:
        log.warning("batch scoring failed (%s); scoring record by record", exc)
        return [_score_alone(scorer, o) for o in outcomes]
    bounds = itertools.accumulate((len(o.texts) for o in decoded), initial=0)
    parts = iter(scores.slice(a, b) for a, b in itertools.pairwise(bounds))
    return [next(parts) if isinstance(o, Decoded) else o for o in outcomes]


def _score_alone(scorer: Scorer, outcome: Outcome) -> Scores | BaseException:
    if not isinstance(outcome, Decoded):
        return outcome
    try:
        return scorer.score(outcome.texts)
    except Exception as exc:
        return exc

"""What a worker writes besides the answer: the shadow's answer and the review queue.

``Answering`` is the worker's view of model roles and policy: it answers a batch
(``answer_batch`` with each record's comment id and community) and, per answered record,
lists the extra records to produce in the same batch (so they share its commit or
transaction):

- the shadow's answer to the **shadow topic** (default ``<output-topic>.shadow``): same
  key, same response id, the shadow's version in its headers and ``meta.tags``, role
  ``shadow``. Never on the output topic.
- each text in the review band to the **review topic** (default
  ``<output-topic>.review``): a JSON document with the comment, its score, the thresholds,
  the model and the n-grams that pushed its score (the top ``review_top``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modstream.errors import ModelError
from modstream.policy.reasons import plain_reasons
from modstream.policy.rules import REVIEW
from modstream.protocol import response_id, seldon, v2
from modstream.registry.answers import Answer, ModelScorer, answer_batch
from modstream.registry.events import now
from modstream.stream import headers as h
from modstream.stream.codec import Decoded, record_id
from modstream.stream.scoring import Outcome

log = logging.getLogger(__name__)

MoreHeaders = Callable[[Decoded, Answer], h.Headers]

__all__ = ["Answering", "OutRecord", "answer_headers", "comment_id", "request_id_of"]


@dataclass(frozen=True)
class OutRecord:
    """One record to produce: where, with which value and headers (the key is the input's)."""

    topic: str
    value: bytes
    headers: h.Headers


def comment_id(decoded: Decoded | None, key: bytes | None) -> str | None:
    """A comment's id: the request's own (Seldon ``meta.puid``, V2 ``id``), else the key."""
    request = decoded.request if decoded is not None else None
    own = request.puid if isinstance(request, seldon.SeldonRequest) else None
    if isinstance(request, v2.V2Request):
        own = request.id
    return own or record_id(key)


def community_of(message: Any, decoded: Decoded | None) -> str | None:
    """The ``modstream.community`` input header, else the V2 request's ``parameters``."""
    for name, value in message.headers() or []:
        if name == h.COMMUNITY and value:
            return bytes(value).decode("utf-8", "replace")
    request = decoded.request if decoded is not None else None
    if isinstance(request, v2.V2Request):
        community = request.parameters.get("community")
        return str(community) if community else None
    return None


def answer_headers(answer: Answer) -> h.Headers:
    """The headers an answer adds: its model, the removal threshold its decision used (the
    policy's, else the model's), its role and the decision."""
    facts = answer.scores.model
    return [
        (h.MODEL_NAME, facts.name.encode()),
        (h.MODEL_VERSION, facts.version.encode()),
        (h.MODEL_THRESHOLD, repr(float(answer.remove_at)).encode()),
        (h.MODEL_ROLE, answer.role.encode()),
        (h.DECISION, answer.decision.encode()),
    ]


class Answering:
    """A worker's model roles and policy: answers a batch, lists its shadow and review records."""

    def __init__(
        self, policy: Any, shadow_topic: str, review_topic: str | None, review_top: int = 5
    ) -> None:
        self.policy = policy  # .current: the Policy now (a file or topic follower swaps it)
        self.shadow_topic = shadow_topic
        self.review_topic = review_topic
        self.review_top = review_top

    def answer(
        self, plane: ModelScorer, messages: list[Any], outcomes: list[Outcome]
    ) -> list[Answer | BaseException]:
        """Each record's ``Answer`` (or why it has none), under one model set and policy."""
        decoded = [o if isinstance(o, Decoded) else None for o in outcomes]
        ids = [comment_id(d, h.raw(m.key())) for m, d in zip(messages, decoded, strict=True)]
        communities = [community_of(m, d) for m, d in zip(messages, decoded, strict=True)]
        return answer_batch(plane, outcomes, ids, communities, self.policy.current)

    def records(
        self,
        plane: Any,
        message: Any,
        decoded: Decoded,
        answer: Answer,
        more_headers: MoreHeaders | None = None,
    ) -> tuple[OutRecord, list[OutRecord]]:
        """The answer (``topic`` left empty: the output topic) and its extra records: the
        shadow's answer and the review-band texts. Both answers carry the same id: the
        request's own, else the record key, else a new one; ``more_headers`` adds to both."""
        request_id = request_id_of(decoded, h.raw(message.key()))
        source = h.source_headers(message)
        main = _answer_record("", source, decoded, answer, request_id, more_headers)
        extras = []
        if answer.shadow is not None:
            shadow = answer.shadow
            extras.append(
                _answer_record(self.shadow_topic, source, decoded, shadow, request_id, more_headers)
            )
        if self.review_topic is not None and any(d.decision == REVIEW for d in answer.decisions):
            value = self._review(plane, message, decoded, answer, request_id)
            extras.append(OutRecord(self.review_topic, value, source + answer_headers(answer)))
        return main, extras

    def _review(
        self, plane: Any, message: Any, decoded: Decoded, answer: Answer, request_id: str
    ) -> bytes:
        """One JSON document listing the record's review-band texts and why they scored so."""
        indices = [i for i, d in enumerate(answer.decisions) if d.decision == REVIEW]
        texts = [decoded.texts[i] for i in indices]
        try:
            explained = plane.explain(texts, self.review_top, answer.model)  # the model that scored
        except ModelError as exc:  # the comment still goes to review, without reasons
            log.warning("review reasons for %s not computed: %s", request_id, exc.message)
            explained = [[] for _ in texts]
        facts = answer.scores.model
        listed = [
            {
                "index": i,
                "text": decoded.texts[i],
                "p_removed": float(answer.scores.p_removed[i]),
                "reasons": plain_reasons(reasons, self.review_top),
            }
            for i, reasons in zip(indices, explained, strict=True)
        ]
        document = {
            "id": request_id,
            "community": answer.community,
            "decision": REVIEW,
            "thresholds": {"review": answer.decisions[0].review_at, "remove": answer.remove_at},
            "model": {"name": facts.name, "version": facts.version, "role": answer.role},
            "texts": listed,
            "source": {"topic": message.topic(), "partition": message.partition(),
                       "offset": message.offset()},
            "at": now(),
        }  # fmt: skip
        return json.dumps(document, ensure_ascii=False).encode()


def _answer_record(
    topic: str,
    source: h.Headers,
    decoded: Decoded,
    answer: Answer,
    request_id: str,
    more_headers: MoreHeaders | None,
) -> OutRecord:
    value = decoded.encode(answer.scores, request_id=request_id, extra_tags=answer.tags())
    headers = source + answer_headers(answer)
    headers += more_headers(decoded, answer) if more_headers is not None else []
    return OutRecord(topic, value, headers)


def request_id_of(decoded: Decoded, key: bytes | None) -> str:
    """The id the answer (and its shadow) carries: own id, else the key, else a new one."""
    return response_id(comment_id(decoded, None), record_id(key))

"""Answering a batch: one model set per batch, canary by comment id, the shadow beside,
decisions by policy and community, and the shadow and review records a worker writes."""

from __future__ import annotations

import json

import pytest
from confluent_kafka import Message

from modstream.dataplane import DataPlane
from modstream.demo import demo_dataset
from modstream.facts import Scores
from modstream.model import TextModel, load_model, save_model, train_model
from modstream.policy import Policy, StaticPolicy, Thresholds
from modstream.registry.answers import Answer
from modstream.registry.modelset import ModelSet, canary_point
from modstream.registry.outputs import Answering, answer_headers
from modstream.stream import headers as h
from modstream.stream.codec import decode_value

TEXTS = ["the sample size seems small", "lol source: trust me bro", "see the paper", "ok"]


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> TextModel:
    model = train_model(demo_dataset(300), "default", n_jobs=1)
    return load_model(save_model(model, tmp_path_factory.mktemp("other") / "m"))


def record(i: int, text: str, community: str | None = None) -> Message:
    value = json.dumps({"data": {"ndarray": [text]}}).encode()
    headers = [(h.COMMUNITY, community.encode())] if community else None
    return Message(topic="in", partition=0, offset=i, key=f"c-{i}".encode(), value=value,
                   headers=headers)  # fmt: skip


def answer(
    plane: DataPlane, messages: list[Message], policy: Policy | None = None
) -> list[Answer | BaseException]:
    outcomes = [decode_value(m.value(), 1 << 20) for m in messages]
    answering = Answering(StaticPolicy(policy), "out.shadow", "out.review", review_top=3)
    return answering.answer(plane, messages, outcomes)


def versions(answers: list[Answer | BaseException]) -> list[str]:
    return [a.scores.model.version for a in answers if isinstance(a, Answer)]


def test_without_roles_or_policy_the_champion_answers_with_its_threshold(model: TextModel) -> None:
    answers = answer(DataPlane(model), [record(i, t) for i, t in enumerate(TEXTS)])
    for a in answers:
        assert isinstance(a, Answer) and a.role == "champion" and a.shadow is None
        p = float(a.scores.p_removed[0])
        assert a.decision == ("remove" if p >= model.threshold else "keep")
        headers = h.as_dict(answer_headers(a))
        assert headers[h.MODEL_ROLE] == "champion" and headers[h.DECISION] == a.decision
        assert float(headers[h.MODEL_THRESHOLD]) == model.threshold
        assert a.tags() == {"model_role": "champion", "decision": a.decision}


def test_canary_answers_the_comments_its_share_of_ids_hashes_to(
    model: TextModel, other: TextModel
) -> None:
    plane = DataPlane(ModelSet(model, canary=other, canary_percent=50.0))
    messages = [record(i, "some comment") for i in range(40)]
    expected = [other.version if canary_point(f"c-{i}") < 50 else model.version for i in range(40)]
    assert versions(answer(plane, messages)) == expected
    assert {a.role for a in answer(plane, messages) if isinstance(a, Answer)} == {
        "champion", "canary",
    }  # fmt: skip


class SwappingPlane(DataPlane):
    """A data plane whose set is swapped by another thread in the middle of a batch."""

    def __init__(self, first: TextModel, then: ModelSet) -> None:
        super().__init__(first)
        self.then = then

    def score(self, texts: list[str], model: TextModel | None = None) -> Scores:
        scores = super().score(texts, model)
        self.swap(self.then)  # the registry switches while the batch is being scored
        return scores


def test_a_swap_during_a_batch_applies_from_the_next_batch(
    model: TextModel, other: TextModel
) -> None:
    plane = SwappingPlane(model, ModelSet(other, canary=model, canary_percent=50.0))
    messages = [record(i, t) for i, t in enumerate(TEXTS * 5)]
    assert set(versions(answer(plane, messages))) == {model.version}
    assert set(versions(answer(plane, [record(99, "next")]))) <= {other.version, model.version}
    assert plane.models.champion is other


def test_the_shadow_scores_the_same_records_and_its_failure_changes_nothing(
    model: TextModel, other: TextModel
) -> None:
    messages = [record(i, t) for i, t in enumerate(TEXTS)]
    answers = answer(DataPlane(ModelSet(model, shadow=other)), messages)
    for a, text in zip(answers, TEXTS, strict=True):
        assert isinstance(a, Answer) and a.shadow is not None
        assert a.scores.model.version == model.version and a.role == "champion"
        assert a.shadow.scores.model.version == other.version and a.shadow.role == "shadow"
        assert a.shadow.scores.p_removed[0] == pytest.approx(other.predict_proba([text])[0, 1])

    class BrokenShadow(DataPlane):
        def score(self, texts: list[str], model: TextModel | None = None) -> Scores:
            if model is other:
                raise RuntimeError("shadow down")
            return super().score(texts, model)

    answers = answer(BrokenShadow(ModelSet(model, shadow=other)), messages)
    assert all(isinstance(a, Answer) and a.shadow is None for a in answers)


def test_policy_decides_per_community(model: TextModel) -> None:
    plane = DataPlane(model)
    p = float(plane.score(["lol source: trust me bro"]).p_removed[0])
    policy = Policy({"*": Thresholds(remove=p + 0.01, review=p - 0.01),
                     "strict": Thresholds(remove=p - 0.01)})  # fmt: skip
    loose, strict = answer(
        plane, [record(1, "lol source: trust me bro"), record(2, "lol source: trust me bro", "strict")],
        policy,
    )  # fmt: skip
    assert isinstance(loose, Answer) and isinstance(strict, Answer)
    assert (loose.decision, loose.community) == ("review", None)
    assert (strict.decision, strict.tags()["community"]) == ("remove", "strict")


def test_extras_are_the_shadow_answer_and_the_review_document(
    model: TextModel, other: TextModel
) -> None:
    plane = DataPlane(ModelSet(model, shadow=other))
    message = record(7, "lol source: trust me bro", "science")
    p = float(plane.score(["lol source: trust me bro"]).p_removed[0])
    policy = Policy({"*": Thresholds(remove=1.0, review=min(p, 0.0))})
    [a] = answer(plane, [message], policy)
    assert isinstance(a, Answer) and a.decision == "review"
    decoded = decode_value(message.value(), 1 << 20)
    answering = Answering(StaticPolicy(policy), "out.shadow", "out.review", review_top=3)
    main, (shadow, review) = answering.records(plane, message, decoded, a)
    assert json.loads(main.value)["meta"]["tags"]["model_role"] == "champion"
    assert shadow.topic == "out.shadow"
    body = json.loads(shadow.value)
    assert body["meta"]["puid"] == "c-7" and body["meta"]["tags"]["model_role"] == "shadow"
    assert h.as_dict(shadow.headers)[h.MODEL_VERSION] == other.version
    document = json.loads(review.value)
    assert review.topic == "out.review" and document["id"] == "c-7"
    assert document["community"] == "science" and document["model"]["version"] == model.version
    [text] = document["texts"]
    assert text["text"] == "lol source: trust me bro" and 0 < len(text["reasons"]) <= 3
    assert {r["towards"] for r in text["reasons"]} <= {"removal", "keeping"}
    assert h.as_dict(review.headers)[h.DECISION] == "review"


def test_review_topic_gets_nothing_outside_the_band(model: TextModel) -> None:
    plane = DataPlane(model)
    message = record(1, "the sample size seems small")
    [a] = answer(plane, [message])
    assert isinstance(a, Answer)
    answering = Answering(StaticPolicy(), "out.shadow", "out.review")
    _main, extras = answering.records(plane, message, decode_value(message.value(), 1 << 20), a)
    assert extras == []

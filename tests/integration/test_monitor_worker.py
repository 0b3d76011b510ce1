"""What the worker adds for the monitor: the shipped threshold and each text's drift inputs
(length, out-of-vocabulary share) in the answer's headers, measured as training measured them."""

from __future__ import annotations

import dataclasses
import json

import pytest

from modstream.broker import EmbeddedBroker
from modstream.dataplane import DataPlane
from modstream.model import TextModel
from modstream.model.reference import TextProfile
from tests.integration.stream_fixtures import Topics, header_map, produce, read, running_worker

pytestmark = pytest.mark.integration

TEXTS = [
    "the sample size seems small for this claim",
    "🤡🤡🤡 !!! 123",
    "Das ist eine sehr gute Studie",
]


def _answer(broker: EmbeddedBroker, model: TextModel) -> dict[str, str]:
    topics = Topics(broker, partitions=1).create()
    with running_worker(topics.settings(), DataPlane(model)):
        produce(
            broker, topics.input, [json.dumps({"data": {"ndarray": TEXTS}}).encode()], key=b"k1"
        )
        [answer] = read(broker, topics.output, 1)
    return header_map(answer)


def test_answers_carry_the_threshold_and_each_texts_drift_inputs(
    broker: EmbeddedBroker, model: TextModel
) -> None:
    headers = _answer(broker, model)
    assert float(headers["modstream.model.threshold"]) == model.threshold
    assert headers["modstream.model.version"] == model.version
    chars = [int(c) for c in headers["modstream.text.chars"].split(",")]
    oov = [float(o) for o in headers["modstream.text.oov"].split(",")]
    assert chars == [len(t) for t in TEXTS]
    profile = TextProfile.of(model.training)
    assert profile is not None
    assert headers["modstream.text.oov"] == profile.measure(TEXTS)[1]
    assert oov[1] == 1.0  # no word at all
    assert oov[2] > oov[0]  # German against an English vocabulary


def test_a_model_without_a_reference_answers_without_drift_inputs(
    broker: EmbeddedBroker, model: TextModel
) -> None:
    training = {k: v for k, v in model.training.items() if k != "reference"}
    headers = _answer(broker, dataclasses.replace(model, training=training))
    assert "modstream.text.oov" not in headers and "modstream.text.chars" not in headers
    assert float(headers["modstream.model.threshold"]) == model.threshold

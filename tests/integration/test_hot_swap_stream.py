"""``modstream stream --registry --workers 2`` while comments flow: promote and roll back
switch every worker between batches with nothing lost, a broken champion is refused by
every worker and the stream goes on, the shadow answers to its own topic."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from modstream.broker import EmbeddedBroker
from modstream.stream import headers as h
from tests.integration.registry_fixtures import Cli, Version, truncated, with_champion
from tests.integration.rollout_fixtures import (
    MAX_BATCH,
    Feeder,
    Reader,
    reading,
    runs,
    start_workers,
    versions_by_partition,
)
from tests.integration.stream_fixtures import Topics, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PARTITIONS = 4


@pytest.fixture
def versions(two_versions: tuple[Version, Version]) -> tuple[Version, Version]:
    return two_versions


@pytest.fixture
def models(
    broker: EmbeddedBroker,
    capsys: pytest.CaptureFixture[str],
    versions: tuple[Version, Version],
    tmp_path: Path,
) -> Cli:
    """A registry with the first version as champion and the second published (stored)."""
    return with_champion(broker, capsys, versions, "--store", str(tmp_path / "store"))


@pytest.fixture
def topics(broker: EmbeddedBroker) -> Topics:
    return Topics(broker, partitions=PARTITIONS).create()


def promote_then_roll_back(models: Cli, reader: Reader, one: str, two: str) -> None:
    """Promote ``two``, then roll back to ``one``, each once every partition shows the last."""

    def every_partition_ends_with(*sequence: str) -> bool:
        by_partition = versions_by_partition(reader.answers())
        return len(by_partition) == PARTITIONS and all(
            runs(v)[-len(sequence) :] == list(sequence) for v in by_partition.values()
        )

    assert wait_for(lambda: every_partition_ends_with(one), timeout=120)
    models.ok("promote", two)
    assert wait_for(lambda: every_partition_ends_with(one, two), timeout=120)
    models.ok("rollback")
    assert wait_for(lambda: every_partition_ends_with(one, two, one), timeout=120)


def test_promote_then_rollback_switches_every_worker_between_batches_losing_nothing(
    models: Cli, topics: Topics, versions: tuple[Version, Version], tmp_path: Path
) -> None:
    one, two = (v.version for v in versions)
    workers = start_workers(topics, models.topic, tmp_path / "workers.log")
    bootstrap = topics.broker.bootstrap_servers
    with reading(bootstrap, topics.output) as reader:
        with Feeder(bootstrap, topics.input, rate=200) as feeder:
            promote_then_roll_back(models, reader, one, two)
        assert wait_for(lambda: len(reader.answered()) == feeder.sent, timeout=120)
        answers = reader.answers()
    assert workers.stop() == 0
    assert reader.answered() == {f"c-{n}" for n in range(feeder.sent)}  # nothing lost
    for partition, sequence in versions_by_partition(answers).items():
        assert runs(sequence) == [one, two, one], partition  # each switch once, never back
    thresholds = {v.version: str(v.threshold) for v in versions}
    for a in answers:
        assert a.headers[h.MODEL_ROLE] == "champion" and a.headers[h.DECISION] in ("keep", "remove")
        assert float(a.headers[h.MODEL_THRESHOLD]) == float(thresholds[a.version])
        assert a.value["meta"]["tags"]["model_version"] == a.version
    repeated = sum(n - 1 for n in Counter((a.partition, a.offset) for a in answers).values())
    assert repeated <= 2 * 2 * MAX_BATCH  # at-least-once: at most a batch per worker and switch


def test_a_truncated_champion_is_refused_by_every_worker_and_the_stream_goes_on(
    models: Cli, topics: Topics, versions: tuple[Version, Version], tmp_path: Path
) -> None:
    one, two = (v.version for v in versions)
    stored = tmp_path / "store" / "moderation" / two / "arrays.npz"
    stored.write_bytes((truncated(versions[1], tmp_path / "cut") / "arrays.npz").read_bytes())
    workers = start_workers(topics, models.topic, tmp_path / "workers.log")
    bootstrap = topics.broker.bootstrap_servers
    with reading(bootstrap, topics.output) as reader:
        with Feeder(bootstrap, topics.input, rate=100) as feeder:
            models.ok("promote", two)

            def refusals() -> set[str]:
                state = models.registry.state().model("moderation")
                return set(state.refusals.get(two, {}))

            assert wait_for(lambda: len(refusals()) == 2, timeout=120)
            sent_after_refusals = feeder.sent
            assert wait_for(lambda: len(reader.answered()) > sent_after_refusals, timeout=120)
        assert wait_for(lambda: len(reader.answered()) == feeder.sent, timeout=120)
    assert workers.stop() == 0
    assert {a.version for a in reader.answers()} == {one}
    assert all(i.endswith(("stream-0", "stream-1")) for i in refusals())
    reasons = models.registry.state().model("moderation").refusals[two].values()
    assert all("tampered or truncated" in (e.reason or "") for e in reasons)


def test_the_shadow_answers_the_same_comments_on_its_own_topic_only(
    models: Cli, topics: Topics, versions: tuple[Version, Version], tmp_path: Path
) -> None:
    one, two = (v.version for v in versions)
    models.ok("shadow", two)
    workers = start_workers(topics, models.topic, tmp_path / "workers.log")
    bootstrap, shadow_topic = topics.broker.bootstrap_servers, f"{topics.output}.shadow"
    with reading(bootstrap, topics.output, shadow_topic) as reader:
        with Feeder(bootstrap, topics.input, rate=100) as feeder:
            assert wait_for(lambda: len(reader.answered()) >= 200, timeout=120)
        assert wait_for(
            lambda: len(reader.answered()) == len(reader.answered(shadow_topic)) == feeder.sent,
            timeout=120,
        )
    assert workers.stop() == 0
    answers, shadows = reader.answers(), reader.answers(shadow_topic)
    assert {(a.version, a.headers[h.MODEL_ROLE]) for a in answers} == {(one, "champion")}
    assert {(s.version, s.headers[h.MODEL_ROLE]) for s in shadows} == {(two, "shadow")}
    ids = {a.key: a.value["meta"]["puid"] for a in answers}
    assert {s.key: s.value["meta"]["puid"] for s in shadows} == ids  # same key, same id
    assert all(s.value["meta"]["tags"]["model_role"] == "shadow" for s in shadows)


@pytest.mark.kafka
def test_exactly_once_workers_switch_with_every_input_answered_once(
    kafka: Any,
    capsys: pytest.CaptureFixture[str],
    versions: tuple[Version, Version],
    tmp_path: Path,
) -> None:
    one, two = (v.version for v in versions)
    models = with_champion(kafka, capsys, versions, "--")
    topics = Topics(kafka, partitions=PARTITIONS).create()
    workers = start_workers(topics, models.topic, tmp_path / "workers.log", "--exactly-once")
    with reading(kafka.bootstrap_servers, topics.output) as reader:
        with Feeder(kafka.bootstrap_servers, topics.input, rate=200) as feeder:
            promote_then_roll_back(models, reader, one, two)
        assert wait_for(lambda: len(reader.answered()) == feeder.sent, timeout=120)
        answers = reader.answers()
    assert workers.stop() == 0
    assert Counter(a.key for a in answers) == Counter(f"c-{n}" for n in range(feeder.sent))
    for partition, sequence in versions_by_partition(answers).items():
        assert runs(sequence) == [one, two, one], partition

"""``modstream stream --registry --workers 2`` while comments flow: promote and roll back
switch every worker between batches with nothing lost, a tampered or truncated champion is
refused by every worker and the stream goes on. (The shadow on the stream is checked with
the policy, in test_canary.py.)"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from modstream.broker import EmbeddedBroker
from modstream.model.artifact import ARRAYS, MANIFEST
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


def tamper(artifact: Path) -> bytes:
    """Lower the removal threshold in the manifest (what an attacker would); returns the
    original manifest."""
    original = (artifact / MANIFEST).read_bytes()
    manifest = json.loads(original)
    manifest["threshold"] = 0.01
    (artifact / MANIFEST).write_text(json.dumps(manifest))
    return original


def test_a_tampered_or_truncated_champion_is_refused_by_every_worker_and_the_stream_goes_on(
    models: Cli, topics: Topics, versions: tuple[Version, Version], tmp_path: Path
) -> None:
    one, two = (v.version for v in versions)
    stored = tmp_path / "store" / "moderation" / two
    workers = start_workers(topics, models.topic, tmp_path / "workers.log")
    bootstrap = topics.broker.bootstrap_servers

    def refused_by_both(why: str) -> bool:
        refusals = models.registry.state().model("moderation").refusals.get(two, {})
        return len(refusals) == 2 and all(why in (e.reason or "") for e in refusals.values())

    with reading(bootstrap, topics.output) as reader:
        with Feeder(bootstrap, topics.input, rate=100) as feeder:
            original = tamper(stored)
            models.ok("promote", two)
            assert wait_for(lambda: refused_by_both("checksum mismatch"), timeout=120)
            models.ok("rollback")  # then the manifest is right again but the weights are cut
            (stored / MANIFEST).write_bytes(original)
            cut = truncated(versions[1], tmp_path / "cut") / ARRAYS
            (stored / ARRAYS).write_bytes(cut.read_bytes())
            models.ok("promote", two)
            assert wait_for(lambda: refused_by_both("arrays.npz does not match"), timeout=120)
            sent_after_refusals = feeder.sent
            assert wait_for(lambda: len(reader.answered()) > sent_after_refusals, timeout=120)
        assert wait_for(lambda: len(reader.answered()) == feeder.sent, timeout=120)
    assert workers.stop() == 0
    assert {a.version for a in reader.answers()} == {one}
    refusals = models.registry.state().model("moderation").refusals[two]
    assert {i.rsplit(":", 1)[1] for i in refusals} == {"stream-0", "stream-1"}
    assert all("tampered or truncated" in (e.reason or "") for e in refusals.values())


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

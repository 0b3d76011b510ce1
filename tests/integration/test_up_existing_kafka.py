"""``modstream up --bootstrap-servers`` on an existing Apache Kafka: the topics it needs are
created once, with the partitions asked for, and found the next time; a model already
champion there stays so, and what one ``up`` published stays loadable for the next. The
whole stack on a secured Kafka (ACLs, no auto-creation, dashboard, no secret shown):
test_kafka_security.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modstream.model import TextModel, load_model
from modstream.registry.admin import RegistryAdmin
from modstream.registry.client import Registry
from modstream.registry.loader import load_version
from modstream.settings import UpSettings
from modstream.up.existing import prepare_topics
from modstream.up.models import ModelChoice
from modstream.up.registry import publish_champion
from tests.integration.registry_fixtures import Version
from tests.integration.stream_fixtures import unique
from tests.kafka import KafkaCluster

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def test_missing_topics_are_created_once_then_found(kafka: KafkaCluster) -> None:
    prefix = unique("up")
    names = ("input", "output", "decisions", "monitor_metrics", "alerts")
    topics = {f"{name}_topic": f"{prefix}-{name}" for name in names}
    settings = UpSettings(bootstrap_servers=kafka.bootstrap_servers, partitions=2, **topics)
    where = kafka.bootstrap_servers

    said: list[str] = []
    prepare_topics(settings, said.append)
    assert said == [f"created {', '.join(settings.topics)} on {where} (2 partition(s) each)"]
    listed = kafka.admin().list_topics(timeout=10).topics
    assert {t: len(listed[t].partitions) for t in settings.topics} == dict.fromkeys(
        settings.topics, 2
    )
    assert f"{prefix}-output.review" in settings.topics  # the worker's review and shadow
    assert f"{prefix}-output.shadow" in settings.topics

    said.clear()
    prepare_topics(settings, said.append)  # a second up finds them
    assert said == [f"using the existing Kafka at {where}: {', '.join(settings.topics)} exist"]


def test_a_second_up_with_the_same_model_finds_it_champion_and_goes_on(
    kafka: KafkaCluster, model_dir: Path, model: TextModel, tmp_path: Path
) -> None:
    config = {"bootstrap.servers": kafka.bootstrap_servers}
    store = tmp_path / "store"
    settings = UpSettings(bootstrap_servers=kafka.bootstrap_servers, models_topic=unique("models"))
    choice = ModelChoice(path=model_dir, model=model, demo=False, origin="a test")
    said: list[str] = []
    for run in ("first", "second"):  # the second run used to stop: "already the champion"
        with pytest.MonkeyPatch.context() as env:
            env.setenv("MODSTREAM_REGISTRY_STORE", str(store))
            publish_champion(settings, config, choice, tmp_path / run, said.append)

    name, version, topic = model.name, model.version, settings.models_topic
    assert said == [
        f"model {name} {version} is the champion in {topic}",
        f"model {name} {version} is already the champion in {topic}",
    ]
    state = Registry(config, topic).state().model(name)
    assert state.champion == version
    assert state.version(version).uri == str(store / name / version)


def test_a_later_up_rolls_back_to_the_model_an_earlier_one_published(
    kafka: KafkaCluster, versions: tuple[Version, Version], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """On an existing Kafka the registry outlives ``up``: the copy of the model it publishes
    is kept outside its temporary directory, so the version stays loadable once ``up`` has
    stopped, and a later ``up`` (another model) can roll back to it."""
    monkeypatch.setenv("MODSTREAM_CACHE_DIR", str(tmp_path / "cache"))
    config = {"bootstrap.servers": kafka.bootstrap_servers}
    settings = UpSettings(bootstrap_servers=kafka.bootstrap_servers, models_topic=unique("models"))
    for run, version in zip(("first", "second"), versions, strict=True):
        workdir = tmp_path / run
        choice = ModelChoice(path=version.path, model=load_model(version.path), demo=False,
                             origin="a test")  # fmt: skip
        publish_champion(settings, config, choice, workdir, lambda line: None)
        shutil.rmtree(workdir, ignore_errors=True)  # up deletes its directory when it stops

    registry = Registry(config, settings.models_topic)
    name = load_model(versions[0].path).name
    RegistryAdmin(registry, name).rollback()
    state = registry.state().model(name)
    assert state.champion == versions[0].version
    entry = state.version(versions[0].version)
    assert entry.uri.startswith(str(tmp_path / "cache" / "registry"))
    loaded = load_version(entry, model_name=name, cache=tmp_path / "cache")  # as instances do
    assert loaded.version == versions[0].version

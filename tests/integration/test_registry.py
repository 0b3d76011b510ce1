"""The registry on a real broker: ``modstream models`` end to end, and instances following it."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import ConfigResource

from modstream.broker import EmbeddedBroker
from modstream.errors import ModstreamError
from modstream.model.artifact import MANIFEST
from modstream.registry.follow import FollowedModels, follow_registry
from modstream.registry.store import artifact_digest
from modstream.registry.table import TableWriter, create_topic, read_table
from tests.integration.registry_fixtures import Cli, Version, registry_cli, truncated
from tests.integration.stream_fixtures import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def v1(versions: tuple[Version, Version]) -> Version:
    return versions[0]


@pytest.fixture
def v2(versions: tuple[Version, Version]) -> Version:
    return versions[1]


@pytest.fixture
def models(broker: EmbeddedBroker, capsys: pytest.CaptureFixture[str]) -> Cli:
    return registry_cli(broker, capsys)


def follow(models: Cli, tmp_path: Path, instance: str = "test:0") -> FollowedModels:
    return follow_registry(
        {"bootstrap.servers": models.broker.bootstrap_servers},
        models.topic,
        "moderation",
        cache=tmp_path / "cache",
        instance=instance,
        startup_timeout=60,
    )


def test_publish_promote_canary_shadow_rollback_list_history(
    models: Cli, v1: Version, v2: Version, tmp_path: Path
) -> None:
    out = models.ok("publish", str(v1.path), "--store", str(tmp_path / "store"), "--promote")
    assert f"published moderation {v1.version}" in out and f"champion {v1.version}" in out
    assert (tmp_path / "store" / "moderation" / v1.version / MANIFEST).is_file()
    models.ok("publish", str(v2.path))
    assert f"canary 10% {v2.version}" in models.ok("canary", v2.version, "--percent", "10")
    out = models.ok("promote", v2.version)
    assert f"champion {v2.version}" in out and "canary ended" in out
    models.ok("shadow", v1.version)
    listing = json.loads(models.ok("list", "--json"))
    roles = {row["version"]: row["role"] for row in listing["versions"]}
    assert roles == {v2.version: "champion", v1.version: "shadow"}
    models.ok("shadow", "--off")
    assert f"champion {v1.version}" in models.ok("rollback")
    table = models.ok("list")
    assert f"{v1.version}  champion" in table and f"{v2.version}  -" in table
    history = [row["event"] for row in json.loads(models.ok("history", "--json"))]
    assert history == [
        "published", "champion", "published", "canary 10%", "champion", "canary ended",
        "shadow", "shadow ended", "champion",
    ]  # fmt: skip


def test_errors_are_one_line_and_change_nothing(
    models: Cli, v1: Version, v2: Version, tmp_path: Path
) -> None:
    models.ok("publish", str(v1.path), "--promote")
    cases = {
        ("promote", "v-unknown"): "version 'v-unknown' of model 'moderation' is not published",
        ("publish", str(v2.path), "--sha256", "0" * 64): "checksum mismatch",
        ("publish", str(v2.path), "--model-name", "spam"): "incompatible artifact",
        ("rollback",): "no earlier champion to roll back to",
        ("canary", v1.version, "--percent", "10"): "is the champion",
        ("retire", v1.version): "is the champion; give the role away first",
        ("publish", str(truncated(v2, tmp_path / "cut"))): "tampered or truncated",
    }
    for args, message in cases.items():
        code, _out, err = models(*args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)
    listing = json.loads(models.ok("list", "--json"))
    assert [(r["version"], r["role"]) for r in listing["versions"]] == [(v1.version, "champion")]


def test_models_topic_is_compacted_with_one_partition(models: Cli, v1: Version) -> None:
    models.ok("publish", str(v1.path))
    admin = models.broker.admin()
    topics = admin.list_topics(timeout=10).topics
    assert len(topics[models.topic].partitions) == 1
    resource = ConfigResource("topic", models.topic)
    config = admin.describe_configs([resource])[resource].result(10)
    assert config["cleanup.policy"].value == "compact"


def test_instances_follow_promotion_and_rollback(
    models: Cli, v1: Version, v2: Version, tmp_path: Path
) -> None:
    models.ok("publish", str(v1.path), "--promote")
    models.ok("publish", str(v2.path))
    instance = follow(models, tmp_path)
    try:
        assert instance.current is not None and instance.current.champion.version == v1.version
        models.ok("promote", v2.version)
        assert wait_for(lambda: _champion(instance) == v2.version)
        models.ok("canary", v1.version, "--percent", "25")
        assert wait_for(lambda: _versions(instance).get("canary") == v1.version)
        assert instance.current is not None and instance.current.canary_percent == 25
        models.ok("rollback")
        assert wait_for(lambda: _versions(instance) == {"champion": v1.version})
    finally:
        instance.stop()


def test_a_truncated_champion_is_refused_reported_and_the_old_one_serves(
    models: Cli, v1: Version, v2: Version, tmp_path: Path
) -> None:
    models.ok("publish", str(v1.path), "--promote")
    store = tmp_path / "store"
    models.ok("publish", str(v2.path), "--store", str(store))
    first, second = follow(models, tmp_path, "test:0"), follow(models, tmp_path, "test:1")
    try:
        stored = store / "moderation" / v2.version
        truncated(v2, tmp_path / "cut")
        (stored / "arrays.npz").write_bytes((tmp_path / "cut" / "arrays.npz").read_bytes())
        models.ok("promote", v2.version)

        def refused_by() -> set[str]:
            return set(models.registry.state().model("moderation").refusals.get(v2.version, {}))

        assert wait_for(lambda: refused_by() == {"test:0", "test:1"})
        assert _champion(first) == _champion(second) == v1.version
        listing = models.ok("list")
        assert f"{v2.version} refused by test:0: " in listing and "truncated" in listing
    finally:
        first.stop()
        second.stop()


@pytest.fixture
def artifact_server(v2: Version) -> Iterator[str]:
    """The artifact directory of ``v2`` over HTTP on a free port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(v2.path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_version_published_at_a_url_is_downloaded_verified_and_served(
    models: Cli, v1: Version, v2: Version, artifact_server: str, tmp_path: Path
) -> None:
    models.ok("publish", str(v1.path), "--promote")
    code, _, err = models("publish", artifact_server)
    assert code == 2 and "needs --sha256" in err
    digest = artifact_digest(v2.path)
    models.ok("publish", artifact_server, "--sha256", digest)
    instance = follow(models, tmp_path)
    try:
        models.ok("promote", v2.version)
        assert wait_for(lambda: _champion(instance) == v2.version)
        assert (tmp_path / "cache" / "models" / digest / MANIFEST).is_file()
    finally:
        instance.stop()


def _versions(instance: FollowedModels) -> dict[str, str]:
    return instance.current.versions() if instance.current is not None else {}


def _champion(instance: FollowedModels) -> str | None:
    return _versions(instance).get("champion")


def test_a_long_lived_registry_writes_again_once_its_broker_is_back() -> None:
    """The dashboard and the model server keep one registry (and its producer) for as long
    as they run: a write the broker never acknowledged is an error and never lands later,
    and the next write, once the broker is back, goes through."""
    broker = EmbeddedBroker().start()  # a free port, kept across the restart
    config = {"bootstrap.servers": broker.bootstrap_servers}
    writer = TableWriter(config)
    try:
        create_topic(config, "roles", {})
        assert writer.append("roles", "a", b"before") == 0
        broker.stop()
        with pytest.raises(ModstreamError, match="did not acknowledge the write to 'roles'"):
            writer.append("roles", "b", b"while down", timeout=2)
        broker.start()  # the embedded broker starts empty
        create_topic(config, "roles", {})
        assert writer.append("roles", "c", b"after") == 0
        values: list[bytes] = []
        read_table(config, "roles", lambda message: values.append(message.value()))
        assert values == [b"after"]
    finally:
        broker.stop()

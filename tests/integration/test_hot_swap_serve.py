"""``modstream serve --registry``: the server follows the registry, and its V2 repository
API (index, load, unload) shows and drives the same state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modstream.broker import EmbeddedBroker
from modstream.registry.modelset import canary_point
from tests.integration.registry_fixtures import Cli, Version, truncated, with_champion
from tests.integration.serve_fixtures import Server, start_server, stop_server
from tests.integration.stream_fixtures import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def models(
    broker: EmbeddedBroker, capsys: pytest.CaptureFixture[str], versions: tuple[Version, Version]
) -> Cli:
    return with_champion(broker, capsys, versions)


@pytest.fixture
def server(models: Cli, versions: tuple[Version, Version], tmp_path: Path) -> Iterator[Server]:
    """A server started with the first version as --model, following the registry."""
    running = start_server(
        versions[0].path, "--registry", "--bootstrap-servers", models.broker.bootstrap_servers,
        "--models-topic", models.topic,
    )  # fmt: skip
    try:
        yield running
    finally:
        assert stop_server(running) == 0


def answered_by(server: Server, puid: str = "c-1") -> str:
    body = {"data": {"ndarray": ["the sample size seems small"]}, "meta": {"puid": puid}}
    answer = httpx.post(f"{server.url}/api/v1.0/predictions", json=body, timeout=30).json()
    return str(answer["meta"]["tags"]["model_version"])


def repository(server: Server, path: str, body: object = None) -> httpx.Response:
    return httpx.post(f"{server.url}/v2/repository/{path}", json=body or {}, timeout=90)


def test_the_server_follows_promotions_and_rollbacks(
    server: Server, models: Cli, versions: tuple[Version, Version]
) -> None:
    one, two = (v.version for v in versions)
    assert answered_by(server) == one
    models.ok("publish", str(versions[1].path), "--promote")
    assert wait_for(lambda: answered_by(server) == two)
    models.ok("rollback")
    assert wait_for(lambda: answered_by(server) == one)


def test_repository_index_load_and_unload_drive_the_registry(
    server: Server, models: Cli, versions: tuple[Version, Version]
) -> None:
    one, two = (v.version for v in versions)
    models.ok("publish", str(versions[1].path))
    assert wait_for(lambda: len(repository(server, "index").json()) == 2)
    index = {e["version"]: e for e in repository(server, "index").json()}
    assert index[one]["state"] == "READY" and index[one]["reason"] == "champion"
    assert (index[two]["state"], index[two]["reason"]) == ("UNAVAILABLE", "published")

    canary = {"parameters": {"version": two, "role": "canary", "percent": 50}}
    assert repository(server, "models/moderation/load", canary).status_code == 200
    assert models.registry.state().model("moderation").effective("canary") == two
    ids = [f"c-{i}" for i in range(40)]
    expected = {i: two if canary_point(i) < 50 else one for i in ids}
    assert {i: answered_by(server, i) for i in ids} == expected
    versioned = httpx.post(
        f"{server.url}/v2/models/moderation/versions/{two}/infer",
        json={"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["hi"]}]},
        timeout=30,
    )
    assert versioned.status_code == 200 and versioned.json()["model_version"] == two
    ready = repository(server, "index", {"ready": True}).json()
    assert {e["version"]: e["reason"] for e in ready} == {one: "champion", two: "canary"}

    unload = {"parameters": {"role": "canary"}}
    assert repository(server, "models/moderation/unload", unload).status_code == 200
    assert {answered_by(server, i) for i in ids} == {one}
    assert repository(server, "models/moderation/load", {"parameters": {"version": two}}).is_success
    assert (
        answered_by(server) == two and models.registry.state().model("moderation").champion == two
    )


def test_a_refused_load_is_an_error_and_the_champion_keeps_serving(
    server: Server, models: Cli, versions: tuple[Version, Version], tmp_path: Path
) -> None:
    one, two = (v.version for v in versions)
    store = tmp_path / "store"
    models.ok("publish", str(versions[1].path), "--store", str(store))
    cut = truncated(versions[1], tmp_path / "cut")
    (store / "moderation" / two / "arrays.npz").write_bytes((cut / "arrays.npz").read_bytes())
    answer = repository(server, "models/moderation/load", {"parameters": {"version": two}})
    assert answer.status_code == 500 and "was refused here" in answer.json()["error"]
    assert "truncated" in answer.json()["error"]
    assert answered_by(server) == one
    index = {e["version"]: e for e in repository(server, "index").json()}
    assert index[two]["state"] == "UNAVAILABLE" and index[two]["reason"].startswith("refused")
    wrong = repository(server, "models/spam/load")
    assert wrong.status_code == 404 and "not in this repository" in wrong.json()["error"]
    champion = repository(server, "models/moderation/unload", {"parameters": {"role": "champion"}})
    assert champion.status_code == 400

"""Loading published versions: store, digests, verification, canary hashing, the manager."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import pytest

from modstream.demo import demo_dataset
from modstream.errors import ArtifactError
from modstream.model import TextModel, load_model, save_model, train_model
from modstream.model.artifact import ARRAYS, read_manifest
from modstream.registry.loader import load_version
from modstream.registry.manager import ModelManager
from modstream.registry.modelset import ModelSet, canary_point
from modstream.registry.state import Desired, VersionEntry
from modstream.registry.store import artifact_digest, copy_into_store, local_artifact


@pytest.fixture(scope="module")
def other_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second version of the same model (trained again: a new version string)."""
    model = train_model(demo_dataset(300), "default", n_jobs=1)
    return save_model(model, tmp_path_factory.mktemp("models") / "other")


def entry(path: Path, **changes: object) -> VersionEntry:
    manifest = read_manifest(path)
    values: dict[str, object] = {
        "version": manifest["version"], "uri": str(path), "sha256": artifact_digest(path),
        "preset": manifest["preset"], "threshold": manifest["threshold"],
        "created_at": manifest["created_at"], "published_at": "2026-01-01T00:00:00.000Z",
    }  # fmt: skip
    values.update(changes)
    return VersionEntry(**values)  # type: ignore[arg-type]


def truncated_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    data = (target / ARRAYS).read_bytes()
    (target / ARRAYS).write_bytes(data[: len(data) // 2])
    return target


def test_store_copies_once_and_refuses_other_bytes_for_a_version(
    model_dir: Path, other_dir: Path, tmp_path: Path
) -> None:
    manifest = read_manifest(model_dir)
    stored = copy_into_store(model_dir, tmp_path, manifest)
    assert stored == tmp_path / "moderation" / manifest["version"]
    assert artifact_digest(stored) == artifact_digest(model_dir)
    assert copy_into_store(model_dir, tmp_path, manifest) == stored
    with pytest.raises(ArtifactError, match="already holds another artifact"):
        copy_into_store(other_dir, tmp_path, manifest)


def test_a_different_manifest_is_a_checksum_mismatch(model_dir: Path, other_dir: Path) -> None:
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        local_artifact(str(other_dir), artifact_digest(model_dir), Path("/nonexistent"))


def test_load_version_gives_the_verified_model(model_dir: Path, tmp_path: Path) -> None:
    model = load_version(entry(model_dir), model_name="moderation", cache=tmp_path)
    assert model.version == read_manifest(model_dir)["version"]


def test_a_truncated_artifact_is_refused(model_dir: Path, tmp_path: Path) -> None:
    broken = truncated_copy(model_dir, tmp_path / "broken")
    with pytest.raises(ArtifactError, match="tampered or truncated"):
        load_version(entry(broken), model_name="moderation", cache=tmp_path)


def test_another_model_name_is_incompatible(model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="incompatible artifact: it is model 'moderation'"):
        load_version(entry(model_dir), model_name="spam", cache=tmp_path)


def test_canary_share_is_stable_and_close_to_its_percent(model: TextModel) -> None:
    ids = [f"t3_{i:06d}" for i in range(20_000)]
    models = ModelSet(model, canary=model, canary_percent=10.0)
    roles = models.route(ids)
    share = roles.count("canary") / len(ids)
    assert 0.09 <= share <= 0.11
    assert ModelSet(model, canary=model, canary_percent=10.0).route(ids) == roles
    assert canary_point("t3_000001") == canary_point("t3_000001")
    wider = ModelSet(model, canary=model, canary_percent=20.0).route(ids)
    assert all(w == "canary" for r, w in zip(roles, wider, strict=True) if r == "canary")
    assert models.role_of(None) == "champion"


def test_manager_swaps_and_keeps_the_previous_champion(
    model_dir: Path, other_dir: Path, tmp_path: Path
) -> None:
    loads: list[str] = []

    def load(e: VersionEntry) -> TextModel:
        loads.append(e.version)
        return load_version(e, model_name="moderation", cache=tmp_path)

    manager = ModelManager(load)
    first, second = entry(model_dir), entry(other_dir)
    one = manager.reconcile(Desired(first, issued=("a",)))
    two = manager.reconcile(Desired(second, shadow=first, issued=("b",)))
    assert one is not None and one.champion.version == first.version
    assert two is not None and (two.champion.version, two.shadow) == (second.version, one.champion)
    back = manager.reconcile(Desired(first, issued=("c",)))
    assert back is not None and back.champion is one.champion
    assert loads == [first.version, second.version]  # rollback needed no load


def test_manager_refuses_a_broken_champion_and_keeps_serving(
    model_dir: Path, tmp_path: Path
) -> None:
    refused: list[tuple[str, str]] = []
    good = entry(model_dir)
    broken_dir = truncated_copy(model_dir, tmp_path / "broken")
    broken = entry(model_dir, uri=str(broken_dir), version="v-broken")
    running = load_model(model_dir)
    manager = ModelManager(
        partial(load_version, model_name="moderation", cache=tmp_path),
        initial=ModelSet(running),
        on_refused=lambda e, reason: refused.append((e.version, reason)),
    )
    assert manager.reconcile(Desired(broken, issued=("x",))) == ModelSet(running)
    assert manager.reconcile(Desired(broken, issued=("x",))) == ModelSet(running)
    assert [v for v, _ in refused] == ["v-broken"]  # not retried for the same event
    assert "tampered or truncated" in refused[0][1]
    manager.reconcile(Desired(broken, issued=("y",)))  # a new role event retries
    assert len(refused) == 2
    loaded = manager.reconcile(Desired(good, canary=broken, canary_percent=5, issued=("z",)))
    assert loaded is not None and loaded.canary is None and loaded.champion.version == good.version


def test_manager_thread_follows_the_latest_wish(model_dir: Path, tmp_path: Path) -> None:
    swapped: list[ModelSet] = []
    manager = ModelManager(
        partial(load_version, model_name="moderation", cache=tmp_path), on_swap=swapped.append
    ).start()
    try:
        manager.want(Desired(entry(model_dir), issued=("a",)))
        assert manager.settle(60)
        assert manager.current is not None and swapped == [manager.current]
    finally:
        manager.stop()


def test_the_data_plane_routes_by_comment_id_and_swaps_between_batches(
    model: TextModel, other_dir: Path
) -> None:
    import asyncio

    from modstream.dataplane import DataPlane
    from modstream.errors import NotFound

    other = load_model(other_dir)
    plane = DataPlane(model)
    ids = [f"c-{i}" for i in range(30)]

    async def scenario() -> tuple[list[str], list[str], str]:
        await plane.start()
        try:
            before = [(await plane.score_batched(["x"], comment_id=i)).model.version for i in ids]
            plane.swap(ModelSet(model, canary=other, canary_percent=50.0))
            after = [(await plane.score_batched(["x"], comment_id=i)).model.version for i in ids]
            named = await plane.score_batched(["x"], version=other.version)
            with pytest.raises(NotFound, match="is not loaded here"):
                await plane.score_batched(["x"], version="v-none")
            return before, after, named.model.version
        finally:
            await plane.stop()

    before, after, named = asyncio.run(scenario())
    assert set(before) == {model.version}
    assert after == [other.version if canary_point(i) < 50 else model.version for i in ids]
    assert named == other.version and plane.facts_for(other.version) == other.facts

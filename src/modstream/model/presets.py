"""The model presets.

``article`` is the reference design exactly: clean → spaCy lemmas → tf-idf of 1–3-grams
(10,000 features) → logistic regression with C=0.1.

``default`` was chosen by nested cross-validation on the r/science dev sample
(bench/results/candidates.md): lookup lemmas (the same lemma table, without building
spaCy ``Doc``s), sub-linear tf-idf of word 1–2-grams, character 1–4-grams inside
whitespace words (punctuation and casing habits carry signal), and a class-weighted
logistic regression with C=1. Comment-shape columns (``shape_weight``) were measured as a
candidate: a small gain on the dev sample, but on the synthetic demo corpus, whose removed
comments are short by construction, length alone then marks any short comment as removed,
so they are not in the default.

``minilm`` is ``default`` plus the all-MiniLM-L6-v2 sentence vector of each comment as
384 more columns under the same classifier: better on the dev sample (ROC AUC 0.815,
F1 0.645 nested, against 0.796 and 0.626), but a transformer pass per comment, so it
scores tens of comments per second in one thread, and it needs the optional weights
package (``modstream.model.minilm``).
"""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from modstream.facts import PRESETS
from modstream.model.features import TextFeatures
from modstream.text.clean import CleanTextTransformer
from modstream.text.nlp import BLANK

__all__ = ["PRESETS", "build_pipeline", "classifier_params", "feature_params"]


def feature_params(preset: str, spacy_model: str | None = None, n_process: int = 1) -> dict:
    """Keyword arguments of ``TextFeatures`` for ``preset``.

    Naming a spaCy model switches either preset's tokenizer to that spaCy pipeline.
    """
    if preset == "article":
        params: dict = {
            "tokenizer": "spacy",
            "word_ngram_range": (1, 3),
            "word_max_features": 10_000,
            "word_sublinear_tf": False,
            "char_ngram_range": None,
        }
    elif preset == "default":
        params = {
            "tokenizer": "lookup",
            "word_ngram_range": (1, 2),
            "word_max_features": 200_000,
            "word_sublinear_tf": True,
            "char_ngram_range": (1, 4),
            "char_max_features": 100_000,
        }
    elif preset == "minilm":
        params = {**feature_params("default"), "sentence_weight": 1.0}
    else:
        raise ValueError(f"unknown preset {preset!r}; choose one of {PRESETS}")
    params["spacy_model"] = spacy_model or BLANK
    params["n_process"] = n_process
    if spacy_model:
        params["tokenizer"] = "spacy"
    return params


def classifier_params(preset: str) -> dict:
    if preset == "article":
        return {"C": 0.1, "solver": "sag", "max_iter": 1000}
    return {"C": 1.0, "class_weight": "balanced", "solver": "lbfgs", "max_iter": 3000}


def build_pipeline(preset: str, spacy_model: str | None = None, n_process: int = 1) -> Pipeline:
    """An unfitted scikit-learn pipeline for ``preset``."""
    return Pipeline(
        [
            ("clean", CleanTextTransformer()),
            ("features", TextFeatures(**feature_params(preset, spacy_model, n_process))),
            ("clf", LogisticRegression(**classifier_params(preset))),
        ]
    )

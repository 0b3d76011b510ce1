"""Model behaviour: presets, thresholds, explanations, traces, and the dev-data acceptance."""

from __future__ import annotations

import numpy as np
import pytest

from modstream.datasets import Dataset, read_dataset
from modstream.errors import DataError
from modstream.model import TextModel, train_model
from modstream.model.crossval import out_of_fold, stratified_splits
from modstream.model.explain import SHAPE_PUSH
from modstream.model.metrics import evaluate_scores
from modstream.model.presets import build_pipeline
from modstream.model.threshold import choose_threshold
from modstream.text.clean import clean_text
from tests.conftest import DEV_CSV, needs_dev_data


def test_probabilities_are_rows_of_two_in_input_order(model: TextModel) -> None:
    texts = [
        "LOL this is the dumbest thing I have read all week!!",
        "the confidence interval is wide",
    ]
    both = model.predict_proba(texts)
    assert both.shape == (2, 2)
    np.testing.assert_allclose(both.sum(axis=1), 1.0)
    np.testing.assert_allclose(both[::-1], model.predict_proba(texts[::-1]))
    assert both[0, 1] > model.threshold > both[1, 1]
    assert model.predict_proba([]).shape == (0, 2)


def test_explanation_names_the_words_that_pushed(model: TextModel) -> None:
    [pushes] = model.explain(["wake up sheeple, they are lying to you"], top=5)
    assert len(pushes) == 5
    assert all(c.kind in {"ngram", "characters", "shape"} for c in pushes)
    assert any("sheeple" in c.feature for c in pushes if c.weight > 0)
    assert [abs(c.weight) for c in pushes] == sorted((abs(c.weight) for c in pushes), reverse=True)
    assert [c.feature for c in pushes if c.kind == "shape"] in ([], [SHAPE_PUSH])


def test_trace_shows_every_stage(model: TextModel) -> None:
    trace = model.trace("See [the paper](https://doi.org/x) &amp; the mice")
    assert trace["cleaned"] == "See the paper https://doi.org/x & the mice"
    assert "URL" in trace["tokens"] and "mouse" in trace["tokens"]
    assert trace["tfidf"] and trace["removed"] in (0, 1)
    assert trace["probabilities"]["t:0"] + trace["probabilities"]["t:1"] == pytest.approx(1.0)


def test_threshold_targets() -> None:
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    assert choose_threshold(y, p) == pytest.approx(0.35)
    assert choose_threshold(y, p, target_precision=1.0) == pytest.approx(0.6)
    assert choose_threshold(y, p, target_recall=1.0) == pytest.approx(0.35)
    with pytest.raises(DataError):
        choose_threshold(y, p, target_precision=0.5, target_recall=0.5)


def test_training_needs_two_rows_per_class() -> None:
    data = Dataset(["a b", "c d", "e f"], np.array([0, 0, 1]), "x")
    with pytest.raises(DataError, match="at least 2 rows"):
        train_model(data, "default", n_jobs=1)


def _cv_scores(data: Dataset, preset: str) -> tuple[float, float]:
    """Mean held-out ROC AUC and F1 over 5 folds whose models fit their own vocabularies;
    each fold's F1 is taken at the threshold chosen on the other folds' scores and labels."""
    pipeline = build_pipeline(preset)
    features, classifier = pipeline.named_steps["features"], pipeline.named_steps["clf"]
    analyzed = features.analyze([clean_text(t) for t in data.texts])
    splits = stratified_splits(data.labels, 5, seed=1)
    oof = out_of_fold(features, classifier, analyzed, data.labels, splits, n_jobs=2)
    aucs, f1s = [], []
    for _, test in splits:
        others = np.setdiff1d(np.arange(data.labels.size), test)
        threshold = choose_threshold(data.labels[others], oof[others])
        scores = evaluate_scores(data.labels[test], oof[test], threshold)
        aucs.append(scores["roc_auc"])
        f1s.append(scores["f1"])
    return float(np.mean(aucs)), float(np.mean(f1s))


@needs_dev_data
def test_default_preset_beats_the_article_on_held_out_dev_data() -> None:
    data = read_dataset(DEV_CSV)
    default_auc, default_f1 = _cv_scores(data, "default")
    article_auc, article_f1 = _cv_scores(data, "article")
    assert default_auc >= article_auc + 0.02
    assert default_f1 > article_f1

"""Text cleaning and tokenization, and the scikit-learn estimator contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sklearn.utils.estimator_checks as checks
from sklearn.base import clone

from modstream.errors import ModstreamError
from modstream.model.features import TextFeatures
from modstream.text import CleanTextTransformer, SpacyTokenTransformer, clean_text
from modstream.text.charngrams import WordCharTfidf
from modstream.text.lemmas import LemmaTokenTransformer
from modstream.text.words import WordTokenTransformer

# Checks that apply to estimators whose input is text; the rest of check_estimator
# feeds numeric matrices, which these estimators do not claim to accept.
API_CHECKS = (
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_repr",
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_fit_check_is_fitted",
    "check_estimators_overwrite_params",
    "check_fit_score_takes_y",
)
ESTIMATORS = (
    CleanTextTransformer(),
    SpacyTokenTransformer(),
    LemmaTokenTransformer(),
    WordTokenTransformer(),
    WordCharTfidf(),
    TextFeatures(),
)


@pytest.mark.parametrize("check", API_CHECKS)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_estimator_api_checks(estimator: object, check: str) -> None:
    getattr(checks, check)(type(estimator).__name__, clone(estimator))


@pytest.mark.parametrize("estimator", ESTIMATORS[:4], ids=lambda e: type(e).__name__)
def test_text_transformers_refuse_sparse_input(estimator: object) -> None:
    checks.check_estimator_sparse_tag(type(estimator).__name__, clone(estimator))


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Fish &amp; chips &gt; salad", "Fish & chips > salad"),
        ("see [the paper](https://doi.org/10.1/x) now", "see the paper https://doi.org/10.1/x now"),
        ("it<U+2019>s here", "it\u2019s here"),
        ("  many\n\nlines\tand   spaces ", "many lines and spaces"),
        ("zero\u200bwidth", "zerowidth"),
        ("no\u00a0break\u2028line\x1cseparator \u200b end\u3000", "no break line separator end"),
        (None, ""),
        ("bad escape <U+D800>", "bad escape"),
    ],
)
def test_clean_text(raw: str | None, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_transformer_keeps_order_and_accepts_a_column() -> None:
    out = CleanTextTransformer().fit_transform(np.array([["a &amp; b"], ["c"]], dtype=object))
    assert out.tolist() == ["a & b", "c"]


def test_spacy_tokens_are_lemmas_urls_are_one_token_symbols_dropped() -> None:
    tokens = SpacyTokenTransformer().fit_transform(
        ["The mice were running to https://example.org/a?b=1 !!! ;-)"]
    )[0]
    assert tokens == ["the", "mouse", "be", "run", "to", "URL"]


def test_spacy_tokens_with_several_processes_match_one_process() -> None:
    texts = [f"Comment {i} about studies and mice" for i in range(1100)]
    one = SpacyTokenTransformer(batch_size=256).transform(texts)
    two = SpacyTokenTransformer(batch_size=256, n_process=2).transform(texts)
    assert one.tolist() == two.tolist()


def test_unknown_spacy_model_is_a_clear_error() -> None:
    with pytest.raises(ModstreamError, match="not installed"):
        SpacyTokenTransformer(spacy_model="xx_no_such_model").fit(["text"])


def test_lookup_lemmas_agree_with_spacy_on_plain_words() -> None:
    text = ["The mice were running and the studies showed better results"]
    assert LemmaTokenTransformer().transform(text)[0] == SpacyTokenTransformer().transform(text)[0]


def test_word_tokens_keep_inflections() -> None:
    assert WordTokenTransformer().transform(["Mice RUNNING www.x.org"])[0] == [
        "mice",
        "running",
        "URL",
    ]


def test_char_tfidf_rows_are_unit_length_and_unknown_words_are_empty() -> None:
    vec = WordCharTfidf(ngram_range=(1, 3), min_df=1).fit([["abc", "abd"], ["abc"]])
    rows = vec.transform([["abc"], ["zzz"]])
    assert np.isclose(np.linalg.norm(rows[0].toarray()), 1.0)
    assert np.isclose(np.linalg.norm(rows[1].toarray()), 1.0)  # the padded ' ' n-gram is known
    assert rows.shape[1] == len(vec.vocabulary_)


def test_a_named_spacy_pipeline_is_used(tmp_path: Path) -> None:
    """Any pipeline spaCy can load by name or path works, e.g. one saved with to_disk."""
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")["studies"] = "STUDYLEMMA"
    nlp.to_disk(tmp_path / "custom_pipeline")
    tokens = SpacyTokenTransformer(spacy_model=str(tmp_path / "custom_pipeline")).fit_transform(
        ["The studies"]
    )[0]
    assert tokens == ["the", "studylemma"]


def test_shape_columns_see_length_links_capitals_and_questions() -> None:
    from modstream.text.shape import SHAPE_NAMES, ShapeFeatures

    texts = [
        "lol",
        "The METHODS section? See https://doi.org/x and www.y.org for the data, 2 cohorts",
        "a longer comment about the sample size and whether the effect held up",
    ]
    shape = ShapeFeatures().fit(texts)
    rows = dict(zip(SHAPE_NAMES, shape.measure(texts).T, strict=True))
    assert rows["length in characters"][0] < rows["length in characters"][2]
    assert rows["number of links"].tolist() == [0.0, pytest.approx(np.log1p(2)), 0.0]
    assert rows["asks a question"].tolist() == [0.0, 1.0, 0.0]
    assert rows["share of capitals"][1] > rows["share of capitals"][2] == 0.0
    scaled = shape.transform(texts).toarray()
    assert (scaled >= 0).all()
    np.testing.assert_allclose(scaled.mean(axis=0), shape.typical())
    np.testing.assert_allclose(scaled.std(axis=0)[:2], 1.0)
    assert shape.get_feature_names_out()[0] == "shape: length in characters"

"""The fast prediction paths compute exactly what the straightforward ones do."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

from modstream.demo import demo_dataset
from modstream.model import TextModel
from modstream.model.features import TextFeatures, word_vectorizer
from modstream.model.presets import build_pipeline
from modstream.model.scoring import jsonl_lines
from modstream.text import wordgrams
from modstream.text.charngrams import WordCharTfidf, _count_matrix
from modstream.text.lemmas import LemmaTokenTransformer
from modstream.text.sparserows import Rows, hstack, vstack

DOCS = [
    ["the", "mice", "were", "given", "the", "dose"],
    ["the", "the", "the"],
    [],
    ["source", "trust", "me", "bro", "URL"],
    ["mice", "were", "given", "the", "mice", "were", "given"],
    ["unseen", "words", "only"],
]


def _same(a: object, b: object) -> None:
    a, b = a.tocsr(), b.tocsr()  # type: ignore[attr-defined]
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a, part), getattr(b, part))


@pytest.mark.parametrize("ngrams", [(1, 1), (1, 2), (1, 3), (2, 3)])
def test_word_ngrams_are_bit_for_bit_scikit_learns(ngrams: tuple[int, int]) -> None:
    for sublinear in (False, True):
        vec = word_vectorizer(ngrams, None, sublinear).fit(DOCS[:2] + DOCS[3:5])
        fast = wordgrams.word_rows(vec, DOCS).to_csr()
        _same(fast, vec.transform(DOCS))


@pytest.mark.parametrize("copies", [1, 60, 400])
def test_char_ngrams_equal_the_sum_of_each_words_ngrams(copies: int) -> None:
    """One document, many, and more than one count holds (2,400): same bits."""
    vec = WordCharTfidf(ngram_range=(1, 4), min_df=1).fit([d[:4] for d in DOCS if d])
    docs = DOCS * copies
    per_doc = [
        np.concatenate([vec._word_indices(w) for w in d] or [np.empty(0, np.int32)]) for d in docs
    ]
    counts = _count_matrix(per_doc, [len(c) for c in per_doc], len(vec.vocabulary_))
    _same(vec.transform(docs), vec._weigh(counts))
    assert vec.transform([[]]).nnz == 0


def test_threads_scoring_one_model_get_the_answers_one_thread_gets() -> None:
    """Words first met by several threads at once each get their own n-gram ids."""
    texts = [str(t) for t in demo_dataset().texts[:400]]
    words = [t.lower().split() for t in texts]
    vec = WordCharTfidf(ngram_range=(1, 4), min_df=1).fit(words[:200])
    expected = [vec.transform(words[i::8]) for i in range(8)]
    vec._reset_cache()  # every word unseen again, so the threads fill the cache together
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            found = list(pool.map(lambda i: vec.transform(words[i::8]), range(8)))
    finally:
        sys.setswitchinterval(interval)
    for got, want in zip(found, expected, strict=True):
        _same(got, want)


def test_typographic_apostrophes_and_links_tokenize_as_before() -> None:
    lemmas = LemmaTokenTransformer().fit([])
    assert lemmas.transform(["Don’t see www.x.org"])[0] == ["don't", "see", "URL"]
    assert lemmas.transform(["HTTPS://a.b/c mice"])[0] == ["URL", "mouse"]


def test_jsonl_lines_are_what_json_dumps_writes() -> None:
    p = np.array([0.1, 1 / 3, 2.5e-17, 1.0, 0.0])
    labels = (p >= 0.3).astype(int)
    expected = "".join(
        json.dumps({"row": 7 + i, "removed_probability": float(v), "removed": int(y)}) + "\n"
        for i, (v, y) in enumerate(zip(p, labels, strict=True))
    )
    assert jsonl_lines(7, p, labels) == expected
    odd = np.array([np.nan, 0.5])
    assert jsonl_lines(0, odd, np.array([0, 1])).splitlines()[0] == (
        '{"row": 0, "removed_probability": NaN, "removed": 0}'
    )


def _reference_features(features: TextFeatures, cleaned: list[str]) -> sp.csr_matrix:
    """Each fitted block's matrix the straightforward way, stacked by scipy."""
    analyzed = features.analyze(cleaned)
    blocks = [features.word_.transform(analyzed.tokens)] if features.word_ else []
    if features.char_ is not None:
        char = features.char_
        per_doc = [
            np.concatenate([char._word_indices(w) for w in d] or [np.empty(0, np.int32)])
            for d in analyzed.words
        ]
        counts = _count_matrix(per_doc, [len(c) for c in per_doc], len(char.vocabulary_))
        blocks.append(char._weigh(counts))
    if features.shape_ is not None:
        blocks.append(features.shape_.scale(analyzed.shapes))
    return sp.hstack(blocks, format="csr")


@pytest.mark.parametrize(
    ("preset", "extra"), [("article", {}), ("default", {}), ("default", {"shape_weight": 1.0})]
)
def test_a_comment_scores_as_scikit_learn_scores_its_features(preset: str, extra: dict) -> None:
    """The scoring path (alone or in a batch, few or many comments) gives the probabilities
    scikit-learn's ``predict_proba`` gives on features built the straightforward way."""
    texts = [str(t) for t in demo_dataset().texts[:400]]
    pipeline = build_pipeline(preset)
    pipeline.named_steps["features"].set_params(**extra)
    pipeline.fit(texts, np.arange(len(texts)) % 3 == 0)
    cleaned = pipeline.named_steps["clean"].transform(texts)
    reference = _reference_features(pipeline.named_steps["features"], cleaned)
    expected = pipeline.named_steps["clf"].predict_proba(reference)
    model = TextModel(pipeline=pipeline, threshold=0.5, preset=preset)
    np.testing.assert_array_equal(model.predict_proba(texts), expected)
    np.testing.assert_array_equal(model.predict_proba(texts[:7]), expected[:7])
    np.testing.assert_array_equal(model.predict_proba([texts[9]]), expected[9:10])
    # A comment with no known feature, alone: the classifier's intercept, not an error.
    blank = pipeline.named_steps["clean"].transform([""])
    empty = _reference_features(pipeline.named_steps["features"], blank)
    expected_empty = pipeline.named_steps["clf"].predict_proba(empty)
    np.testing.assert_array_equal(model.predict_proba([""]), expected_empty)


def test_row_products_and_one_comments_blocks_are_scipys_bit_for_bit() -> None:
    """A comment's score sums its features in scipy's order, empty rows included, and one
    comment's feature blocks sit side by side exactly as a batch's do."""
    rng = np.random.default_rng(7)
    lengths = [0, 1, 9, 0, 300, 17]
    data = rng.standard_normal(sum(lengths)) * 10.0 ** rng.integers(-8, 8, sum(lengths))
    rows = Rows(
        data,
        rng.integers(0, 1000, sum(lengths)).astype(np.int32),
        np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32),
        1000,
    )
    weights = rng.standard_normal(1000)
    np.testing.assert_array_equal(rows.dot(weights), rows.to_csr() @ weights)
    nothing = Rows(np.empty(0), np.empty(0, np.int32), np.zeros(3, np.int32), 1000)
    assert nothing.dot(weights).dtype == np.float64
    np.testing.assert_array_equal(nothing.dot(weights), nothing.to_csr() @ weights)
    one = [Rows(rows.data[1:10], rows.indices[1:10], np.array([0, 9], np.int32), 1000)] * 2
    alone, stacked = hstack(one), hstack([vstack([b, b]) for b in one])
    _same(alone.to_csr(), stacked.to_csr()[:1])

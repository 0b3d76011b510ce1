"""Feature extraction from cleaned texts: word n-gram tf-idf, character n-grams, comment shape,
sentence vectors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from modstream.model.sentences import DIMENSIONS, SentenceVectors
from modstream.text import wordgrams
from modstream.text.base import as_texts
from modstream.text.charngrams import WordCharTfidf
from modstream.text.lemmas import LemmaTokenTransformer
from modstream.text.nlp import BLANK
from modstream.text.shape import SHAPE_NAMES, ShapeFeatures
from modstream.text.sparserows import Rows, hstack
from modstream.text.tokens import SpacyTokenTransformer
from modstream.text.words import WordTokenTransformer

TOKENIZERS = ("spacy", "lookup", "words")
CHAR_PREFIX = "char:"


def identity(value: Any) -> Any:
    """Pass-through used as tf-idf tokenizer/preprocessor for pre-tokenized input."""
    return value


def word_vectorizer(
    ngram_range: tuple[int, int],
    max_features: int | None,
    sublinear_tf: bool,
    vocabulary: Sequence[str] | None = None,
) -> TfidfVectorizer:
    """A tf-idf vectorizer over token lists (no re-tokenizing, no lower-casing)."""
    return TfidfVectorizer(
        tokenizer=identity,
        preprocessor=identity,
        token_pattern=None,
        lowercase=False,
        ngram_range=ngram_range,
        max_features=max_features,
        sublinear_tf=sublinear_tf,
        vocabulary=vocabulary,
        dtype=np.float64,
    )


def make_tokenizer(kind: str, spacy_model: str = BLANK, n_process: int = 1) -> Any:
    if kind == "spacy":
        return SpacyTokenTransformer(spacy_model=spacy_model, n_process=n_process)
    if kind == "lookup":
        return LemmaTokenTransformer()
    if kind == "words":
        return WordTokenTransformer()
    raise ValueError(f"unknown tokenizer {kind!r}; choose one of {TOKENIZERS}")


def whitespace_words(texts: Iterable[str]) -> list[list[str]]:
    """Lower-cased whitespace-separated words, punctuation kept (input of char n-grams)."""
    return [t.lower().split() for t in texts]


@dataclass
class Analyzed:
    """What the feature blocks read from cleaned texts, computed once per text.

    Tokenizing is stateless, so cross-validation analyses every row once and each fold
    only fits vocabularies and weights on its own rows.
    """

    tokens: np.ndarray | None
    words: list[list[str]] | None
    shapes: np.ndarray | None
    sentences: np.ndarray | None = None

    def __len__(self) -> int:
        for part in (self.tokens, self.words, self.shapes, self.sentences):
            if part is not None:
                return len(part)
        return 0

    def part(self, name: str) -> Any:
        """``tokens``, ``words``, ``shapes`` or ``sentences``; a clear error if it was not
        analysed."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"the texts were analysed without {name}")
        return value

    def take(self, index: np.ndarray) -> Analyzed:
        """The rows at ``index``, in that order."""
        return Analyzed(
            tokens=None if self.tokens is None else self.tokens[index],
            words=None if self.words is None else [self.words[i] for i in index],
            shapes=None if self.shapes is None else self.shapes[index],
            sentences=None if self.sentences is None else self.sentences[index],
        )


class TextFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Cleaned texts → sparse features, in column order: word n-grams of tokens, character
    n-grams within words, comment-shape columns, sentence vectors (each block optional).

    With only word n-grams this is exactly a token transformer followed by a
    ``TfidfVectorizer`` over its token lists (the reference design's pipeline).
    """

    def __init__(
        self,
        tokenizer: str = "spacy",
        spacy_model: str = BLANK,
        n_process: int = 1,
        word_ngram_range: tuple[int, int] | None = (1, 3),
        word_max_features: int | None = 10_000,
        word_sublinear_tf: bool = False,
        char_ngram_range: tuple[int, int] | None = None,
        char_max_features: int | None = 100_000,
        shape_weight: float | None = None,
        sentence_weight: float | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.spacy_model = spacy_model
        self.n_process = n_process
        self.word_ngram_range = word_ngram_range
        self.word_max_features = word_max_features
        self.word_sublinear_tf = word_sublinear_tf
        self.char_ngram_range = char_ngram_range
        self.char_max_features = char_max_features
        self.shape_weight = shape_weight
        self.sentence_weight = sentence_weight

    def tokenize(self, texts: Sequence[str]) -> np.ndarray:
        tok = make_tokenizer(self.tokenizer, self.spacy_model, self.n_process)
        return np.asarray(tok.transform(texts), dtype=object)

    def analyze(self, X: Iterable[object]) -> Analyzed:
        """Tokens, words and shape measurements of each text, as the configured blocks need."""
        texts = as_texts(X)
        if (self.word_ngram_range, self.char_ngram_range, self.sentence_weight) == (None,) * 3:
            raise ValueError("TextFeatures needs word or character n-grams or sentence vectors")
        return Analyzed(
            tokens=None if self.word_ngram_range is None else self.tokenize(texts),
            words=None if self.char_ngram_range is None else whitespace_words(texts),
            shapes=None if self.shape_weight is None else ShapeFeatures().measure(texts),
            sentences=None if self.sentence_weight is None else SentenceVectors().measure(texts),
        )

    def fit(self, X: Iterable[object], y: object = None) -> TextFeatures:
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Iterable[object], y: object = None, **_: Any) -> sp.csr_matrix:
        return self.fit_analyzed(self.analyze(X))

    def fit_analyzed(self, analyzed: Analyzed) -> sp.csr_matrix:
        """Fit every block on ``analyzed`` rows and return their feature matrix."""
        self.word_: TfidfVectorizer | None = None
        self.char_: WordCharTfidf | None = None
        self.shape_: ShapeFeatures | None = None
        self.sentence_: SentenceVectors | None = None
        parts: list[sp.csr_matrix] = []
        if self.word_ngram_range is not None:
            self.word_ = word_vectorizer(
                tuple(self.word_ngram_range),  # type: ignore[arg-type]
                self.word_max_features,
                self.word_sublinear_tf,
            )
            parts.append(self.word_.fit_transform(analyzed.part("tokens")))
        if self.char_ngram_range is not None:
            self.char_ = WordCharTfidf(
                ngram_range=tuple(self.char_ngram_range),  # type: ignore[arg-type]
                max_features=self.char_max_features,
            )
            parts.append(self.char_.fit_transform(analyzed.part("words")))
        if self.shape_weight is not None:
            self.shape_ = ShapeFeatures(weight=self.shape_weight).fit_measured(
                analyzed.part("shapes")
            )
            parts.append(self.shape_.scale(analyzed.part("shapes")))
        if self.sentence_weight is not None:
            self.sentence_ = SentenceVectors(self.sentence_weight)
            self.sentence_.fit_measured(analyzed.part("sentences"))
            parts.append(self.sentence_.scale(analyzed.part("sentences")))
        self.n_features_in_ = 1
        return _stack(parts)

    def transform(self, X: Iterable[object]) -> sp.csr_matrix:
        return self.transform_analyzed(self.analyze(X))

    def transform_analyzed(self, analyzed: Analyzed) -> sp.csr_matrix:
        """The feature matrix of ``analyzed`` rows under the fitted blocks."""
        return self.transform_rows(analyzed).to_csr()

    def transform_rows(self, analyzed: Analyzed) -> Rows:
        """The feature rows of ``analyzed`` texts, built without scipy's per-call checks;
        bit for bit the matrix the blocks' own ``transform`` methods stack."""
        blocks: list[Rows] = []
        if self.word_ is not None:
            blocks.append(wordgrams.word_rows(self.word_, analyzed.part("tokens")))
        if self.char_ is not None:
            blocks.append(self.char_.transform_rows(analyzed.part("words")))
        if self.shape_ is not None:
            blocks.append(Rows.of(self.shape_.scale(analyzed.part("shapes"))))
        if self.sentence_ is not None:
            blocks.append(Rows.of(self.sentence_.scale(analyzed.part("sentences"))))
        return hstack(blocks)

    def block_widths(self) -> dict[str, int]:
        """Columns of each fitted block, in column order."""
        widths = {}
        if self.word_ is not None:
            widths["word"] = len(self.word_.vocabulary_)
        if self.char_ is not None:
            widths["char"] = len(self.char_.vocabulary_)
        if self.shape_ is not None:
            widths["shape"] = len(SHAPE_NAMES)
        if self.sentence_ is not None:
            widths["sentence"] = DIMENSIONS
        return widths

    def feature_names(self) -> list[str]:
        names: list[str] = []
        if self.word_ is not None:
            names.extend(self.word_.get_feature_names_out().tolist())
        if self.char_ is not None:
            by_index = sorted(self.char_.vocabulary_.items(), key=lambda kv: kv[1])
            names.extend(f"{CHAR_PREFIX}{g}" for g, _ in by_index)
        if self.shape_ is not None:
            names.extend(self.shape_.get_feature_names_out().tolist())
        if self.sentence_ is not None:
            names.extend(self.sentence_.get_feature_names_out().tolist())
        return names


def _stack(parts: list[sp.csr_matrix]) -> sp.csr_matrix:
    if len(parts) == 1:
        return sp.csr_matrix(parts[0])
    return sp.hstack(parts, format="csr")

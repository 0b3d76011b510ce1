"""Plain word tokens (no lemmas): the baseline tokenization of the algorithm comparison."""

from __future__ import annotations

from modstream.text.base import TextTransformer
from modstream.text.lemmas import lemmatize

_NO_LEMMAS: dict[str, str] = {}


class WordTokenTransformer(TextTransformer):
    """Map texts to lists of lower-cased word tokens; URLs become one ``URL`` token."""

    def transform_one(self, text: str) -> list[str]:
        return lemmatize(text, _NO_LEMMAS)

"""Text cleaning: HTML entities, markdown links, ``<U+XXXX>`` escapes, whitespace."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

_MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_UNICODE_ESCAPE = re.compile(r"<U\+([0-9A-Fa-f]{4,6})>")
_WHITESPACE = re.compile(r"\s+")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


def _unescape_codepoint(match: re.Match[str]) -> str:
    value = int(match.group(1), 16)
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return " "
    return chr(value)


def clean_text(text: object) -> str:
    """Return ``text`` as a single cleaned line.

    Markdown links keep both their text and their URL (``[a](u)`` becomes ``a u``) so the
    tokenizer sees the words and one URL token.
    """
    value = "" if text is None else str(text)
    if "&" in value:
        value = html.unescape(value)
    if "<U+" in value:
        value = _UNICODE_ESCAPE.sub(_unescape_codepoint, value)
    if "](" in value:
        value = _MARKDOWN_LINK.sub(r"\1 \2", value)
    value = _ZERO_WIDTH.sub("", value)
    return _WHITESPACE.sub(" ", value).strip()


class CleanTextTransformer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Stateless transformer mapping an iterable of texts to an array of cleaned texts."""

    def fit(self, X: Iterable[object], y: object = None) -> CleanTextTransformer:
        _texts(X)  # validates the input type
        self.n_features_in_ = 1
        return self

    def transform(self, X: Iterable[object]) -> np.ndarray:
        return np.asarray([clean_text(t) for t in _texts(X)], dtype=object)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags


def _texts(X: Iterable[object]) -> Iterable[object]:
    """Accept a 1-D sequence of texts, or a 2-D array with one text column."""
    if hasattr(X, "tocsr") or hasattr(X, "todense"):
        raise TypeError("text transformers take texts, not a sparse matrix")
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        return list(arr[:, 0])
    if arr.ndim == 0:
        return [arr.item()]
    return list(arr)

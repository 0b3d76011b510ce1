"""BERT's uncased WordPiece tokenizer in plain Python, from a vocabulary list.

It follows BERT's basic tokenizer (control characters dropped, accents stripped,
lower-cased, every punctuation character and CJK ideograph its own word, whitespace
split) and then splits each word greedily into the longest vocabulary pieces
(continuations prefixed ``##``; a word that cannot be split, or longer than 100
characters, becomes ``[UNK]``). Words are cached, so a stream of comments costs a
regular-expression split and dictionary look-ups; no Rust tokenizer and no model
package is needed to predict.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

UNKNOWN = "[UNK]"
CONTINUATION = "##"
MAX_WORD_CHARS = 100
_CACHE_LIMIT = 200_000
_ASCII_PUNCT = r"!-/:-@\[-`{-~"
_ASCII_WORDS = re.compile(rf"[{_ASCII_PUNCT}]|[^\s{_ASCII_PUNCT}]+")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _unicode_words(text: str) -> list[str]:
    """Basic-tokenizer words of a text with non-ASCII characters (the slow path)."""
    out: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        code = ord(char)
        category = unicodedata.category(char)
        if char in "\t\n\r" or category == "Zs" or char.isspace():
            out.append(" ")
        elif code == 0 or code == 0xFFFD or category in ("Cc", "Cf", "Mn"):
            continue
        elif _is_cjk(code) or _is_punctuation(char):
            out.append(f" {char} ")
        else:
            out.append(char.lower())  # one by one: no final-sigma rule, as BERT does
    return "".join(out).split()


class WordPiece:
    """Token ids of texts under a BERT uncased vocabulary (ids are list positions)."""

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self.ids = {piece: i for i, piece in enumerate(vocabulary)}
        if UNKNOWN not in self.ids:
            raise ValueError(f"a WordPiece vocabulary needs {UNKNOWN}")
        self.unknown = self.ids[UNKNOWN]
        self.longest = max(len(piece) for piece in vocabulary)
        self._words: dict[str, list[int]] = {}

    def words(self, text: str) -> list[str]:
        """The basic tokenizer's words (punctuation characters are words of their own)."""
        if text.isascii():
            return _ASCII_WORDS.findall(text.lower())
        return _unicode_words(text)

    def encode(self, text: str) -> list[int]:
        """Piece ids of ``text``, without [CLS]/[SEP]."""
        ids: list[int] = []
        cache = self._words
        for word in self.words(text):
            pieces = cache.get(word)
            if pieces is None:
                pieces = self._pieces(word)
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[word] = pieces
            ids.extend(pieces)
        return ids

    def _pieces(self, word: str) -> list[int]:
        if len(word) > MAX_WORD_CHARS:
            return [self.unknown]
        pieces: list[int] = []
        start = 0
        while start < len(word):
            prefix = CONTINUATION if start else ""
            for end in range(min(len(word), start + self.longest), start, -1):
                piece = self.ids.get(prefix + word[start:end])
                if piece is not None:
                    pieces.append(piece)
                    start = end
                    break
            else:
                return [self.unknown]
        return pieces

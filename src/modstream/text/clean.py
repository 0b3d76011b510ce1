"""Text cleaning: HTML entities, markdown links, ``<U+XXXX>`` escapes, whitespace."""

from __future__ import annotations

import html
import re

from modstream.text.base import TextTransformer

_MARKDOWN_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_UNICODE_ESCAPE = re.compile(r"<U\+([0-9A-Fa-f]{4,6})>")
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
    if not value.isascii():
        value = _ZERO_WIDTH.sub("", value)
    # str.split() splits on exactly the characters \s matches, and drops the ends.
    return " ".join(value.split())


class CleanTextTransformer(TextTransformer):
    """Stateless transformer mapping an iterable of texts to an array of cleaned texts."""

    def transform_one(self, text: str) -> str:
        return clean_text(text)

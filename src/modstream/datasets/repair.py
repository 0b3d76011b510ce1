"""Repairing mis-decoded text and recognising leaked moderator boilerplate."""

from __future__ import annotations

import re

_BOILERPLATE = re.compile(
    r"your (?:submission|comment) has been removed"
    r"|this (?:submission|comment) has been (?:automatically )?removed"
    r"|i am a bot"
    r"|this action was performed automatically"
    r"|please \[?contact the moderators"
    r"|^\s*\[(?:removed|deleted)\]\s*$",
    re.IGNORECASE,
)


def repair_text(value: object) -> str:
    """``value`` as text, with mojibake (UTF-8 read as Latin-1/cp1252, etc.) repaired."""
    text = "" if value is None else str(value)
    if text.isascii():
        return text
    import ftfy  # only files with non-ASCII text pay for importing it

    return ftfy.fix_text(text, normalization="NFC", uncurl_quotes=False)


def is_boilerplate(text: str) -> bool:
    """True for moderator or bot text that leaked into the comments."""
    return _BOILERPLATE.search(text) is not None

"""scikit-learn transformers for comment text."""

from __future__ import annotations

from modstream.text.clean import CleanTextTransformer, clean_text
from modstream.text.tokens import SpacyTokenTransformer

__all__ = ["CleanTextTransformer", "SpacyTokenTransformer", "clean_text"]

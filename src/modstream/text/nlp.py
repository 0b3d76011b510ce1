"""Loading the spaCy pipeline: blank English with lookup lemmas, or any installed model."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from modstream.errors import ModstreamError

BLANK = "blank:en"


@lru_cache(maxsize=4)
def load_nlp(name: str = BLANK) -> Any:
    """Return a spaCy ``Language`` with only what tokens and lemmas need.

    ``blank:en`` is ``spacy.blank("en")`` plus the lookup lemmatizer from
    ``spacy-lookups-data``; any other name is loaded with ``spacy.load`` and its
    parser and NER are disabled.
    """
    import spacy

    if name == BLANK:
        nlp = spacy.blank("en")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        return nlp
    try:
        return spacy.load(name, exclude=["parser", "ner", "textcat", "senter"])
    except OSError as exc:
        raise ModstreamError(
            f"spaCy model {name!r} is not installed; install it or use the default {BLANK!r}",
            status=400,
            reason="SPACY_MODEL_MISSING",
        ) from exc

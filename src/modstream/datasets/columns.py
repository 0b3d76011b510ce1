"""Finding text and label columns by name, and parsing 0/1 or True/False labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from modstream.errors import DataError

_TRUE = {"1", "true", "1.0", "yes"}
_FALSE = {"0", "false", "0.0", "no"}


def find_column(
    frame: pd.DataFrame, wanted: str | None, candidates: Sequence[str], role: str, flag: str
) -> str:
    """The column named ``wanted`` (or the first of ``candidates``), case-insensitively."""
    by_lower = {str(c).strip().lower(): str(c) for c in frame.columns}
    names = [wanted] if wanted else list(candidates)
    for name in names:
        if name.lower() in by_lower:
            return by_lower[name.lower()]
    have = ", ".join(repr(str(c)) for c in frame.columns)
    if wanted:
        raise DataError(f"no column named {wanted!r} (columns: {have})")
    raise DataError(
        f"no {role} column found (looked for {', '.join(candidates)}; columns: {have}); "
        f"name it with {flag}"
    )


def parse_labels(column: pd.Series, name: str) -> np.ndarray:
    """0/1 int labels from 0/1, True/False (any case) values; anything else is an error."""
    values = column.map(lambda v: str(v).strip().lower())
    positive = values.isin(_TRUE).to_numpy()
    negative = values.isin(_FALSE).to_numpy()
    bad = ~(positive | negative)
    if bad.any():
        rows = np.flatnonzero(bad)
        examples = sorted({str(column.iloc[i]) for i in rows[:20]})[:5]
        raise DataError(
            f"column {name!r} has {int(bad.sum())} label(s) other than 0/1/True/False "
            f"(e.g. {', '.join(repr(e) for e in examples)}; first at data row {int(rows[0]) + 1})"
        )
    return positive.astype(np.int64)

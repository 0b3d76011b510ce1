"""Scoring a whole file in chunks: bounded memory, progress bar, JSONL in input order.

Every chunk goes through the data plane, so a file is scored exactly as the servers and the
stream worker would score the same texts (truncation included).
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from modstream.datasets import iter_text_chunks
from modstream.facts import Scores

if TYPE_CHECKING:
    from modstream.dataplane import DataPlane


def score_file(
    plane: DataPlane,
    source: str | Path,
    output: str | Path,
    *,
    text_column: str | None = None,
    encoding: str = "auto",
    chunk_rows: int = 2048,
    progress: bool = True,
) -> tuple[int, int]:
    """Write ``{"row", "removed_probability", "removed"}`` per input row.

    Returns the row count and how many texts were cut at the plane's text limit.
    """
    row = truncated = 0
    with ExitStack() as stack:
        out = (
            sys.stdout
            if str(output) == "-"
            else stack.enter_context(open(output, "w", encoding="utf-8"))
        )
        bar = stack.enter_context(tqdm(unit=" rows", disable=not progress, file=sys.stderr))
        for texts in iter_text_chunks(
            source, text_column=text_column, encoding=encoding, chunk_rows=chunk_rows
        ):
            scores = plane.score(texts)
            out.write(jsonl_lines(row, scores.p_removed, _labels(scores)))
            row += len(texts)
            truncated += len(scores.truncated)
            bar.update(len(texts))
    return row, truncated


def _labels(scores: Scores) -> np.ndarray:
    return (scores.p_removed >= scores.model.threshold).astype(int)


def jsonl_lines(first_row: int, p_removed: np.ndarray, labels: np.ndarray) -> str:
    """The JSON lines of a chunk, exactly as ``json.dumps`` writes each row's object.

    Formatting finite floats with ``repr`` is what ``json.dumps`` does, without building
    a dict and running the encoder per row.
    """
    rows = range(first_row, first_row + len(p_removed))
    if not np.isfinite(p_removed).all():
        objects = zip(rows, p_removed.tolist(), labels.tolist(), strict=True)
        return "".join(
            json.dumps({"row": r, "removed_probability": p, "removed": y}) + "\n"
            for r, p, y in objects
        )
    return "".join(
        f'{{"row": {r}, "removed_probability": {p!r}, "removed": {y}}}\n'
        for r, p, y in zip(rows, p_removed.tolist(), labels.tolist(), strict=True)
    )

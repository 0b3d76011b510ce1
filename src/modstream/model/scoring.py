"""Scoring a whole file in chunks: bounded memory, progress bar, JSONL in input order."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from tqdm import tqdm

from modstream.datasets import iter_text_chunks
from modstream.model.textmodel import TextModel


def score_file(
    model: TextModel,
    source: str | Path,
    output: str | Path,
    *,
    text_column: str | None = None,
    encoding: str = "auto",
    chunk_rows: int = 2048,
    progress: bool = True,
) -> int:
    """Write ``{"row", "removed_probability", "removed"}`` per input row; return the row count."""
    row = 0
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
            row = _write_chunk(model, texts, row, out)
            bar.update(len(texts))
    return row


def _write_chunk(model: TextModel, texts: list[str], first_row: int, out: IO[str]) -> int:
    p_removed = model.predict_proba(texts)[:, 1]
    labels = model.labels(p_removed)
    lines = [
        json.dumps({"row": first_row + i, "removed_probability": float(p), "removed": int(y)})
        for i, (p, y) in enumerate(zip(p_removed, labels, strict=True))
    ]
    if lines:
        out.write("\n".join(lines) + "\n")
    return first_row + len(texts)

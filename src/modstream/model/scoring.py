"""Scoring a whole file in chunks: bounded memory, progress bar, JSONL in input order.

Every chunk goes through the data plane, so a file is scored exactly as the servers and the
stream worker would score the same texts (truncation included). With ``jobs`` > 1, chunks
are scored by that many forked processes (each with the model the parent loaded) while the
parent reads the file and writes the lines in input order; the output is the same bytes.
"""

from __future__ import annotations

import json
import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from modstream.datasets import iter_text_chunks
from modstream.errors import ModelError
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
    jobs: int = 1,
) -> tuple[int, int]:
    """Write ``{"row", "removed_probability", "removed"}`` per input row.

    Returns the row count and how many texts were cut at the plane's text limit.
    """
    row = truncated = 0
    with ExitStack() as stack:
        chunks = iter_text_chunks(
            source, text_column=text_column, encoding=encoding, chunk_rows=chunk_rows
        )
        # The processes are forked first, before the progress bar's thread exists.
        scored = _scored(plane, chunks) if jobs <= 1 else _scored_apart(plane, chunks, jobs, stack)
        out = (
            sys.stdout
            if str(output) == "-"
            else stack.enter_context(open(output, "w", encoding="utf-8"))
        )
        bar = stack.enter_context(tqdm(unit=" rows", disable=not progress, file=sys.stderr))
        for scores in scored:
            out.write(jsonl_lines(row, scores.p_removed, _labels(scores)))
            row += len(scores)
            truncated += len(scores.truncated)
            bar.update(len(scores))
    return row, truncated


def _scored(plane: DataPlane, chunks: Iterable[list[str]]) -> Iterator[Scores]:
    for texts in chunks:
        yield plane.score(texts)


_PLANE: DataPlane | None = None  # in a scoring process: the plane it was forked with


def _scored_apart(
    plane: DataPlane, chunks: Iterable[list[str]], jobs: int, stack: ExitStack
) -> Iterator[Scores]:
    """The chunks' scores in order, each chunk scored in one of ``jobs`` forked processes;
    at most two chunks per process are read ahead, so memory stays bounded."""
    pool = ProcessPoolExecutor(
        jobs,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_adopt,
        initargs=(plane,),
    )
    stack.callback(pool.shutdown, wait=True, cancel_futures=True)
    pool.submit(int).result()  # fork every process now, while this one has no other thread
    return _in_order(pool, chunks, 2 * jobs)


def _in_order(
    pool: ProcessPoolExecutor, chunks: Iterable[list[str]], ahead: int
) -> Iterator[Scores]:
    pending: deque[Future[Scores]] = deque()
    for texts in chunks:
        pending.append(pool.submit(_score_chunk, texts))
        if len(pending) >= ahead:
            yield _result(pending.popleft())
    while pending:
        yield _result(pending.popleft())


def _result(future: Future[Scores]) -> Scores:
    try:
        return future.result()
    except BrokenProcessPool as exc:  # killed, or out of memory
        raise ModelError(
            f"a scoring process ended before its chunk was scored ({exc}); "
            "the output holds the rows before that chunk only"
        ) from exc


def _adopt(plane: DataPlane) -> None:
    """A scoring process's start: keep the parent's plane; Ctrl-C is the parent's to handle."""
    global _PLANE
    _PLANE = plane
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _score_chunk(texts: list[str]) -> Scores:
    assert _PLANE is not None
    return _PLANE.score(texts)


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

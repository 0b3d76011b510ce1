"""Dataset readers: the r/science Kaggle CSVs, the 200k layout, generic CSV and JSONL.

Columns are found by name, case-insensitively; labels may be 0/1 or True/False. Text
mis-decoded upstream is repaired, empty rows and exact duplicates are dropped (and
counted), and leaked moderator boilerplate can be dropped on request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modstream.checksum import sha256_file
from modstream.datasets.columns import find_column, parse_labels
from modstream.datasets.fetch import require_file, resolve_source
from modstream.datasets.repair import is_boilerplate, repair_text
from modstream.errors import DataError

TEXT_NAMES = ("body", "text", "comment", "content")
LABEL_NAMES = ("removed", "label", "target", "y")


@dataclass
class Dataset:
    """Texts, 0/1 labels, and a report of what reading did to the file."""

    texts: list[str]
    labels: np.ndarray
    sha256: str
    report: dict[str, Any] = field(default_factory=dict)


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in {".jsonl", ".ndjson", ".json"}


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> DataError:
    return DataError(
        f"{path}: bytes at offset {exc.start} are not valid {encoding}; "
        "pass --encoding latin-1 (or the file's encoding)"
    )


def read_frame(path: Path, encoding: str = "auto", nrows: int | None = None) -> pd.DataFrame:
    """Read a whole CSV/JSONL as strings. ``auto``: UTF-8, else Latin-1 for CSV (Kaggle)."""
    require_file(path)
    try:
        if _is_jsonl(path):
            enc = "utf-8" if encoding == "auto" else encoding
            try:
                return pd.read_json(path, lines=True, dtype=False, encoding=enc, nrows=nrows)
            except UnicodeDecodeError as exc:
                raise _decode_error(path, enc, exc) from exc
        for enc in ["utf-8", "latin-1"] if encoding == "auto" else [encoding]:
            try:
                return pd.read_csv(
                    path, encoding=enc, dtype=str, keep_default_na=False, nrows=nrows
                )
            except UnicodeDecodeError as exc:
                if encoding != "auto":
                    raise _decode_error(path, enc, exc) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file has no rows") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"{path}: cannot be parsed: {str(exc).splitlines()[0]}") from exc
    raise DataError(f"{path}: cannot be decoded")


def read_dataset(
    source: str | Path,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    encoding: str = "auto",
    sha256: str | None = None,
    drop_boilerplate: bool = False,
    keep_duplicates: bool = False,
) -> Dataset:
    """Read a labelled dataset from a path or an ``http(s)://`` URL (with ``sha256``)."""
    path = resolve_source(str(source), sha256)
    frame = read_frame(path, encoding)
    if frame.empty:
        raise DataError(f"{path}: the file has a header but no rows")
    text_col = find_column(frame, text_column, TEXT_NAMES, "text", "--text-column")
    label_col = find_column(frame, label_column, LABEL_NAMES, "label", "--label-column")
    labels = parse_labels(frame[label_col], label_col)
    texts = [repair_text(v) for v in frame[text_col].tolist()]
    report: dict[str, Any] = {"source": str(source), "rows_read": len(texts)}
    keep = np.array([bool(t.strip()) for t in texts])
    report["empty_dropped"] = int((~keep).sum())
    if drop_boilerplate:
        boiler = np.array([is_boilerplate(t) for t in texts])
        report["boilerplate_dropped"] = int((boiler & keep).sum())
        keep &= ~boiler
    if not keep_duplicates:
        dup = pd.Series(texts).duplicated().to_numpy()
        report["duplicates_dropped"] = int((dup & keep).sum())
        keep &= ~dup
    texts = [t for t, k in zip(texts, keep, strict=True) if k]
    labels = labels[keep]
    report["rows_kept"] = len(texts)
    report["removed_rate"] = float(labels.mean()) if len(labels) else 0.0
    if len(texts) == 0:
        raise DataError(f"{path}: no usable rows are left after cleaning")
    if len(np.unique(labels)) < 2:
        raise DataError(
            f"{path}: every row has label {int(labels[0])}; training needs both classes"
        )
    return Dataset(texts=texts, labels=labels, sha256=sha256_file(path), report=report)


def iter_text_chunks(
    source: str | Path,
    *,
    text_column: str | None = None,
    encoding: str = "auto",
    sha256: str | None = None,
    chunk_rows: int = 2048,
) -> Iterator[list[str]]:
    """Stream a file's texts in chunks of ``chunk_rows`` (bounded memory), in file order.

    Every row is kept (row numbers stay aligned with the file); empty texts stay empty.
    """
    path = resolve_source(str(source), sha256)
    head = read_frame(path, encoding, nrows=5)
    text_col = find_column(head, text_column, TEXT_NAMES, "text", "--text-column")
    enc = encoding
    if encoding == "auto":
        enc = "utf-8" if _is_jsonl(path) or _utf8_prefix(path) else "latin-1"
    if _is_jsonl(path):
        reader: Any = pd.read_json(
            path, lines=True, dtype=False, encoding=enc, chunksize=chunk_rows
        )
    else:
        reader = pd.read_csv(
            path,
            encoding=enc,
            dtype=str,
            keep_default_na=False,
            chunksize=chunk_rows,
            usecols=[text_col],
        )
    try:
        for chunk in reader:
            yield [repair_text(v) for v in chunk[text_col].tolist()]
    except UnicodeDecodeError as exc:
        raise _decode_error(path, enc, exc) from exc


def _utf8_prefix(path: Path, size: int = 1 << 22) -> bool:
    with open(path, "rb") as fh:
        data = fh.read(size)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(data) - 4
    return True

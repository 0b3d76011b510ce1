"""Reading labelled comment datasets (r/science Kaggle layouts, generic CSV/JSONL).

Names are imported on first use, so checking a source (``datasets.fetch``) does not import
pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modstream._lazy import lazy_attributes

if TYPE_CHECKING:
    from modstream.datasets.reader import Dataset, iter_text_chunks, read_dataset

_HOMES = {"Dataset": "reader", "iter_text_chunks": "reader", "read_dataset": "reader"}
__all__ = ["Dataset", "iter_text_chunks", "read_dataset"]

__getattr__ = lazy_attributes(__name__, _HOMES)

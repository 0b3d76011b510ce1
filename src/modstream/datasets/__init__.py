"""Reading labelled comment datasets (r/science Kaggle layouts, generic CSV/JSONL)."""

from __future__ import annotations

from modstream.datasets.reader import Dataset, iter_text_chunks, read_dataset

__all__ = ["Dataset", "iter_text_chunks", "read_dataset"]

"""A small demo corpus written for modstream (not taken from any dataset)."""

from __future__ import annotations

from modstream.demo.corpus import demo_dataset, write_demo_csv

__all__ = ["demo_dataset", "write_demo_csv"]

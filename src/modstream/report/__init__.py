"""The training report: one self-contained HTML file with the data, scores and plots."""

from __future__ import annotations

from modstream.report.training import build_report, write_report

__all__ = ["build_report", "write_report"]

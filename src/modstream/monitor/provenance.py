"""Where a labelled CSV's labels came from: the sidecar ``modstream export`` writes.

Kept apart from the exporter (no Kafka client) because training reads it for every
``--data`` file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["LABELS_SUFFIX", "label_provenance"]

LABELS_SUFFIX = ".labels.json"


def label_provenance(data: str, sha256: str) -> dict[str, Any]:
    """``{"labels": ...}`` when ``data`` is an export whose provenance matches it, else ``{}``."""
    sidecar = Path(f"{data}{LABELS_SUFFIX}")
    if "://" in data or not sidecar.is_file():
        return {}
    try:
        provenance = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(provenance, dict) or provenance.get("csv_sha256") != sha256:
        return {}  # the CSV was edited after the export: its labels' origin is unknown
    return {"labels": provenance}

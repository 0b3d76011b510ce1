"""A model artifact's manifest, read and verified without the model's libraries.

``read_manifest`` checks everything but the arrays' contents: the manifest's own checksum,
its format version, and every listed file's checksum. ``modstream up`` calls it before it
starts anything, so a ``--model`` that is no model fails at once; ``load_model`` calls it
before decoding the arrays.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from modstream import __version__
from modstream.checksum import sha256_file
from modstream.errors import ArtifactError

FORMAT = "modstream-model"
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
VOCABULARY = "vocabulary.json"
ARRAYS = "arrays.npz"


def manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The verified manifest of the artifact at ``path``."""
    root = Path(path)
    if not (root / MANIFEST).is_file():
        raise ArtifactError(f"no model artifact at {root} (missing {MANIFEST})")
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{root / MANIFEST} is unreadable or truncated: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{root} is not a modstream model artifact")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"{root} has artifact format {version}; this modstream {__version__} reads "
            f"format {FORMAT_VERSION} only: retrain or use a matching modstream version"
        )
    if manifest.get("manifest_sha256") != manifest_checksum(manifest):
        raise ArtifactError(f"{root / MANIFEST} was modified after it was written (checksum)")
    for name, expected in manifest.get("files", {}).items():
        file = root / name
        if not file.is_file():
            raise ArtifactError(f"{root} is incomplete: {name} is missing")
        if sha256_file(file) != expected:
            raise ArtifactError(f"{file} does not match its checksum: tampered or truncated")
    return manifest  # type: ignore[no-any-return]

"""Model artifacts: a directory of JSON and NumPy arrays that loads without running stored code.

Layout::

    manifest.json     versions, classes, threshold, metrics, data hash, file checksums
    vocabulary.json   feature vocabularies, in column order
    arrays.npz        idf vectors and classifier weights (loaded with allow_pickle=False)

The manifest carries its own checksum; loading verifies every checksum and shape and
refuses anything else with an ``ArtifactError``. Saving writes a temporary sibling
directory and renames it into place, so a failure never leaves half an artifact.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from modstream import __version__
from modstream.checksum import sha256_file
from modstream.errors import ArtifactError
from modstream.model.codec import decode_pipeline, encode_pipeline
from modstream.model.manifest import (
    ARRAYS,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    VOCABULARY,
    manifest_checksum,
    read_manifest,
)
from modstream.model.textmodel import CLASS_NAMES, TextModel


def library_versions() -> dict[str, str]:
    import scipy
    import sklearn
    import spacy

    return {
        "modstream": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "spacy": spacy.__version__,
    }


def save_model(model: TextModel, out: str | Path) -> Path:
    """Write ``model`` to directory ``out`` atomically; returns the path."""
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        params, vocab, arrays = encode_pipeline(model.pipeline)
        (tmp / VOCABULARY).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        with open(tmp / ARRAYS, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": model.name,
            "version": model.version,
            "preset": model.preset,
            "created_at": model.created_at,
            "class_names": list(CLASS_NAMES),
            "threshold": model.threshold,
            "metrics": model.metrics,
            "training": model.training,
            "libraries": library_versions(),
            "pipeline": params,
            "files": {name: sha256_file(tmp / name) for name in (VOCABULARY, ARRAYS)},
        }
        manifest["manifest_sha256"] = manifest_checksum(manifest)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        _replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _replace_dir(new: Path, target: Path) -> None:
    for path in new.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)


def load_model(path: str | Path) -> TextModel:
    """Load and verify the artifact at ``path``; raise ``ArtifactError`` if anything is off."""
    root = Path(path)
    manifest = read_manifest(root)
    try:
        vocab = json.loads((root / VOCABULARY).read_text(encoding="utf-8"))
        with np.load(root / ARRAYS, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        pipeline = decode_pipeline(manifest["pipeline"], vocab, arrays)
    except ArtifactError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{root} cannot be loaded: {exc}") from exc
    return TextModel(
        pipeline=pipeline,
        threshold=float(manifest["threshold"]),
        preset=str(manifest["preset"]),
        name=str(manifest["name"]),
        version=str(manifest["version"]),
        metrics=manifest.get("metrics", {}),
        training=manifest.get("training", {}),
        created_at=str(manifest.get("created_at", "")),
    )

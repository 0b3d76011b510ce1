"""Where published artifacts live: a directory store, or http(s) URLs, pinned by SHA-256.

A version's digest is the SHA-256 of its ``manifest.json``. The manifest holds the
checksums of the artifact's other files and of itself, so the digest pins every byte:
an instance verifies the digest, then ``load_model`` verifies the files against the
manifest. Artifacts at a URL are downloaded once into ``<cache>/models/<digest>/``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from modstream.checksum import sha256_file
from modstream.errors import ArtifactError
from modstream.model.manifest import ARRAYS, MANIFEST, VOCABULARY, read_manifest

ARTIFACT_FILES = (MANIFEST, VOCABULARY, ARRAYS)

__all__ = ["artifact_digest", "copy_into_store", "is_url", "local_artifact"]


def is_url(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def artifact_digest(path: str | Path) -> str:
    """The SHA-256 of the artifact's manifest (which pins its other files)."""
    manifest = Path(path) / MANIFEST
    if not manifest.is_file():
        raise ArtifactError(f"no model artifact at {path} (missing {MANIFEST})")
    return sha256_file(manifest)


def copy_into_store(source: Path, store: Path, manifest: dict[str, Any]) -> Path:
    """Copy a verified artifact to ``<store>/<name>/<version>``; returns that directory.

    An existing copy with the same digest is reused; one with another digest is refused,
    because a version must always mean the same bytes.
    """
    target = store / str(manifest["name"]) / str(manifest["version"])
    digest = artifact_digest(source)
    if target.exists():
        if (target / MANIFEST).is_file() and artifact_digest(target) == digest:
            return target
        raise ArtifactError(
            f"{target} already holds another artifact for version {manifest['version']!r}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name in ARTIFACT_FILES:
            shutil.copyfile(source / name, tmp / name)
        if artifact_digest(tmp) != digest:
            raise ArtifactError(f"{source} changed while it was being copied")
        read_manifest(tmp)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def local_artifact(uri: str, sha256: str, cache: Path) -> Path:
    """A local directory holding the artifact ``uri`` whose manifest digest is ``sha256``.

    Raises ``ArtifactError`` when it cannot be found, downloaded, or its digest differs.
    """
    if is_url(uri):
        path = _downloaded(uri, sha256, cache / "models" / sha256)
    else:
        path = Path(urlparse(uri).path if uri.startswith("file://") else uri)
    _check_digest(uri, path, sha256)
    return path


def _check_digest(uri: str, path: Path, sha256: str) -> None:
    actual = artifact_digest(path)
    if actual != sha256:
        raise ArtifactError(
            f"{uri}: checksum mismatch (manifest SHA-256 {actual[:12]}…, published "
            f"{sha256[:12]}…): tampered, truncated or replaced"
        )


def _downloaded(url: str, sha256: str, target: Path) -> Path:
    if (target / MANIFEST).is_file() and artifact_digest(target) == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    base = url if url.endswith("/") else url + "/"
    try:
        for name in ARTIFACT_FILES:
            _download(base + name, tmp / name)
            if name == MANIFEST:  # refuse before fetching the large files
                _check_digest(url, tmp, sha256)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _download(url: str, out: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(out, "wb") as fh:
            shutil.copyfileobj(response, fh, 1 << 20)
    except (urllib.error.URLError, OSError) as exc:
        raise ArtifactError(f"cannot download {url}: {exc}") from exc

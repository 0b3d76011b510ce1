"""Publishing: verify an artifact completely, store it, and announce its version.

A version is published only if an instance could run it: the artifact's checksums
verify, it is the expected model with the expected classes, and it gives a sane
warm-up prediction (the same checks every instance repeats before switching to it).
"""

from __future__ import annotations

from pathlib import Path

from modstream.errors import ArtifactError, InvalidInput
from modstream.model.manifest import read_manifest
from modstream.registry import events as ev
from modstream.registry.client import Registry
from modstream.registry.events import ModelEvent
from modstream.registry.loader import load_version
from modstream.registry.state import VersionEntry
from modstream.registry.store import artifact_digest, copy_into_store, is_url, local_artifact

__all__ = ["publish"]


def publish(
    registry: Registry,
    source: str,
    *,
    cache: Path,
    sha256: str | None = None,
    store: Path | None = None,
    model_name: str | None = None,
) -> ModelEvent:
    """Verify the artifact at ``source`` (a directory or base URL) and publish its version.

    A directory is copied into ``store`` when one is given (else referenced where it is);
    a URL needs ``sha256``, the digest of its ``manifest.json``. Returns the event.
    """
    path, uri = _locate(source, sha256, cache, store)
    digest = artifact_digest(path)
    if sha256 and sha256.lower() != digest:
        raise ArtifactError(f"{source}: checksum mismatch (manifest SHA-256 is {digest})")
    entry, name = _entry(path, uri, digest)
    if model_name is not None and name != model_name:
        raise ArtifactError(f"incompatible artifact: it is model {name!r}, not {model_name!r}")
    load_version(entry, model_name=name, cache=cache)  # refuse what an instance would refuse
    registry.ensure_topics()
    known = registry.state().model(name).versions.get(entry.version)
    if known is not None and known.sha256 != digest:
        raise ArtifactError(
            f"version {entry.version!r} of {name!r} is already published with another "
            f"artifact (SHA-256 {known.sha256[:12]}…); retrain to get a new version"
        )
    event = ModelEvent(
        ev.PUBLISHED,
        name,
        entry.version,
        uri=uri,
        sha256=digest,
        preset=entry.preset,
        threshold=entry.threshold,
        created_at=entry.created_at,
    )
    registry.record(event)
    return event


def _locate(source: str, sha256: str | None, cache: Path, store: Path | None) -> tuple[Path, str]:
    """The local directory to verify and the URI instances will load from."""
    if is_url(source):
        if not sha256:
            raise InvalidInput("an artifact URL needs --sha256 (of its manifest.json)")
        return local_artifact(source, sha256.lower(), cache), source
    path = Path(source).resolve()
    if store is not None:
        path = copy_into_store(path, store.resolve(), read_manifest(path))
    return path, str(path)


def _entry(path: Path, uri: str, digest: str) -> tuple[VersionEntry, str]:
    manifest = read_manifest(path)
    entry = VersionEntry(
        version=str(manifest["version"]),
        uri=uri,
        sha256=digest,
        preset=str(manifest["preset"]),
        threshold=float(manifest["threshold"]),
        created_at=str(manifest.get("created_at", "")),
        published_at=ev.now(),
    )
    return entry, str(manifest["name"])

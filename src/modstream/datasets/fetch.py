"""``--data https://...``: download once into a cache, verify its SHA-256, refuse a mismatch."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from modstream.checksum import sha256_file
from modstream.errors import DataError
from modstream.settings.data import DataSettings


def resolve_source(source: str, sha256: str | None = None) -> Path:
    """A local path for ``source``: the path itself, or the cached, verified download."""
    if not source.startswith(("http://", "https://")):
        path = Path(source)
        if sha256 is not None:
            _verify(path, sha256)
        return path
    if not sha256:
        raise DataError("a URL needs --sha256 so the download can be verified")
    cache = DataSettings().cache_dir / "data"
    cache.mkdir(parents=True, exist_ok=True)
    name = Path(urlparse(source).path).name or "data"
    target = cache / f"{sha256.lower()[:16]}-{name}"
    if target.is_file() and sha256_file(target) == sha256.lower():
        return target
    _download(source, target, sha256.lower())
    return target


def require_file(path: Path) -> None:
    """Raise ``DataError`` unless ``path`` is a file with something in it."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")


def _verify(path: Path, sha256: str) -> None:
    require_file(path)
    actual = sha256_file(path)
    if actual != sha256.lower():
        raise DataError(f"{path}: SHA-256 is {actual}, expected {sha256.lower()}")


def _download(url: str, target: Path, sha256: str) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=".download-", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            shutil.copyfileobj(resp, out, 1 << 20)
        actual = sha256_file(tmp)
        if actual != sha256:
            raise DataError(f"download of {url} has SHA-256 {actual}, expected {sha256}: refused")
        os.replace(tmp, target)
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(f"cannot download {url}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)

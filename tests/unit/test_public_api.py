"""The package's declared Python API: what ``import modstream`` offers, that it stays
cheap to import, and that every name a package lists in ``__all__`` exists."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import modstream

# Changing this list is changing the public API: do it on purpose, with the docs.
PUBLIC = [
    "CLASS_NAMES",
    "ArtifactError",
    "DataPlane",
    "Dataset",
    "InvalidInput",
    "ModelError",
    "ModelFacts",
    "ModstreamError",
    "NotReady",
    "PayloadTooLarge",
    "Scores",
    "ServeSettings",
    "StreamSettings",
    "TextModel",
    "TrainResult",
    "__version__",
    "load_model",
    "read_dataset",
    "save_model",
    "train",
]


def test_the_top_level_api_is_the_declared_one() -> None:
    assert modstream.__all__ == PUBLIC
    assert dir(modstream) == sorted(PUBLIC)  # what completion in a notebook offers
    for name in PUBLIC:
        assert getattr(modstream, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'Worker'"):
        modstream.Worker  # noqa: B018


def test_importing_the_package_imports_no_heavy_dependency() -> None:
    probe = (
        "import sys, modstream; "
        "print(sorted(m for m in ('sklearn', 'spacy', 'pandas', 'confluent_kafka', 'grpc') "
        "if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


def _packages() -> list[str]:
    found = ["modstream"]
    for info in pkgutil.iter_modules(modstream.__path__, "modstream."):
        if info.ispkg:
            found.append(info.name)
    return found


@pytest.mark.parametrize("package", _packages())
def test_every_name_a_package_declares_exists(package: str) -> None:
    module = importlib.import_module(package)
    declared = getattr(module, "__all__", [])
    missing = [name for name in declared if not hasattr(module, name)]
    assert missing == []

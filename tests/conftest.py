"""Shared fixtures: small real models trained on the project's demo corpus, and the dev data."""

from __future__ import annotations

from pathlib import Path

import pytest

from modstream.demo import demo_dataset
from modstream.model import TextModel, load_model, save_model, train_model

# The Apache Kafka harness's fixtures (``kafka``, ``kafka_cluster``) and failure-log hook.
pytest_plugins = ("tests.kafka.fixtures",)

# ../shared beside the checkout; a git worktree one level deeper finds it one level up.
_CANDIDATES = [
    p / "shared" / "data" / "rscience_dev.csv" for p in Path(__file__).resolve().parents[2:4]
]
DEV_CSV = next((c for c in _CANDIDATES if c.is_file()), _CANDIDATES[0])

needs_dev_data = pytest.mark.skipif(
    not DEV_CSV.is_file(),
    reason=f"the r/science dev sample is not at {DEV_CSV} (it lives in ../shared, outside the repo)",
)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default-preset artifact trained on the demo corpus, saved once per test session."""
    model = train_model(demo_dataset(), "default", n_jobs=1)
    return save_model(model, tmp_path_factory.mktemp("models") / "demo-default")


@pytest.fixture(scope="session")
def model(model_dir: Path) -> TextModel:
    return load_model(model_dir)

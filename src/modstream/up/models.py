"""The model ``modstream up`` runs: the one given, one trained on ``--data``, or the demo model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model stack is imported when a model is prepared (see ``up``)
    from modstream.model import TextModel

DEMO_NOTE = (
    "DEMO model: trained just now on modstream's built-in sample corpus (comments written "
    "for the project). It shows how modstream works; it knows nothing about real moderation."
)


@dataclass(frozen=True)
class ModelChoice:
    """A saved artifact the children load, the same model in memory, and where it came from."""

    path: Path
    model: TextModel
    demo: bool
    origin: str

    def describe(self) -> str:
        label = "DEMO model" if self.demo else "model"
        return f'{label} "{self.model.name}" v{self.model.version} ({self.origin})'


def check_sources(model_dir: str | None, data: str | None) -> None:
    """Raise now if the ``--model`` is no model or the ``--data`` no file, before anything
    starts: a model's manifest and checksums are read without the model's libraries."""
    if model_dir:
        from modstream.model.manifest import read_manifest

        read_manifest(model_dir)
    elif data:
        from modstream.datasets.fetch import require_file, resolve_source

        require_file(resolve_source(data))


def prepare_model(
    *,
    model_dir: str | None,
    data: str | None,
    text_column: str | None,
    label_column: str | None,
    preset: str,
    workdir: Path,
    say: Callable[[str], None],
) -> ModelChoice:
    """Load ``model_dir``, or train ``preset`` on ``data`` or on the demo corpus."""
    from modstream.model import load_model, save_model, train_model

    if model_dir:
        path = Path(model_dir)
        say(f"loading the model in {path}")
        return ModelChoice(path, load_model(path), demo=False, origin=f"loaded from {path}")
    if data:
        from modstream.datasets import read_dataset

        say(f"reading {data} to train a {preset!r} model")
        dataset = read_dataset(data, text_column=text_column, label_column=label_column)
        origin = f"trained at start-up on {len(dataset.texts):,} rows of {data}"
        demo = False
    else:
        from modstream.demo import demo_dataset

        dataset = demo_dataset()
        say(
            f"no --model or --data: training a DEMO model on the built-in sample corpus "
            f"({len(dataset.texts)} comments written for modstream)"
        )
        origin = "trained at start-up on modstream's built-in demo corpus; not real moderation"
        demo = True
    model = train_model(dataset, preset, n_jobs=1)
    path = save_model(model, workdir / "model")
    say(f"model saved in {path}")
    return ModelChoice(path, model, demo=demo, origin=origin)

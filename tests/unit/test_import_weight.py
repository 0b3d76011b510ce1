"""What each kind of process imports: ``--help`` loads no heavy library, and a serving or
streaming process loads the model without the training stack (fresh interpreters)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY_FOR_HELP = (
    "numpy",
    "pandas",
    "sklearn",
    "scipy",
    "spacy",
    "matplotlib",
    "pydantic",
    "yaml",
    "confluent_kafka",
    "grpc",
    "starlette",
    "uvicorn",
)
# pandas is not listed: scikit-learn imports it on its own whenever it is installed
TRAINING_STACK = (
    "matplotlib",
    "tqdm",
    "modstream.datasets",
    "modstream.model.train",
    "modstream.model.compare",
    "modstream.report",
)


def _imported(code: str, names: tuple[str, ...]) -> list[str]:
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([n for n in {names!r} if n in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_building_the_command_line_imports_no_heavy_library() -> None:
    code = "from modstream.cli import build_parser\nbuild_parser()"
    assert _imported(code, HEAVY_FOR_HELP) == []


@pytest.mark.parametrize(
    "command", ["train", "predict", "evaluate", "compare", "serve", "stream", "deploy", "up"]
)
def test_a_commands_help_imports_no_heavy_library(command: str) -> None:
    code = (
        "import contextlib, io\nfrom modstream.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main([{command!r}, '--help'])"
    )
    assert _imported(code, HEAVY_FOR_HELP) == []


def test_serving_and_streaming_load_a_model_without_the_training_stack(model_dir: Path) -> None:
    code = (
        "import modstream.server, modstream.stream.supervisor, modstream.stream.worker\n"
        "from modstream.model import load_model\n"
        "from modstream.dataplane import DataPlane\n"
        f"DataPlane(load_model({str(model_dir)!r})).score(['a comment'])"
    )
    assert _imported(code, TRAINING_STACK) == []


def test_the_process_supervising_several_workers_loads_no_model_library() -> None:
    # With --workers N it only starts and watches the worker processes: each of those loads
    # the model, and the supervisor starts them without first paying for the libraries.
    code = "from modstream.stream.supervisor import run_workers"
    assert _imported(code, ("numpy", "scipy", "sklearn", "spacy", "pandas")) == []

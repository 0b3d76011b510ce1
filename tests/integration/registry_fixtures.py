"""Shared helpers of the registry tests: model versions, a registry on the broker, the CLI."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modstream import cli
from modstream.broker import EmbeddedBroker
from modstream.demo import demo_dataset
from modstream.model import read_manifest, save_model, train_model
from modstream.model.artifact import ARRAYS
from modstream.registry.client import Registry
from tests.integration.stream_fixtures import unique


@dataclass(frozen=True)
class Version:
    """A saved artifact and its version string."""

    path: Path

    @property
    def version(self) -> str:
        return str(read_manifest(self.path)["version"])

    @property
    def threshold(self) -> float:
        return float(read_manifest(self.path)["threshold"])


def train_version(out: Path, rows: int | None = None) -> Version:
    """A new version of the demo model (each training gets its own version string)."""
    dataset = demo_dataset(rows) if rows else demo_dataset()
    return Version(save_model(train_model(dataset, "default", n_jobs=1), out))


def truncated(version: Version, out: Path) -> Path:
    """A copy of ``version`` with half of its weights file cut off."""
    shutil.copytree(version.path, out)
    data = (out / ARRAYS).read_bytes()
    (out / ARRAYS).write_bytes(data[: len(data) // 2])
    return out


@dataclass
class Cli:
    """``modstream models ...`` against one registry topic, in this process."""

    broker: EmbeddedBroker
    topic: str
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = cli.main(
            ["models", *args, "--bootstrap-servers", self.broker.bootstrap_servers,
             "--models-topic", self.topic]
        )  # fmt: skip
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, err
        return out

    @property
    def registry(self) -> Registry:
        return Registry({"bootstrap.servers": self.broker.bootstrap_servers}, self.topic)


def registry_cli(broker: EmbeddedBroker, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(broker, unique("models"), capsys)


def with_champion(
    broker: Any,
    capsys: pytest.CaptureFixture[str],
    versions: tuple[Version, Version],
    *publish_second: str,
) -> Cli:
    """A new registry with the first version as champion; the second is published too
    when ``publish_second`` is given (its extra flags, or ``"--"`` for none)."""
    cli = registry_cli(broker, capsys)
    cli.ok("publish", str(versions[0].path), "--promote")
    if publish_second:
        cli.ok("publish", str(versions[1].path), *[a for a in publish_second if a != "--"])
    return cli

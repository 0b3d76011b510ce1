"""``quix_app.py`` processes (one consumer group) as ``bench_compare_stream.py`` runs them."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

from stream_kit import BENCH, ROOT, kill_group, single_thread_env, stop_group

# Batch keys of the windowed application: one per input partition, so both processes get windows.
BATCH_KEYS = 4
QUIX_PYTHON = "/tmp/venv-quix/bin/python"
STARTED = b"now processing incoming messages"


class QuixApps:
    """``processes`` Quix Streams applications sharing a group; per message or windowed."""

    wire = "seldon"

    def __init__(self, servers: str, model: str, topics: tuple[str, str], *,
                 processes: int = 2, window: int = 0, python: str = QUIX_PYTHON) -> None:  # fmt: skip
        tag = uuid.uuid4().hex[:8]
        self.root = Path(f"/tmp/bench-quix-{tag}")
        self.root.mkdir(parents=True)
        how = f"count windows of {window}" if window else "one model call per message"
        self.label = f"Quix Streams, {processes} processes, {how}"
        self.command = [
            python, str(BENCH / "quix_app.py"), "--bootstrap-servers", servers,
            "--input", topics[0], "--output", topics[1], "--group", f"quix-{tag}",
            "--model", model, "--window", str(window),
        ]  # fmt: skip
        self.count = processes
        # Enough for every batch key's window to fill at least once.
        self.warm_up_count = max(20, 2 * window * BATCH_KEYS)
        self.processes: list[subprocess.Popen[bytes]] = []

    def _log(self, index: int) -> Path:
        return self.root / f"app-{index}.log"

    def start(self, timeout: float = 180) -> None:
        """Start every process and wait until each says it processes messages."""
        offsets = [self._log(i).stat().st_size if self._log(i).exists() else 0
                   for i in range(self.count)]  # fmt: skip
        env = single_thread_env(PYTHONPATH=str(ROOT / "src"))
        self.processes = []
        for i in range(self.count):
            state = ["--state-dir", str(self.root / f"state-{i}")]
            with self._log(i).open("ab") as sink:
                self.processes.append(subprocess.Popen(
                    self.command + state, stdout=sink, stderr=subprocess.STDOUT, env=env,
                    start_new_session=True,
                ))  # fmt: skip
        deadline = time.monotonic() + timeout
        while not all(self._started(i, offsets[i]) for i in range(self.count)):
            for i, process in enumerate(self.processes):
                if process.poll() is not None:
                    raise RuntimeError(f"quix app exited: {self._log(i).read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"quix apps not started: {self._log(0).read_text()[-3000:]}")
            time.sleep(0.25)

    def _started(self, index: int, offset: int) -> bool:
        with self._log(index).open("rb") as log:
            log.seek(offset)
            return STARTED in log.read()

    def errors(self) -> int:
        return sum(self._log(i).read_text(errors="replace").count("ERROR")
                   for i in range(self.count) if self._log(i).exists())  # fmt: skip

    def kill(self) -> None:
        for process in self.processes:
            kill_group(process)

    def stop(self) -> None:
        for process in self.processes:
            stop_group(process)

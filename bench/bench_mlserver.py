"""MLServer's Kafka server on the same model, as ``bench_compare_stream.py`` runs it.

    python bench/bench_mlserver.py --model MODEL_DIR [--quick]      # modstream vs MLServer only

MLServer runs from its own virtualenv (``--mlserver``, made by ``bench/venvs.sh``) with
``bench/mlserver_runtime.py`` serving the same artifact. Its Kafka server reads V2
requests (the model named in the ``mlserver-model`` header) and writes V2 responses
under the same key. It is configured as a user would: the Kafka addresses and topics,
``parallel_workers`` (inference worker processes) and adaptive batching
(``max_batch_size``, ``max_batch_time``); everything else is its default. Note what
those defaults mean for delivery: its consumer has no group (nothing is committed) and
starts at the latest offset, and each answer is sent by an unawaited task.
uvloop must be older than 0.23: with 0.23 MLServer 1.7.1's inference workers die at start
(``RuntimeError: There is no current event loop in thread 'MainThread'``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stream_kit import BENCH, ROOT, kill_group, single_thread_env, stop_group

from modstream.broker import free_port

MODEL_NAME = "modstream"
MLSERVER = "/tmp/venv-mlserver/bin/mlserver"


class MLServerSystem:
    """``mlserver start`` on ``input -> output``; ``start``/``kill``/``stop`` like the others."""

    wire = "v2"

    def __init__(self, servers: str, model: str, topics: tuple[str, str], *,
                 workers: int = 2, batching: tuple[int, float] | None = (32, 0.01),
                 mlserver: str = MLSERVER) -> None:  # fmt: skip
        self.root = Path(f"/tmp/bench-mlserver-{uuid.uuid4().hex[:8]}")
        self.http_port, self.mlserver = free_port(), mlserver
        self.log = self.root / "mlserver.log"
        batched = (
            f"adaptive batching {batching[0]} / {batching[1] * 1000:g} ms"
            if batching
            else "no batching"
        )
        self.label = f"MLServer, {workers} inference workers, {batched}"
        self._write_config(servers, model, topics, workers, batching)
        self.process: subprocess.Popen[bytes] | None = None

    def _write_config(self, servers: str, model: str, topics: tuple[str, str], workers: int,
                      batching: tuple[int, float] | None) -> None:  # fmt: skip
        (self.root / MODEL_NAME).mkdir(parents=True)
        settings = {
            "host": "127.0.0.1", "http_port": self.http_port, "grpc_port": free_port(),
            "metrics_port": free_port(), "parallel_workers": workers, "kafka_enabled": True,
            "kafka_servers": servers, "kafka_topic_input": topics[0],
            "kafka_topic_output": topics[1],
        }  # fmt: skip
        model_settings: dict[str, object] = {
            "name": MODEL_NAME,
            "implementation": "mlserver_runtime.ModstreamRuntime",
            "parameters": {"uri": str(Path(model).resolve())},
        }
        if batching is not None:
            model_settings["max_batch_size"], model_settings["max_batch_time"] = batching
        (self.root / "settings.json").write_text(json.dumps(settings, indent=2))
        (self.root / MODEL_NAME / "model-settings.json").write_text(json.dumps(model_settings))

    def start(self, timeout: float = 240) -> None:
        """Start and wait until its Kafka consumer reads and the model is ready."""
        path = f"{BENCH}{os.pathsep}{ROOT / 'src'}"
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [self.mlserver, "start", str(self.root)], stdout=sink, stderr=subprocess.STDOUT,
                env=single_thread_env(PYTHONPATH=path), cwd=self.root, start_new_session=True,
            )  # fmt: skip
        offset = self.log.stat().st_size if self.log.exists() else 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlserver exited: {self._tail()}")
            if self._reading(offset) and self._model_ready():
                return
            time.sleep(0.5)
        raise RuntimeError(f"mlserver not ready: {self._tail()}")

    def _reading(self, offset: int) -> bool:
        with self.log.open("rb") as log:
            log.seek(offset)
            return b"Reading messages from consumer" in log.read()

    def _model_ready(self) -> bool:
        url = f"http://127.0.0.1:{self.http_port}/v2/models/{MODEL_NAME}/ready"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def errors(self) -> int:
        """ERROR lines in its log (failed requests are only logged)."""
        return self.log.read_text(errors="replace").count("ERROR") if self.log.exists() else 0

    def kill(self) -> None:
        kill_group(self.process)

    def stop(self) -> None:
        stop_group(self.process)


def version(mlserver: str = MLSERVER) -> str:
    code = "import mlserver, aiokafka; print(mlserver.__version__, aiokafka.__version__)"
    command = [str(Path(mlserver).with_name("python")), "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    return done.stdout.strip() or "not installed"


if __name__ == "__main__":
    import bench_compare_stream

    bench_compare_stream.main(default_systems="modstream,mlserver,mlserver-plain")

"""One Apache Kafka process in KRaft combined mode (broker and controller in one JVM)."""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from modstream.broker import dying_with_this_process
from tests.kafka.resolve import java

HOST = "127.0.0.1"

# Log4j 2 configuration of a node: everything at INFO into logs/server.log, which the
# harness points at (and keeps) when a test fails.
_LOG4J = """status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
"""


@dataclass
class KafkaNode:
    """A node's identity, ports and files; ``launch``/``terminate``/``kill`` its JVM."""

    node_id: int
    port: int
    controller_port: int
    directory: Path
    sasl_port: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        return self.directory / "logs" / "server.log"

    @property
    def config_file(self) -> Path:
        return self.directory / "server.properties"

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def listeners(self) -> dict[str, str]:
        plain = f"PLAINTEXT://{HOST}:{self.port}"
        advertised = [plain]
        if self.sasl_port is not None:
            advertised.append(f"SASL_SSL://{HOST}:{self.sasl_port}")
        return {
            "listeners": ",".join([*advertised, f"CONTROLLER://{HOST}:{self.controller_port}"]),
            "advertised.listeners": ",".join(advertised),
        }

    def write_config(self, properties: dict[str, str]) -> None:
        (self.directory / "logs").mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        merged = {**properties, **self.listeners(), "node.id": str(self.node_id),
                  "log.dirs": str(self.data_dir)}  # fmt: skip
        self.config_file.write_text("".join(f"{k}={v}\n" for k, v in sorted(merged.items())))
        self.log_config.write_text(_LOG4J.format(file=self.log_file))

    @property
    def log_config(self) -> Path:
        return self.directory / "log4j2.properties"

    def launch(self, classpath: str, heap: str) -> None:
        """Start the broker JVM (data and config stay from any earlier run)."""
        command = jvm_command(
            classpath, "kafka.Kafka", str(self.config_file), heap=heap, log_config=self.log_config
        )
        with (self.directory / "logs" / "stdout.log").open("ab") as sink:
            self.process = subprocess.Popen(
                dying_with_this_process(command),
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def terminate(self) -> None:
        """Ask for a clean shutdown (SIGTERM); ``wait`` collects it."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, as a crashed machine: no controlled shutdown, no flush."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def wait(self, timeout: float) -> None:
        """Wait for the JVM to exit; SIGKILL it if it does not within ``timeout``."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def jvm_command(
    classpath: str, main: str, *args: str, heap: str = "256m", log_config: Path | None = None
) -> list[str]:
    """``java`` running class ``main`` from the Kafka classpath with a small heap."""
    logging = [] if log_config is None else [f"-Dlog4j2.configurationFile={log_config}"]
    return [
        java(), f"-Xmx{heap}", "-Xms64m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
        "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true", *logging,
        "-cp", classpath, main, *args,
    ]  # fmt: skip

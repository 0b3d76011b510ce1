"""Find Java and Maven, and resolve Apache Kafka's broker and tools jars once.

The jars (``org.apache.kafka:kafka_2.13`` and ``org.apache.kafka:kafka-tools`` with all
their runtime dependencies) are copied by Maven into ``<cache>/kafka/<version>/libs``; a
marker file written after a complete copy makes later runs skip Maven entirely, so they
need no network.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from modstream.settings.data import DataSettings

KAFKA_VERSION = "4.4.0"
# Kafka's modules log through SLF4J 1.7; this binding routes them to Log4j 2 (as the
# binary distribution does), so the broker writes the log files kept on failure.
LOG4J_VERSION = "2.25.5"
_COMPLETE = "resolved.ok"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>modstream.tests</groupId>
  <artifactId>kafka-harness</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""


class KafkaUnavailable(RuntimeError):
    """Apache Kafka cannot be run here; the message says why (tests skip with it)."""


def java() -> str:
    """Path of the ``java`` launcher (Kafka 4 brokers need Java 17 or newer)."""
    found = shutil.which("java")
    if found is None:
        raise KafkaUnavailable("Apache Kafka tests need Java 17+ (no `java` on PATH)")
    shown = subprocess.run([found, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', shown.stderr)
    if match is None or int(match.group(1)) < 17:
        raise KafkaUnavailable(f"Apache Kafka 4 needs Java 17+, found: {shown.stderr[:80]!r}")
    return found


def libs_dir(version: str = KAFKA_VERSION) -> Path:
    return DataSettings().cache_dir / "kafka" / version / "libs"


def classpath(version: str = KAFKA_VERSION) -> str:
    """The classpath of the broker and tools, resolving it with Maven on first use."""
    libs = libs_dir(version)
    if not (libs / _COMPLETE).is_file():
        _resolve(version, libs)
    return str(libs / "*")


def _resolve(version: str, libs: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaUnavailable(
            f"Apache Kafka tests need Maven to resolve kafka_2.13 {version} once "
            f"(no `mvn` on PATH and nothing cached in {libs})"
        )
    libs.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=libs.parent) as work:
        staging = Path(work) / "libs"
        pom = Path(work) / "pom.xml"
        pom.write_text(_POM.format(kafka=version, log4j=LOG4J_VERSION))
        command = [
            mvn, "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
            "-DincludeScope=runtime", f"-DoutputDirectory={staging}",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0 or not any(staging.glob(f"kafka_2.13-{version}.jar")):
            tail = (done.stdout + done.stderr).strip()[-1500:]
            raise KafkaUnavailable(f"Maven could not resolve Apache Kafka {version}: {tail}")
        (staging / _COMPLETE).write_text(version + "\n")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)  # complete or absent, never half-copied

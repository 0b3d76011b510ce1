"""``scripts/kafka``: Apache Kafka by hand, for benchmarks and demos.

    scripts/kafka resolve                       # fetch the jars once (Maven), print where
    scripts/kafka start [--nodes 3] [--sasl] [--topic comments=4 ...] [--dir DIR]
    scripts/kafka tool kafka-consumer-groups --bootstrap-server HOST:PORT --describe --all-groups

``start`` runs until Ctrl-C (or SIGTERM), then stops every node; its data directory is
removed unless ``--dir`` was given.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.kafka.cluster import KafkaCluster
from tests.kafka.node import jvm_command
from tests.kafka.resolve import KAFKA_VERSION, KafkaUnavailable, classpath, libs_dir
from tests.kafka.security import SaslSsl
from tests.kafka.tools import TOOLS, tool_class


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/kafka", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("resolve", help="resolve the broker and tools jars into the cache")
    start = commands.add_parser("start", help="start a cluster until Ctrl-C")
    start.add_argument("--nodes", type=int, default=1, help="1 or 3 (default 1)")
    start.add_argument("--sasl", action="store_true", help="add a SASL_SSL listener, ACLs on")
    start.add_argument("--user", action="append", default=[], metavar="NAME=PASSWORD",
                       help="a SCRAM user (with --sasl; repeatable)")  # fmt: skip
    start.add_argument("--topic", action="append", default=[], metavar="NAME=PARTITIONS")
    start.add_argument("--dir", type=Path, help="keep data and logs here")
    start.add_argument("--heap", default="512m", help="JVM heap per node (default 512m)")
    tool = commands.add_parser("tool", help=f"run a Kafka tool: {', '.join(sorted(TOOLS))}")
    tool.add_argument("name")
    tool.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    try:
        if options.command == "resolve":
            classpath()
            print(f"Apache Kafka {KAFKA_VERSION} jars: {libs_dir()}")
            return 0
        if options.command == "tool":
            command = jvm_command(classpath(), tool_class(options.name), *options.args)
            return subprocess.call(command)
        return _run(options)
    except KafkaUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(options: argparse.Namespace) -> int:
    users = dict(pair.split("=", 1) for pair in options.user)
    security = SaslSsl(users=users) if options.sasl else None
    if options.dir:
        options.dir.mkdir(parents=True, exist_ok=True)
    cluster = KafkaCluster(options.nodes, security=security, workdir=options.dir,
                           heap=options.heap)  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        cluster.start()
        topics = {name: int(n) for name, n in (t.split("=", 1) for t in options.topic)}
        cluster.create_topics(topics)
        _announce(cluster)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        cluster.stop()
        if options.dir is None:
            shutil.rmtree(cluster.workdir, ignore_errors=True)
    print("Apache Kafka stopped.")
    return 0


def _announce(cluster: KafkaCluster) -> None:
    lines = [
        f"Apache Kafka {cluster.version} is up: {len(cluster.nodes)} node(s), KRaft. "
        "Ctrl-C stops it.",
        f"  bootstrap servers  {cluster.bootstrap_servers}",
    ]
    if cluster.security is not None:
        lines += [
            f"  SASL_SSL           {cluster.secure_bootstrap_servers}  (SCRAM-SHA-512, ACLs on)",
            f"  CA certificate     {cluster.security.ca_file}",
            "  users              "
            + ", ".join(f"{u}={p}" for u, p in cluster.security.users.items()),
        ]
    lines += [f"  logs               {path}" for path in cluster.log_files()]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())

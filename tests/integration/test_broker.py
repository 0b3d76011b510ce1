"""The embedded broker: Python API (topics with partition counts, restart on the same
port) and the ``modstream broker`` command."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import psutil
import pytest
from confluent_kafka.admin import AdminClient

from modstream.broker import EmbeddedBroker, free_port
from tests.integration.stream_fixtures import produce, read, unique

pytestmark = pytest.mark.integration


def test_topics_get_the_partitions_asked_for_and_carry_records() -> None:
    with EmbeddedBroker() as broker:
        name = unique("t")
        broker.create_topics({name: 3})
        broker.create_topics({name: 3})  # creating it again is harmless
        metadata = broker.admin().list_topics(timeout=10)
        assert len(metadata.topics[name].partitions) == 3
        produce(broker, name, [b"hello"], key=b"k", headers=[("h", b"v")])
        [message] = read(broker, name, 1, timeout=30)
        assert (message.key(), message.value(), message.headers()) == (
            b"k",
            b"hello",
            [("h", b"v")],
        )


def test_restart_keeps_the_address_and_serves_again() -> None:
    broker = EmbeddedBroker()
    with broker:
        address = broker.bootstrap_servers
        broker.stop()
        assert not broker.running
        broker.start()
        assert broker.bootstrap_servers == address
        name = unique("t")
        broker.create_topics({name: 1})
        produce(broker, name, [b"after restart"])
        assert [m.value() for m in read(broker, name, 1, timeout=30)] == [b"after restart"]
    assert not broker.running


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_broker_command_runs_until_interrupted(signum: int) -> None:
    """Also when started as a shell starts a background job: with SIGINT ignored."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "modstream", "broker", "--port", str(port), "--topic", "demo=2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout is not None
        lines = iter(process.stdout.readline, "")
        assert any("ready" in line for line in lines)
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{port}"})
        assert len(admin.list_topics(timeout=10).topics["demo"].partitions) == 2
        process.send_signal(signum)
        assert process.wait(30) == 0
        with pytest.raises(OSError):  # the broker process is gone with its port
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        if process.poll() is None:
            process.kill()


def test_a_killed_broker_command_leaves_no_broker_behind() -> None:
    """SIGKILL gives the command no chance to stop its broker process: the kernel must."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "modstream", "broker", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert any("ready" in line for line in iter(process.stdout.readline, ""))
        [child] = psutil.Process(process.pid).children()
        process.kill()
        process.wait(10)
        psutil.wait_procs([child], timeout=10)
        assert not child.is_running()
        with pytest.raises(OSError):  # nothing listens on the port any more
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        if process.poll() is None:
            process.kill()


def test_a_taken_port_is_a_clear_error() -> None:
    with EmbeddedBroker() as first:
        result = subprocess.run(
            [sys.executable, "-m", "modstream", "broker", "--port", str(first.port)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert result.returncode == 2
    assert "error" in result.stderr and str(first.port) in result.stderr

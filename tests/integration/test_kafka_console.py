"""The article's console flow with Apache Kafka's own tools: the reference request typed
into ``kafka-console-producer``, a running ``modstream stream``, and the reference
response shape out of ``kafka-console-consumer``."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest

from modstream.model import TextModel
from tests.integration.stream_fixtures import Topics
from tests.integration.test_stream_processes import start_stream
from tests.kafka import KafkaCluster

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.kafka]

REFERENCE_REQUEST = '{"data": {"ndarray": ["This is an input"]}}'


def test_reference_request_through_kafkas_console_tools(
    kafka: KafkaCluster, model: TextModel, model_dir: Path, tmp_path: Path
) -> None:
    topics = Topics(kafka, partitions=1).create()
    servers = ["--bootstrap-server", kafka.bootstrap_servers]
    log = tmp_path / "stream.log"
    worker = start_stream(model_dir, topics, log)
    try:
        kafka.run_tool("kafka-console-producer", *servers, "--topic", topics.input,
                       stdin=REFERENCE_REQUEST + "\n")  # fmt: skip
        printed = kafka.run_tool(
            "kafka-console-consumer", *servers, "--topic", topics.output, "--from-beginning",
            "--max-messages", "1", "--timeout-ms", "120000",
            "--formatter-property", "print.headers=true",
        )  # fmt: skip
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0, log.read_text()[-3000:]
    finally:
        if worker.poll() is None:
            worker.kill()
    headers, value = printed.strip().split("\t", 1)
    body = json.loads(value)
    assert body["data"]["names"] == ["t:0", "t:1"]
    expected = model.predict_proba(["This is an input"])
    np.testing.assert_allclose(body["data"]["ndarray"], expected, rtol=1e-9)
    assert body["meta"]["puid"] and body["meta"]["tags"]["model_name"] == model.name
    assert f"modstream.source.topic:{topics.input}" in headers

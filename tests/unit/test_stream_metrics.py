"""The worker's HTTP server: readiness for probes and ``modstream up``, metrics per stage."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition
from prometheus_client import REGISTRY

from modstream.broker import free_port
from modstream.settings.defaults import METRICS_PATH, READY_PATH
from modstream.stream import metrics


class Switch:
    def __init__(self) -> None:
        self.on = False

    def __call__(self) -> bool:
        return self.on


@pytest.fixture
def server() -> Iterator[tuple[str, Switch]]:
    ready = Switch()
    port = free_port()
    running = metrics.serve(port, "127.0.0.1", ready)
    try:
        yield f"http://127.0.0.1:{port}", ready
    finally:
        running.shutdown()
        running.server_close()


def test_ready_answers_503_until_the_worker_is_ready(server: tuple[str, Switch]) -> None:
    url, ready = server
    assert httpx.get(url + READY_PATH).status_code == 503
    ready.on = True
    response = httpx.get(url + READY_PATH)
    assert response.status_code == 200 and response.text == "ready\n"
    ready.on = False  # stopping
    assert httpx.get(url + READY_PATH).status_code == 503


def test_metrics_include_the_time_of_each_stage(server: tuple[str, Switch]) -> None:
    url, _ = server
    clock = metrics.StageClock()
    for stage in metrics.STAGES[1:]:
        clock.lap(stage)
    metrics.StageClock.record("fill", 0.002)
    text = httpx.get(url + METRICS_PATH).text
    for stage in metrics.STAGES:
        assert f'modstream_stream_stage_seconds_count{{stage="{stage}"}}' in text
    assert "modstream_stream_batch_records_bucket" in text


def test_lag_is_the_fetched_end_offset_minus_the_committed_offset() -> None:
    consumer = mock.create_autospec(Consumer, instance=True, spec_set=True)
    consumer.get_watermark_offsets.return_value = (0, 1_000)
    metrics.observe_committed({("lag-topic", 3): 760}, consumer)
    lag = REGISTRY.get_sample_value(
        "modstream_stream_consumer_lag", {"topic": "lag-topic", "partition": "3"}
    )
    assert lag == 240
    consumer.get_watermark_offsets.assert_called_once_with(
        TopicPartition("lag-topic", 3),
        cached=True,  # no broker round trip per batch
    )

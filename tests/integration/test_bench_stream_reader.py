"""The stream benchmarks' load process and reader pair every record with its id.

If they did not, the benchmarks would report answered inputs as lost, or time an answer
against the wrong request.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from stream_kit import (  # noqa: E402
    AnswerReader,
    Load,
    LoadProcess,
    duplicated,
    latencies_ms,
    lost_and_answered,
    new_topics,
    write_texts,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("keyed", [True, False], ids=["keyed", "unkeyed"])
def test_every_produced_record_is_matched_once(
    embedded_broker: object, tmp_path: Path, keyed: bool
) -> None:
    [topic] = new_topics(embedded_broker, "reader")  # type: ignore[arg-type]
    servers = embedded_broker.bootstrap_servers  # type: ignore[attr-defined]
    texts = write_texts(["first comment", "second comment", "third"], tmp_path / "t.jsonl")
    reader = AnswerReader(servers, topic).join_group()
    try:
        load = LoadProcess(servers, topic, texts, 40, rate=400, keyed=keyed).wait()
        assert reader.wait_for(load.prefix, load.count, timeout=60, idle=20) == 40
    finally:
        reader.close()
    assert lost_and_answered(load, reader) == (0, 40)
    assert duplicated(load, reader) == 0
    # Warm-up excluded: everything sent after the first second is timed, never negative.
    timed = latencies_ms(load, reader, warmup_s=0.0)
    assert len(timed) == 40 and timed.min() >= 0
    # An input that never arrived is counted as lost, not silently skipped.
    padded = Load(load.prefix, np.append(load.send_ns, load.send_ns[-1]), load.rate)
    assert lost_and_answered(padded, reader) == (1, 40)

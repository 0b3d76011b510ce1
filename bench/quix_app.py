"""The same model served by a Quix Streams ``Application``, for ``bench_compare_stream.py``.

    /tmp/venv-quix/bin/python bench/quix_app.py --bootstrap-servers HOST:PORT \
        --input IN --output OUT --group G --model MODEL_DIR [--window N] --state-dir DIR

What a user would write with Quix Streams: read each Seldon request, call the model,
write a Seldon-shaped answer with the request's id (its key, else ``meta.puid``) to the
output topic under the same key.

- Without ``--window``: one ``predict_proba`` call per message.
- With ``--window N``: Quix's count windows are kept per message key (and records
  without a key are dropped), so with one key per comment a window would never fill.
  The stream is regrouped onto a few batch keys (``group_by``, which goes through a
  repartition topic) and each ``tumbling_count_window(N)`` is scored in one call when
  it closes: a comment waits until N - 1 others with the same batch key have arrived.

Runs in its own virtualenv (Quix Streams pins an older confluent-kafka than modstream);
modstream comes from ``PYTHONPATH``. Quix's defaults are kept (at-least-once, commits
every 5 s) except the start offset (earliest) and the transport settings, which are
the modstream worker's own, so the comparison is about the processing.
"""

from __future__ import annotations

import argparse
import json
import zlib
from typing import Any

from confluent_kafka.admin import AdminClient
from quix_system import BATCH_KEYS
from quixstreams import Application

from modstream.model import load_model
from modstream.stream.config import CONSUMER_DEFAULTS, PRODUCER_DEFAULTS, fetch_wait_ms

TRANSPORT = ("fetch.wait.max.ms", "socket.nagle.disable", "linger.ms")


def answer(ident: str, row: Any) -> dict[str, Any]:
    """The Seldon response shape, one row of [P(kept), P(removed)]."""
    return {"data": {"names": ["t:0", "t:1"], "ndarray": [[float(row[0]), float(row[1])]]},
            "meta": {"puid": ident}}  # fmt: skip


def as_row(value: dict[str, Any], key: bytes | None, _ts: int, _headers: Any) -> dict[str, Any]:
    """The request's id and its text (one text per request in these benchmarks)."""
    ident = key.decode() if key else str((value.get("meta") or {}).get("puid", ""))
    return {"id": ident, "text": value["data"]["ndarray"][0]}


def consumer_transport(servers: str) -> dict[str, str | int]:
    """The worker consumer's transport settings, its fetch wait fitted to this broker as
    the worker fits it."""
    config = {k: CONSUMER_DEFAULTS[k] for k in TRANSPORT if k in CONSUMER_DEFAULTS}
    cluster_id = AdminClient({"bootstrap.servers": servers}).list_topics(timeout=30).cluster_id
    wait = fetch_wait_ms(cluster_id, {})
    if wait is not None:
        config["fetch.wait.max.ms"] = wait
    return config


def build(args: argparse.Namespace) -> Application:
    model = load_model(args.model)
    model.predict_proba(["warm-up"])
    app = Application(
        broker_address=args.bootstrap_servers, consumer_group=args.group,
        auto_offset_reset="earliest", state_dir=args.state_dir,
        consumer_extra_config=consumer_transport(args.bootstrap_servers),
        producer_extra_config={k: PRODUCER_DEFAULTS[k] for k in TRANSPORT if k in PRODUCER_DEFAULTS},
    )  # fmt: skip
    source = app.topic(args.input, value_deserializer="json")
    sink = app.topic(args.output, key_serializer="str", value_serializer="json")
    sdf = app.dataframe(source).apply(as_row, metadata=True)
    if args.window:
        sdf = sdf.group_by(lambda row: str(zlib.crc32(row["id"].encode()) % BATCH_KEYS),
                           name="batch")  # fmt: skip
        sdf = sdf.tumbling_count_window(args.window).collect().final()
        sdf = sdf.apply(lambda window: score(model, window["value"]), expand=True)
    else:
        sdf = sdf.apply(lambda row: score(model, [row])[0])
    sdf.to_topic(sink, key=lambda result: result["meta"]["puid"])
    return app


def score(model: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    probabilities = model.predict_proba([row["text"] for row in rows])
    return [answer(row["id"], p) for row, p in zip(rows, probabilities, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--bootstrap-servers", "--input", "--output", "--group", "--model", "--state-dir"):
        parser.add_argument(name, required=True)
    parser.add_argument("--window", type=int, default=0, help="count-window size; 0: per message")
    args = parser.parse_args()
    app = build(args)
    print(json.dumps({"quix": "running", "window": args.window}), flush=True)
    app.run()


if __name__ == "__main__":
    main()

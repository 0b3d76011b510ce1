"""The load of the stream benchmarks, in its own process: paced or as fast as it goes.

    python bench/stream_load.py --bootstrap-servers HOST:PORT --topic T --texts FILE.jsonl \
        --count N [--rate R] [--keyed] [--wire seldon|v2] --prefix P --out SEND_NS.npy

Request ``i`` carries the id ``P + i``: as the record key with ``--keyed`` (a comment's id,
as real traffic is keyed), and in the request itself otherwise (Seldon ``meta.puid``,
V2 ``id``; V2 requests always carry it, MLServer has no other way to echo an id). The
nanosecond at which each request was handed to the producer is saved to ``--out``.
The producer is configured as the worker's own producer (but sends at once, as the
worker's flush after each batch does), so a broker "hop" measured with it is the hop the
worker's answers make.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from confluent_kafka import Producer

from modstream.stream.config import PRODUCER_DEFAULTS


def seldon(text: str, ident: str, keyed: bool) -> bytes:
    request: dict[str, object] = {"data": {"ndarray": [text]}}
    if not keyed:
        request["meta"] = {"puid": ident}
    return json.dumps(request).encode()


def v2(text: str, ident: str, _keyed: bool) -> bytes:
    tensor = {"name": "text", "shape": [1, 1], "datatype": "BYTES", "data": [text]}
    return json.dumps({"id": ident, "inputs": [tensor]}).encode()


WIRES = {"seldon": seldon, "v2": v2}
# MLServer's Kafka server picks the model from this header.
V2_HEADERS = [("mlserver-model", b"modstream")]


def produce(args: argparse.Namespace, texts: list[str]) -> np.ndarray:
    # No linger: the worker flushes each batch's answers at once (a flush ignores
    # linger.ms), so a floor hop lingering would be a hop the worker's answers never make.
    config = {**PRODUCER_DEFAULTS, "linger.ms": 0, "bootstrap.servers": args.bootstrap_servers}
    producer = Producer(config)
    producer.list_topics(args.topic, timeout=30)  # connections and metadata before timing
    encode, keyed = WIRES[args.wire], args.keyed
    headers = V2_HEADERS if args.wire == "v2" else None
    bodies = [encode(texts[i % len(texts)], f"{args.prefix}{i}", keyed) for i in range(args.count)]
    send_ns = np.zeros(args.count, dtype=np.int64)
    print("sending", flush=True)  # the benchmark may time an action from here
    start = time.perf_counter()
    for i, body in enumerate(bodies):
        if args.rate > 0:
            delay = start + i / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        key = f"{args.prefix}{i}".encode() if keyed else None
        send_ns[i] = time.time_ns()
        while True:
            try:
                producer.produce(args.topic, value=body, key=key, headers=headers)
                break
            except BufferError:  # queue full in a burst: let deliveries drain it
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(120)
    return send_ns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--texts", required=True, help="JSON lines, one string each")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, default=0.0, help="records/s; 0: unpaced")
    parser.add_argument("--keyed", action="store_true")
    parser.add_argument("--wire", choices=sorted(WIRES), default="seldon")
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.texts) as lines:
        texts = [json.loads(line) for line in lines]
    np.save(args.out, produce(args, texts))


if __name__ == "__main__":
    main()

"""``modstream serve``: the Seldon and V2 protocols over REST and gRPC for one model."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from modstream.commands._registry import add_follow_args, following, registry_link
from modstream.commands.produce import tool_settings
from modstream.errors import ArtifactError

EPILOG = """\
examples:
  modstream serve --model models/default
  modstream serve --model models/default --host 0.0.0.0 --http-port 9000 --grpc-port 5000
  MODSTREAM_MODEL=models/default PREDICTIVE_UNIT_HTTP_SERVICE_PORT=9000 modstream serve
  modstream serve --registry --bootstrap-servers kafka:9092   # follow modstream models

  curl -s localhost:9000/api/v1.0/predictions -H 'content-type: application/json' \\
       -d '{"data": {"ndarray": ["This is an input"]}}'

Every flag has an environment variable (MODSTREAM_HOST, MODSTREAM_HTTP_PORT or
PREDICTIVE_UNIT_HTTP_SERVICE_PORT, MODSTREAM_GRPC_PORT or PREDICTIVE_UNIT_GRPC_SERVICE_PORT,
MODSTREAM_MAX_BATCH_TEXTS, ...); flags win. SIGTERM finishes in-flight requests and exits 0.
See docs/serving.md for every endpoint.
"""

_FLAGS: tuple[tuple[str, str, type, str], ...] = (
    ("--model", "model", str, "model artifact directory (MODSTREAM_MODEL)"),
    ("--host", "host", str, "address to listen on (default 127.0.0.1)"),
    ("--http-port", "http_port", int, "REST port (default 9000)"),
    ("--grpc-port", "grpc_port", int, "gRPC port, 0 disables gRPC (default 5000)"),
    (
        "--max-batch-texts",
        "max_batch_texts",
        int,
        "most texts merged into one model call (default 64; old spelling --max-batch)",
    ),
    (
        "--max-wait-ms",
        "max_wait_ms",
        float,
        "longest wait for more requests to merge while others are in flight (default 2)",
    ),
    ("--max-body-bytes", "max_body_bytes", int, "largest REST body; 413 beyond (default 1 MiB)"),
    (
        "--grpc-max-message-bytes",
        "grpc_max_message_bytes",
        int,
        "largest gRPC message (default 4 MiB)",
    ),
    (
        "--max-text-chars",
        "max_text_chars",
        int,
        "texts are truncated at this length, with a note in meta (default 100000)",
    ),
)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "serve",
        help="serve a model over REST and gRPC (Seldon and V2 protocols)",
        description=(
            "Serve a trained model: Seldon protocol (/api/v1.0/predictions, seldon.protos.Model) "
            "and V2 / Open Inference protocol (/v2/..., inference.GRPCInferenceService), "
            "Prometheus metrics at /metrics and the OpenAPI document at /openapi.json."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for flag, dest, kind, text in _FLAGS:
        aliases = ["--max-batch"] if dest == "max_batch_texts" else []
        parser.add_argument(flag, *aliases, dest=dest, type=kind, default=None, help=text)
    add_follow_args(parser, connection=True)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from modstream.model import load_model
    from modstream.server import serve
    from modstream.settings import ServeSettings

    overrides = {dest: getattr(args, dest) for _, dest, _, _ in _FLAGS}
    settings = ServeSettings(**{k: v for k, v in overrides.items() if v is not None})
    model = load_model(settings.model) if settings.model else None
    if not following(args):
        if model is None:
            raise ArtifactError("no model given: pass --model DIR or set MODSTREAM_MODEL")
        asyncio.run(serve(model, settings))
        return 0
    link = registry_link(args, tool_settings(args).client_config(), model)
    asyncio.run(serve(link.followed.current, settings, link))
    return 0

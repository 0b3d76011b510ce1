"""``modstream serve``: the Seldon and V2 protocols over REST and gRPC for one model."""

from __future__ import annotations

import argparse
from typing import Any

from modstream.commands._registry import add_follow_args, following, registry_link
from modstream.commands.produce import tool_settings
from modstream.errors import ArtifactError
from modstream.settings import defaults

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

# (flags, destination, type, help); defaults come from the settings, quoted from one place
_FLAGS: tuple[tuple[tuple[str, ...], str, type, str], ...] = (
    (("--model",), "model", str, "model artifact directory (MODSTREAM_MODEL)"),
    (("--host",), "host", str, f"address to listen on (default {defaults.HOST})"),
    (("--http-port",), "http_port", int, f"REST port (default {defaults.HTTP_PORT})"),
    (
        ("--grpc-port",),
        "grpc_port",
        int,
        f"gRPC port, 0 disables gRPC (default {defaults.GRPC_PORT})",
    ),
    (
        ("--max-batch-texts", "--max-batch"),
        "max_batch_texts",
        int,
        f"most texts merged into one model call (default {defaults.MAX_BATCH_TEXTS})",
    ),
    (
        ("--max-wait-ms",),
        "max_wait_ms",
        float,
        "longest wait for more requests to merge while others are in flight "
        f"(default {defaults.MAX_WAIT_MS:g})",
    ),
    (
        ("--max-body-bytes",),
        "max_body_bytes",
        int,
        f"largest REST body; 413 beyond (default {defaults.MAX_BODY_BYTES})",
    ),
    (
        ("--grpc-max-message-bytes",),
        "grpc_max_message_bytes",
        int,
        f"largest gRPC message (default {defaults.GRPC_MAX_MESSAGE_BYTES})",
    ),
    (
        ("--max-text-chars",),
        "max_text_chars",
        int,
        "texts are truncated at this length, with a note in meta "
        f"(default {defaults.MAX_TEXT_CHARS})",
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
    for flags, dest, kind, text in _FLAGS:
        parser.add_argument(*flags, dest=dest, type=kind, default=None, help=text)
    add_follow_args(parser, connection=True)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import asyncio

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

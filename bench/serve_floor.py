"""The transports' own floor: ``modstream serve``'s two servers with nothing behind them.

uvicorn + Starlette and modstream's gRPC server on one event loop, built by the same
functions as ``modstream serve``'s, each route answering a fixed Seldon response without
reading the request or calling a model. What a request costs here is what the transport
costs before modstream does anything (``bench_serve.py`` measures it beside the real
server). With ``aio`` as third argument the gRPC side is grpc.aio's server instead, with
the options ``modstream serve`` gave it before it had its own: the comparison.

    python bench/serve_floor.py HTTP_PORT GRPC_PORT [modstream|aio]
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import grpc
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modstream.grpc import prediction_pb2
from modstream.server import grpc_server, http_server
from modstream.settings import ServeSettings

REST_ANSWER = b'{"data":{"names":["t:0","t:1"],"ndarray":[[0.5,0.5]]},"meta":{}}'


def _grpc_answer() -> bytes:
    message = prediction_pb2.SeldonMessage()  # type: ignore[attr-defined]
    message.data.names.extend(["t:0", "t:1"])
    row = message.data.ndarray.values.add().list_value.values
    row.add().number_value = 0.5
    row.add().number_value = 0.5
    return bytes(message.SerializeToString())


def _aio_server(settings: ServeSettings) -> grpc.aio.Server:
    limit = settings.grpc_max_message_bytes
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
            ("grpc.so_reuseport", 0),
        ]
    )
    server.add_insecure_port(f"{settings.host}:{settings.grpc_port}")
    return server


async def main(http_port: int, grpc_port: int, kind: str) -> None:
    async def predict(request: Request) -> Response:
        await request.body()
        return Response(REST_ANSWER, media_type="application/json")

    async def ready(request: Request) -> Response:
        return Response(b"{}", media_type="application/json")

    app = Starlette(
        routes=[
            Route("/api/v1.0/predictions", predict, methods=["POST"]),
            Route("/v2/health/ready", ready, methods=["GET"]),
        ]
    )
    settings = ServeSettings(http_port=http_port, grpc_port=grpc_port)
    http = http_server(app, settings)
    answer = _grpc_answer()

    async def grpc_predict(request: bytes, context: Any) -> bytes:
        return answer

    same = lambda data: data  # noqa: E731  (bytes in, bytes out: no protobuf work)
    handler = grpc.unary_unary_rpc_method_handler(grpc_predict, same, same)
    server: Any = grpc_server(settings) if kind == "modstream" else _aio_server(settings)
    server.add_registered_method_handlers("seldon.protos.Model", {"Predict": handler})
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    serving = asyncio.create_task(http.serve())
    await stop.wait()
    http.should_exit = True
    await asyncio.gather(serving, server.stop(1))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), (sys.argv[3:] or ["modstream"])[0]))

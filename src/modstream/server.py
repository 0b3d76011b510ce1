"""``modstream serve``: REST (uvicorn) and gRPC (``modstream.grpc.calls``) in one event loop,
one data plane.

SIGTERM or SIGINT: both servers stop accepting, in-flight requests finish (up to the
grace period), the data plane drains its queue, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import math
import signal
from typing import TYPE_CHECKING

import uvicorn

from modstream.dataplane import DataPlane
from modstream.grpc import seldon_service, v2_service
from modstream.grpc.calls import GrpcServer
from modstream.registry.modelset import ModelSet
from modstream.registry.repository import ModelRepository, RegistryLink
from modstream.rest import build_app
from modstream.settings import ServeSettings
from modstream.webserver import QuietServer, listening

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from modstream.model import TextModel

log = logging.getLogger("modstream.server")


def build_plane(model: TextModel | ModelSet, settings: ServeSettings) -> DataPlane:
    return DataPlane(
        model,
        max_batch_texts=settings.max_batch_texts,
        max_wait_ms=settings.max_wait_ms,
        max_text_chars=settings.max_text_chars,
    )


def grpc_server(settings: ServeSettings) -> GrpcServer:
    """The gRPC server as ``serve`` runs it (message limits, port), without services."""
    limit = settings.grpc_max_message_bytes
    return GrpcServer(settings.host, settings.grpc_port, max_receive=limit, max_send=limit)


def http_server(app: Starlette, settings: ServeSettings) -> QuietServer:
    """uvicorn as ``serve`` runs ``app``: no access log, no lifespan, the grace period."""
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.http_port,
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_s),  # 0: cancel at once
    )
    return QuietServer(config)


async def serve(
    model: TextModel | ModelSet, settings: ServeSettings, registry: RegistryLink | None = None
) -> None:
    """Serve until SIGTERM/SIGINT, then shut down gracefully.

    With ``registry`` the plane follows it: its swaps go to the plane between merged
    batches, and the V2 repository routes drive it.
    """
    http_socket = listening(settings.host, settings.http_port, "REST")
    plane = build_plane(model, settings)
    if registry is not None:
        registry.followed.manager.attach(plane.swap)
    repository = ModelRepository(plane.facts.name, lambda: plane.models, registry)
    await plane.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app = build_app(plane, max_body_bytes=settings.max_body_bytes, repository=repository)
    http = http_server(app, settings)
    rpc = grpc_server(settings) if settings.grpc_port else None
    if rpc is not None:
        seldon_service.add_to_server(plane, rpc)
        v2_service.add_to_server(plane, rpc)
        await rpc.start()
    http_task = asyncio.create_task(http.serve(sockets=[http_socket]), name="modstream-http")
    log.info(
        "serving model %s v%s: REST on %s:%d, gRPC on %s",
        plane.facts.name,
        plane.facts.version,
        settings.host,
        settings.http_port,
        f"{settings.host}:{settings.grpc_port}" if rpc else "(disabled)",
    )
    stopped = asyncio.create_task(stop.wait())
    watch = asyncio.create_task(_watch_registry(registry, stop)) if registry else None
    await asyncio.wait({http_task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down: finishing in-flight requests")
    http.should_exit = True
    waits = [http_task]
    if rpc is not None:
        waits.append(asyncio.create_task(rpc.stop(settings.shutdown_grace_s)))
    await asyncio.gather(*waits)
    stopped.cancel()
    if watch is not None:
        watch.cancel()
    await plane.stop()
    if registry is not None:
        registry.followed.stop()
        if registry.followed.follower.refused is not None:
            raise registry.followed.follower.refused
    if http_task.exception() is None and not http.started:
        raise OSError(f"could not listen on {settings.host}:{settings.http_port}")
    log.info("stopped")


async def _watch_registry(registry: RegistryLink, stop: asyncio.Event) -> None:
    """Stop serving, gracefully, once the cluster refuses the registry follower's login (a
    rotated password): a promotion would go unseen while the server looks healthy; the
    error ends the command, and a restart with the new login follows again."""
    while registry.followed.follower.refused is None:
        await asyncio.sleep(0.5)
    log.error("the registry can no longer be followed; shutting down")
    stop.set()

"""Running workers: one in this process, or ``--workers N`` processes in one group.

Every worker is an independent consumer-group member, so N processes here and M on
other machines (same ``--group``) share the input partitions; the partition count is
the ceiling on useful workers. SIGTERM/SIGINT make each worker finish its batch,
commit, leave the group and exit 0. A worker that stops on an error no restart fixes (a
refused login, an ACL, a missing topic) stops the others too, and the command exits 2.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

from modstream.credentials import redact
from modstream.errors import ModstreamError
from modstream.settings import StreamSettings
from modstream.stream import metrics

log = logging.getLogger(__name__)

RESTART_DELAY = 2.0
# A worker process's exit code for an error no restart fixes (the CLI's for its errors).
STOPPED_ON_ERROR = 2


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` (the current batch still completes)."""

    def handler(signum: int, _frame: Any) -> None:
        log.info("%s: finishing the current batch, then leaving", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_worker(
    settings: StreamSettings, index: int = 0, stop: threading.Event | None = None
) -> int:
    """One worker in this process until ``stop`` (or a signal) says otherwise."""
    # Imported here: with --workers N the supervising process runs no worker, and these
    # (the model's libraries among them) would cost it 2 s before it starts any.
    from modstream.registry.instance import worker_answering, worker_plane
    from modstream.stream.refusals import check_login
    from modstream.stream.worker import StreamWorker

    if stop is None:
        stop = threading.Event()
        stop_on_signals(stop)
    worker: StreamWorker | None = None
    if settings.metrics_port is not None:
        # Up before the model loads: /metrics answers at once, /ready once the worker is.
        port = settings.metrics_port + index
        metrics.serve(
            port, settings.metrics_host, ready=lambda: worker is not None and worker.ready
        )
    # A refused login ends here, in about a second, before the model is loaded.
    check_login(settings.client_config())
    with contextlib.ExitStack() as cleanup:
        # The data plane: the --model, or the registry's models followed live (docs/models.md).
        plane, registry = worker_plane(settings, index)
        followed = []
        if registry is not None:
            cleanup.callback(registry.stop)
            followed.append(registry.follower)
        answering = worker_answering(settings)
        cleanup.callback(answering.policy.stop)
        worker = StreamWorker(settings, plane, index=index, answering=answering, followed=followed)
        worker.run(stop)
    return 0


def _child(settings_json: str, index: int, log_level: int) -> None:
    logging.basicConfig(
        level=log_level, format=f"%(asctime)s %(levelname)s worker-{index} %(name)s: %(message)s"
    )
    try:
        run_worker(StreamSettings.model_validate_json(settings_json), index)
    except ModstreamError as exc:  # one line, like the CLI; the supervisor stops on it
        print(f"modstream stream: worker {index}: error: {redact(exc.message)}", file=sys.stderr)
        sys.exit(STOPPED_ON_ERROR)


def run_workers(settings: StreamSettings) -> int:
    """``settings.workers`` worker processes; a crashed one is restarted."""
    if settings.workers <= 1:
        return run_worker(settings)
    stop = threading.Event()
    stop_on_signals(stop)
    context = multiprocessing.get_context("spawn")
    payload = settings.model_dump_json()
    level = logging.getLogger().getEffectiveLevel()

    def spawn(index: int) -> BaseProcess:
        process = context.Process(
            target=_child, args=(payload, index, level), name=f"modstream-worker-{index}"
        )
        process.start()
        return process

    processes = {i: spawn(i) for i in range(settings.workers)}
    while not stop.wait(0.5):
        for index, process in list(processes.items()):
            if process.exitcode == STOPPED_ON_ERROR:  # a restart would fail the same way
                log.error("worker %d stopped on an error; stopping the others", index)
                _stop_all(list(processes.values()))
                return STOPPED_ON_ERROR
            if not process.is_alive():
                log.error("worker %d exited with %s; restarting it", index, process.exitcode)
                time.sleep(RESTART_DELAY)
                processes[index] = spawn(index)
    return _stop_all(list(processes.values()))


def _stop_all(processes: list[BaseProcess], timeout: float = 30.0) -> int:
    for process in processes:
        if process.is_alive() and process.pid is not None:
            process.terminate()  # SIGTERM: the worker finishes its batch and commits
    deadline = time.monotonic() + timeout
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            log.error("%s did not stop in %.0fs; killing it", process.name, timeout)
            process.kill()
            process.join()
    return 0 if all(p.exitcode == 0 for p in processes) else 1

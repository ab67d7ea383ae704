"""``loom worker --processes N``: start N worker processes, forward SIGTERM, restart crashes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.process import BaseProcess

from loom.core.errors import ConfigurationError
from loom.core.logging import logger
from loom.jobs._worker import WorkerOptions, install_signal_handlers, run_worker

__all__ = ["supervise"]

RESTART_PAUSE = 1.0
CONFIG_ERROR = 2
"""Exit code of a child whose configuration is wrong: restarting it cannot help."""


def _child(options: WorkerOptions, parent: int) -> None:
    stop = threading.Event()
    install_signal_handlers(stop)
    try:
        code = run_worker(options, stop, parent=parent)
    except ConfigurationError as error:
        logger.error("worker configuration: {error}", error=error)
        code = CONFIG_ERROR
    raise SystemExit(code)


def supervise(options: WorkerOptions, processes: int, stop: threading.Event) -> int:
    """Run ``processes`` worker processes until ``stop`` is set; return the exit code.

    Each child is a fresh interpreter (``spawn``): no event loop, thread or connection is
    inherited. A child that dies while the supervisor runs is restarted after a pause;
    on ``stop`` every child gets SIGTERM and is waited for (it finishes its running jobs).
    """
    context = multiprocessing.get_context("spawn")
    parent = os.getpid()

    def spawn(index: int) -> BaseProcess:
        child = context.Process(
            target=_child, args=(options, parent), name=f"loom-worker-{index}", daemon=False
        )
        child.start()
        logger.info("started worker process {pid} ({name})", pid=child.pid, name=child.name)
        return child

    children = [spawn(i) for i in range(processes)]
    code = 0
    while not stop.wait(0.5):
        for index, child in enumerate(children):
            if child.exitcode == CONFIG_ERROR:
                logger.error("worker process {pid} cannot start: stopping", pid=child.pid)
                code = CONFIG_ERROR
                stop.set()
                break
            if child.exitcode is not None:
                logger.error("worker process {pid} exited with {code}; restarting",
                             pid=child.pid, code=child.exitcode)  # fmt: skip
                _forget(child)
                time.sleep(RESTART_PAUSE)
                children[index] = spawn(index)
    for child in children:
        if child.exitcode is None and child.pid is not None:
            os.kill(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + options.shutdown_timeout + 30
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.exitcode is None:
            logger.error("worker process {pid} did not stop: killing it", pid=child.pid)
            child.kill()
            child.join()
        code = max(code, child.exitcode or 0)
        _forget(child)
    return code


def _forget(child: BaseProcess) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and child.pid is not None:
        from loom.jobs._metrics import mark_dead

        mark_dead(child.pid)

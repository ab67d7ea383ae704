"""One ``loom worker`` process: the app's runtime, an asyncio loop, Dramatiq's Worker.

Start-up order matters: the event loop thread starts first and the runtime (store pools,
relay) starts on it, then Dramatiq's worker threads start consuming, so no message runs
before the store is open. Shutdown reverses it: worker threads finish their current
message (within ``shutdown_timeout``), prefetched messages go back to the broker, then the
runtime stops and the loop closes.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

import dramatiq
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread

from loom.core.bootstrap import Runtime, load_runtime
from loom.core.errors import ConfigurationError
from loom.core.logging import logger
from loom.jobs._actors import quiet_loggers
from loom.jobs.dramatiq_backend import DramatiqJobRuntime

__all__ = ["WorkerOptions", "default_prefetch", "install_signal_handlers", "run_worker"]


@dataclass(frozen=True)
class WorkerOptions:
    """What ``loom worker`` was asked for.

    Attributes:
        config: Config files.
        overrides: ``key=value`` overrides.
        threads: Worker threads per process.
        queues: Loom queues to consume (default: every job's queue).
        prefetch: Messages a process holds per queue, running or waiting (default:
            :func:`default_prefetch`).
        shutdown_timeout: Seconds running messages get to finish on SIGTERM.
        metrics: Whether to record Prometheus metrics.
    """

    config: tuple[str, ...]
    overrides: tuple[str, ...] = ()
    threads: int = 8
    queues: tuple[str, ...] | None = None
    prefetch: int | None = None
    shutdown_timeout: float = 30.0
    metrics: bool = False


def default_prefetch(threads: int) -> int:
    """Twice the threads: each thread has a message running and one waiting.

    Dramatiq's consumer only fetches while a process holds fewer messages than its
    prefetch, and backs off (5 ms, then longer) when it is full; at ``prefetch ==
    threads`` a thread that finishes waits for that back-off, which halves the
    throughput of short jobs. Much more than twice the threads lets one process hoard
    messages other processes could run, and (on Redis) a killed process's hoard waits
    for the broker's heartbeat timeout before it is delivered again.
    """
    return 2 * threads


def _dramatiq_runtime(runtime: Runtime) -> DramatiqJobRuntime:
    jobs = runtime.jobs
    if not isinstance(jobs, DramatiqJobRuntime):
        raise ConfigurationError(
            f"loom worker needs jobs.backend: dramatiq (it is {runtime.config.jobs.backend!r}; "
            "the inline backend runs jobs inside the API process)",
            key="jobs.backend",
        )
    return jobs


def _quiet_libraries(runtime: Runtime) -> None:
    """Keep Dramatiq's and pika's debug chatter out of the hot path."""
    level = logging.getLevelName(runtime.config.observability.log.level)
    quiet_loggers(max(level, logging.INFO) if isinstance(level, int) else logging.INFO)


def install_signal_handlers(stop: threading.Event) -> None:
    """SIGTERM/SIGINT set ``stop``; a second one exits at once."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            logger.warning("second {sig}: exiting now", sig=signal.Signals(signum).name)
            os._exit(1)
        logger.info("{sig} received: finishing running jobs", sig=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _watch_parent(stop: threading.Event, parent: int) -> None:
    while not stop.wait(1.0):
        if os.getppid() != parent:
            logger.warning("the supervising process is gone: stopping")
            stop.set()


def run_worker(
    options: WorkerOptions,
    stop: threading.Event,
    *,
    parent: int | None = None,
    on_ready: Sequence[threading.Event] = (),
    configure: Callable[[Runtime], None] | None = None,
) -> int:
    """Run one worker process until ``stop`` is set; return the exit code.

    Args:
        options: What to consume, with how many threads.
        stop: Set it to stop gracefully (signal handlers do).
        parent: The supervising process's pid: stop when it is gone.
        on_ready: Events set once the worker consumes.
        configure: Called with the runtime before it starts (benchmarks, tests).
    """
    runtime = load_runtime(*options.config, overrides=options.overrides)
    jobs = _dramatiq_runtime(runtime)
    if configure is not None:
        configure(runtime)
    _quiet_libraries(runtime)
    jobs.add_callbacks(runtime.manifest.callbacks)
    if options.metrics:
        from loom.jobs._metrics import PrometheusObserver

        jobs.service.engine.observer = PrometheusObserver()
    queues = jobs.queue_names(options.queues)
    for queue in sorted(queues):
        jobs.broker.declare_queue(queue)
    if parent is not None:
        threading.Thread(target=_watch_parent, args=(stop, parent), daemon=True).start()
    loop_thread = EventLoopThread(logging.getLogger("loom.jobs.loop"))
    loop_thread.start(timeout=10.0)
    set_event_loop_thread(loop_thread)
    worker: dramatiq.Worker | None = None
    try:
        loop_thread.run_coroutine(runtime.start())
        jobs.broker.emit_after("process_boot")
        worker = dramatiq.Worker(jobs.broker, queues=queues, worker_threads=options.threads)
        worker.queue_prefetch = options.prefetch or default_prefetch(options.threads)
        worker.start()
        logger.info(
            "loom worker {pid} consuming {queues} with {threads} threads (prefetch {prefetch})",
            pid=os.getpid(), queues=", ".join(sorted(queues)), threads=options.threads,
            prefetch=worker.queue_prefetch,
        )  # fmt: skip
        for event in on_ready:
            event.set()
        while not stop.wait(0.5):
            pass
        logger.info("loom worker {pid} stopping", pid=os.getpid())
        worker.stop(timeout=int(options.shutdown_timeout * 1000))
        worker = None
    finally:
        if worker is not None:
            worker.stop(timeout=int(options.shutdown_timeout * 1000))
        try:
            loop_thread.run_coroutine(runtime.stop())
        finally:
            stop_loop: Any = loop_thread.stop
            stop_loop()
            set_event_loop_thread(None)
    logger.info("loom worker {pid} stopped", pid=os.getpid())
    return 0

"""``loom worker CONFIG [--processes N] [--threads N] [--queues a,b]``: run Dramatiq workers.

A ``loom.cli`` plug-in: installed with loom-jobs, it builds the application's runtime
from the same config as the API and consumes its jobs' queues::

    loom worker config/api.yaml --processes 2 --threads 8
    loom worker config/api.yaml jobs.broker=amqp://guest:guest@127.0.0.1:5672/ -Q notifications

SIGTERM (or Ctrl-C) stops it gracefully: running jobs finish (``--shutdown-timeout``),
prefetched messages go back to the broker; a second signal exits at once.
"""

from __future__ import annotations

import threading

import click

from loom.core.cli import split_config_args
from loom.core.config import load_config
from loom.core.errors import ConfigurationError
from loom.core.logging import configure_logging, logger

__all__ = ["worker"]


def _queues(value: str | None) -> tuple[str, ...] | None:
    if not value:
        return None
    names = tuple(q.strip() for q in value.split(",") if q.strip())
    return names or None


@click.command(name="worker")
@click.argument("args", nargs=-1, required=True, metavar="CONFIG... [KEY=VALUE...]")
@click.option("--processes", "-p", default=1, show_default=True, type=click.IntRange(1),
              help="Worker processes.")  # fmt: skip
@click.option("--threads", "-t", default=8, show_default=True, type=click.IntRange(1),
              help="Worker threads per process.")  # fmt: skip
@click.option("--queues", "-Q", default=None, metavar="A,B",
              help="Consume only these queues (default: every job's queue).")  # fmt: skip
@click.option("--prefetch", default=None, type=click.IntRange(1),
              help="Messages a process holds per queue (default: 2 x threads).")  # fmt: skip
@click.option("--shutdown-timeout", default=30.0, show_default=True, type=click.FloatRange(0),
              help="Seconds running jobs get to finish on SIGTERM.")  # fmt: skip
def worker(
    args: tuple[str, ...],
    processes: int,
    threads: int,
    queues: str | None,
    prefetch: int | None,
    shutdown_timeout: float,
) -> None:
    """Run Dramatiq workers for the application's jobs."""
    files, overrides = split_config_args(args)
    config = load_config(*files, overrides=overrides)
    if config.jobs.backend != "dramatiq":
        raise ConfigurationError(
            f"loom worker needs jobs.backend: dramatiq (it is {config.jobs.backend!r}; "
            "the inline backend runs jobs inside the API process)",
            key="jobs.backend",
        )
    configure_logging(config.observability.log)
    port = config.observability.prometheus.port
    if port is not None:
        from loom.jobs._metrics import prepare_directory, serve_metrics

        prepare_directory()
        serve_metrics(port)
        logger.info("worker metrics on :{port}/metrics", port=port)
    from loom.jobs._supervisor import supervise
    from loom.jobs._worker import WorkerOptions, install_signal_handlers, run_worker

    options = WorkerOptions(
        config=tuple(files),
        overrides=tuple(overrides),
        threads=threads,
        queues=_queues(queues),
        prefetch=prefetch,
        shutdown_timeout=shutdown_timeout,
        metrics=port is not None,
    )
    stop = threading.Event()
    install_signal_handlers(stop)
    code = run_worker(options, stop) if processes == 1 else supervise(options, processes, stop)
    if code:
        raise SystemExit(code)

"""Prometheus metrics of ``loom worker`` (extra ``loom-jobs[prometheus]``).

Worker processes write their metrics to a shared multiprocess directory; the process
that started them serves the sum on ``observability.prometheus.port``. The directory has
to be chosen before ``prometheus_client`` is first imported: :func:`prepare_directory`.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from loom.core.extras import import_extra

__all__ = ["MULTIPROC_ENV", "PrometheusObserver", "prepare_directory", "serve_metrics"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _client() -> Any:
    return import_extra("prometheus_client", distribution="loom-jobs", extra="prometheus")


def prepare_directory() -> str:
    """Create the multiprocess directory and export it (before importing the client)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        directory = tempfile.mkdtemp(prefix="loom-worker-metrics-")
        os.environ[MULTIPROC_ENV] = directory
    return directory


def serve_metrics(port: int, host: str = "0.0.0.0") -> Any:
    """Serve the metrics of every worker process on ``host:port``; return the server."""
    prom = _client()
    multiprocess: Any = import_extra(
        "prometheus_client.multiprocess", distribution="loom-jobs", extra="prometheus"
    )
    registry = prom.CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    server, _thread = prom.start_http_server(port, addr=host, registry=registry)
    return server


def mark_dead(pid: int) -> None:
    """Drop a finished process's live gauges."""
    multiprocess: Any = import_extra(
        "prometheus_client.multiprocess", distribution="loom-jobs", extra="prometheus"
    )
    multiprocess.mark_process_dead(pid)


class PrometheusObserver:
    """Counts attempts by outcome and times them (a :class:`JobObserver`)."""

    def __init__(self) -> None:
        prom = _client()
        self.attempts = prom.Counter(
            "loom_job_attempts_total",
            "Job attempts by outcome (succeeded, retry, failed).",
            ["job", "queue", "outcome"],
        )
        self.seconds = prom.Histogram(
            "loom_job_attempt_seconds",
            "Time one job attempt took.",
            ["job", "queue"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600),
        )

    def observe(self, job: str, queue: str, outcome: str, seconds: float) -> None:
        """Record one finished attempt."""
        self.attempts.labels(job, queue, outcome).inc()
        self.seconds.labels(job, queue).observe(seconds)

"""Prometheus metrics of a REST application: requests and use cases by route and status."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "RestMetrics"]


class RestMetrics:
    """One registry per application, so several apps in one process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "loom_http_requests_total",
            "HTTP requests by route, method and status.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "loom_http_request_duration_seconds",
            "HTTP request latency by route and method.",
            ("route", "method"),
            registry=self.registry,
        )
        self.use_cases = Counter(
            "loom_use_case_total",
            "Use-case runs by use case and outcome (ok or the error code).",
            ("use_case", "outcome"),
            registry=self.registry,
        )
        self.use_case_latency = Histogram(
            "loom_use_case_duration_seconds",
            "Use-case latency by use case.",
            ("use_case",),
            registry=self.registry,
        )

    def observe(
        self, route: str, method: str, status: int, use_case: str, outcome: str, seconds: float
    ) -> None:
        """Record one request and the use case it ran."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)
        self.use_cases.labels(use_case, outcome).inc()
        self.use_case_latency.labels(use_case).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format."""
        rendered: bytes = generate_latest(self.registry)
        return rendered

"""Typed settings for the sections loom-core owns: app, database, jobs, observability."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "AppSettings",
    "CorsSettings",
    "DatabaseSettings",
    "DiscoverySettings",
    "JobsSettings",
    "LogSettings",
    "ManifestDiscovery",
    "ModulesDiscovery",
    "ObservabilitySettings",
    "OtelSettings",
    "PrometheusSettings",
    "RestSettings",
]


class _Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Base of every settings struct: unknown keys are errors, values are immutable."""


class ModulesDiscovery(_Section, frozen=True):
    """``app.discovery.modules``: modules imported to find models, use cases, jobs, interfaces."""

    include: tuple[str, ...] = ()


class ManifestDiscovery(_Section, frozen=True):
    """``app.discovery.manifest``: a module listing MODELS, USE_CASES, JOBS and INTERFACES."""

    module: str | None = None


class DiscoverySettings(_Section, frozen=True):
    """``app.discovery``: how the application's declarations are found."""

    mode: Literal["modules", "manifest"] = "modules"
    modules: ModulesDiscovery = msgspec.field(default_factory=ModulesDiscovery)
    manifest: ManifestDiscovery = msgspec.field(default_factory=ManifestDiscovery)


class CorsSettings(_Section, frozen=True):
    """``app.rest.cors``: cross-origin resource sharing; off unless origins are listed."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE")
    allow_headers: tuple[str, ...] = ("*",)
    allow_credentials: bool = False
    max_age: int = 600


class RestSettings(_Section, frozen=True):
    """``app.rest``: how the REST runtimes publish the application."""

    backend: Literal["litestar", "starlette", "pyloop"] = "litestar"
    title: str = "loom API"
    version: str = "0.1.0"
    description: str = ""
    docs_url: str | None = "/docs"
    openapi_url: str = "/openapi.json"
    case: Literal["snake", "camel"] = "snake"
    default_limit: int = 50
    max_limit: int = 500
    max_body_size: int = 1_048_576
    access_log: bool = True
    freeze_gc: bool = True
    """Freeze the objects built at start-up out of the garbage collector (``gc.freeze``)."""
    cors: CorsSettings = msgspec.field(default_factory=CorsSettings)

    def __post_init__(self) -> None:
        if self.max_limit < 1 or self.default_limit < 1:
            raise ValueError("default_limit and max_limit must be at least 1")
        if self.default_limit > self.max_limit:
            raise ValueError(
                f"default_limit ({self.default_limit}) must not exceed max_limit ({self.max_limit})"
            )
        if self.max_body_size < 1:
            raise ValueError("max_body_size must be at least 1 byte")


class AppSettings(_Section, frozen=True):
    """``app``: the application's identity, code location, discovery and REST options."""

    name: str = "loom-app"
    code_path: str | None = None
    secret_key: str | None = None
    discovery: DiscoverySettings = msgspec.field(default_factory=DiscoverySettings)
    rest: RestSettings = msgspec.field(default_factory=RestSettings)


class DatabaseSettings(_Section, frozen=True):
    """``database``: the SQL database and its connection pool."""

    url: str = "sqlite+aiosqlite:///./app.db"
    auto_create: bool = True
    echo: bool = False
    pool_size: int | None = None
    max_overflow: int | None = None
    pool_timeout: float | None = None
    pool_recycle: int | None = None
    connect_timeout: float | None = None


class JobsSettings(_Section, frozen=True):
    """``jobs``: where dispatched jobs run."""

    backend: Literal["inline", "dramatiq"] = "inline"
    broker: str = "redis://127.0.0.1:6379/0"
    namespace: str | None = None
    concurrency: int = 8
    status_store: Literal["database", "redis"] = "database"


class LogSettings(_Section, frozen=True):
    """``observability.log``: loguru output."""

    enabled: bool = True
    level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    json: bool = False


class OtelSettings(_Section, frozen=True):
    """``observability.otel``: OpenTelemetry spans (needs an SDK configured by the process)."""

    enabled: bool = False
    service_name: str | None = None


class PrometheusSettings(_Section, frozen=True):
    """``observability.prometheus``: the Prometheus metrics endpoint."""

    enabled: bool = False
    path: str = "/metrics"
    port: int | None = None


class ObservabilitySettings(_Section, frozen=True):
    """``observability``: logs, traces and metrics."""

    log: LogSettings = msgspec.field(default_factory=LogSettings)
    otel: OtelSettings = msgspec.field(default_factory=OtelSettings)
    prometheus: PrometheusSettings = msgspec.field(default_factory=PrometheusSettings)

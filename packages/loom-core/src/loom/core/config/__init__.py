"""Configuration: YAML files through hydra-core/OmegaConf, validated into typed settings.

Example:
    >>> from loom.core.config import load_config
    >>> config = load_config("config/api.yaml", overrides=["database.echo=true"])  # doctest: +SKIP
    >>> config.database.url  # doctest: +SKIP
    'sqlite+aiosqlite:///./store.db'
"""

from loom.core.config._loader import LoomConfig, load_config
from loom.core.config._masking import MASK, masked
from loom.core.config._secrets import SecretProvider, register_secret_provider, secret_providers
from loom.core.config._sections import known_sections, register_section
from loom.core.config._settings import (
    AppSettings,
    CorsSettings,
    DatabaseSettings,
    DiscoverySettings,
    JobsSettings,
    LogSettings,
    ManifestDiscovery,
    ModulesDiscovery,
    ObservabilitySettings,
    OtelSettings,
    PrometheusSettings,
    RestSettings,
)

__all__ = [
    "MASK",
    "AppSettings",
    "CorsSettings",
    "DatabaseSettings",
    "DiscoverySettings",
    "JobsSettings",
    "LogSettings",
    "LoomConfig",
    "ManifestDiscovery",
    "ModulesDiscovery",
    "ObservabilitySettings",
    "OtelSettings",
    "PrometheusSettings",
    "RestSettings",
    "SecretProvider",
    "known_sections",
    "load_config",
    "masked",
    "register_secret_provider",
    "register_section",
    "secret_providers",
]

"""``loom.core.config.load_config``: files, overrides, resolvers, secrets, masking, validation."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from loom.core.config import (
    MASK,
    DatabaseSettings,
    JobsSettings,
    LogSettings,
    LoomConfig,
    known_sections,
    load_config,
    masked,
    register_secret_provider,
    register_section,
    secret_providers,
)
from loom.core.config import _secrets as secrets_registry
from loom.core.config import _sections as sections_registry
from loom.core.errors import ConfigurationError

WriteYaml = Callable[[str, str], Path]


@pytest.fixture(autouse=True)
def _isolated_registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo register_section / register_secret_provider after each test.

    There is no public "unregister", so the registries (module globals the public
    functions read at call time) are swapped for copies that monkeypatch restores.
    """
    monkeypatch.setattr(sections_registry, "_registered", dict(sections_registry._registered))
    monkeypatch.setattr(secrets_registry, "_providers", dict(secrets_registry._providers))
    monkeypatch.setattr(
        secrets_registry, "_entry_points_loaded", secrets_registry._entry_points_loaded
    )


def config_error(*paths: Path, overrides: tuple[str, ...] = ()) -> str:
    """Return the message of the ConfigurationError that loading must raise."""
    with pytest.raises(ConfigurationError) as caught:
        load_config(*paths, overrides=list(overrides))
    return str(caught.value)


# --- defaults and merging -------------------------------------------------------------------


def test_no_files_gives_every_core_default() -> None:
    config = load_config()
    assert isinstance(config, LoomConfig)
    assert config.sources == ()
    assert config.app.name == "loom-app"
    assert config.app.rest.max_limit == 500
    assert config.database == DatabaseSettings()
    assert config.jobs == JobsSettings()
    assert config.observability.log == LogSettings()
    assert config.to_dict() == {}


def test_missing_keys_take_their_defaults(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        "api.yaml",
        """
        app:
          name: shop
          rest: {title: Shop API}
        """,
    )
    config = load_config(path)
    assert config.sources == (str(path),)
    assert config.app.name == "shop"
    assert config.app.rest.title == "Shop API"
    assert config.app.rest.max_limit == 500
    assert config.app.discovery.mode == "modules"
    assert config.database.url == DatabaseSettings().url
    effective = config.to_dict()
    assert list(effective) == ["app"]
    assert effective["app"]["rest"]["docs_url"] == "/docs"


def test_settings_are_immutable(write_yaml: WriteYaml) -> None:
    config = load_config(write_yaml("api.yaml", "app: {name: shop}"))
    with pytest.raises(AttributeError):
        config.app.name = "other"  # type: ignore[misc]


def test_later_files_win_and_merge_deeply(write_yaml: WriteYaml) -> None:
    base = write_yaml(
        "base.yaml",
        """
        app:
          name: shop
          rest: {title: Shop API, max_limit: 100}
        database:
          url: sqlite:///base.db
          echo: true
        """,
    )
    prod = write_yaml(
        "prod.yaml",
        """
        app:
          rest: {max_limit: 1000}
        database:
          url: postgresql://db/shop
        """,
    )
    config = load_config(base, prod)
    assert config.sources == (str(base), str(prod))
    assert config.app.name == "shop"
    assert config.app.rest.title == "Shop API"
    assert config.app.rest.max_limit == 1000
    assert config.database.url == "postgresql://db/shop"
    assert config.database.echo is True

    reversed_order = load_config(str(prod), str(base))
    assert reversed_order.app.rest.max_limit == 100
    assert reversed_order.database.url == "sqlite:///base.db"


# --- overrides ------------------------------------------------------------------------------


@pytest.fixture
def api_yaml(write_yaml: WriteYaml) -> Path:
    return write_yaml(
        "api.yaml",
        """
        app:
          name: shop
        database:
          url: sqlite:///shop.db
          pool_size: 5
        jobs:
          backend: inline
        """,
    )


def test_key_value_overrides_win_over_files_with_typed_values(api_yaml: Path) -> None:
    config = load_config(
        api_yaml,
        overrides=[
            "app.name=cli-shop",
            "app.rest.title='My Shop API'",
            "database.pool_size=20",
            "database.echo=true",
            "database.pool_timeout=2.5",
        ],
    )
    assert config.app.name == "cli-shop"
    assert config.app.rest.title == "My Shop API"
    assert config.database.pool_size == 20
    assert config.database.echo is True
    assert config.database.pool_timeout == 2.5
    assert config.database.url == "sqlite:///shop.db"


def test_plus_adds_an_absent_key(api_yaml: Path) -> None:
    config = load_config(api_yaml, overrides=["+database.max_overflow=3", "+app.code_path=src"])
    assert config.database.max_overflow == 3
    assert config.app.code_path == "src"


def test_plus_on_a_present_key_is_an_error(api_yaml: Path) -> None:
    message = config_error(api_yaml, overrides=("+database.pool_size=9",))
    assert "bad override '+database.pool_size=9'" in message
    assert "database.pool_size is already set" in message


def test_tilde_deletes_a_key_and_its_default_comes_back(api_yaml: Path) -> None:
    config = load_config(api_yaml, overrides=["~database.pool_size"])
    assert config.database.pool_size is None
    assert "pool_size" in config.to_dict()["database"]
    assert config.to_dict()["database"]["pool_size"] is None


def test_tilde_deletes_a_whole_section(api_yaml: Path) -> None:
    config = load_config(api_yaml, overrides=["~jobs"])
    assert "jobs" not in config.to_dict()
    assert config.jobs == JobsSettings()


def test_tilde_on_an_absent_key_is_an_error(api_yaml: Path) -> None:
    message = config_error(api_yaml, overrides=("~database.echo",))
    assert "bad override '~database.echo'" in message
    assert "nothing to delete" in message


@pytest.mark.parametrize("text", ["database.pool_size", "a..b=1", "database.url=[unclosed"])
def test_bad_override_syntax_is_a_configuration_error(api_yaml: Path, text: str) -> None:
    message = config_error(api_yaml, overrides=(text,))
    assert message.startswith(f"bad override {text!r}")
    assert "key=value" in message


@pytest.mark.parametrize("text", ["database.pool_size=1,2", "database.pool_size=choice(1,2)"])
def test_sweeps_are_rejected(api_yaml: Path, text: str) -> None:
    message = config_error(api_yaml, overrides=(text,))
    assert message == f"bad override {text!r}: sweeps are not supported"


def test_override_to_an_unknown_key_fails_validation_with_its_path(api_yaml: Path) -> None:
    message = config_error(api_yaml, overrides=("database.pool_sise=3",))
    assert "database.pool_sise: unknown key" in message
    assert "pool_size" in message


# --- ${oc.env:...} --------------------------------------------------------------------------


@pytest.fixture
def env_yaml(write_yaml: WriteYaml) -> Path:
    return write_yaml(
        "env.yaml",
        """
        database:
          url: ${oc.env:LOOM_TEST_DATABASE_URL,sqlite+aiosqlite:///./store.db}
        jobs:
          broker: ${oc.env:LOOM_TEST_BROKER_URL,redis://127.0.0.1:6379/0}
        """,
    )


def test_oc_env_uses_the_variable_when_set(env_yaml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOM_TEST_DATABASE_URL", "postgresql://db.internal/shop")
    monkeypatch.setenv("LOOM_TEST_BROKER_URL", "amqp://mq.internal:5672/")
    config = load_config(env_yaml)
    assert config.database.url == "postgresql://db.internal/shop"
    assert config.jobs.broker == "amqp://mq.internal:5672/"


def test_oc_env_uses_the_default_when_unset(
    env_yaml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOOM_TEST_DATABASE_URL", raising=False)
    monkeypatch.delenv("LOOM_TEST_BROKER_URL", raising=False)
    config = load_config(env_yaml)
    assert config.database.url == "sqlite+aiosqlite:///./store.db"
    assert config.jobs.broker == "redis://127.0.0.1:6379/0"


def test_env_strings_are_coerced_to_the_declared_types(
    write_yaml: WriteYaml, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_yaml(
        "env.yaml",
        """
        database:
          pool_size: ${oc.env:LOOM_TEST_POOL_SIZE}
          echo: ${oc.env:LOOM_TEST_ECHO}
          pool_timeout: ${oc.env:LOOM_TEST_POOL_TIMEOUT}
        """,
    )
    monkeypatch.setenv("LOOM_TEST_POOL_SIZE", "5")
    monkeypatch.setenv("LOOM_TEST_ECHO", "true")
    monkeypatch.setenv("LOOM_TEST_POOL_TIMEOUT", "2.5")
    config = load_config(path)
    assert config.database.pool_size == 5
    assert type(config.database.pool_size) is int
    assert config.database.echo is True
    assert config.database.pool_timeout == 2.5


def test_env_string_that_is_not_a_number_names_the_key(
    write_yaml: WriteYaml, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_yaml("env.yaml", "database: {pool_size: '${oc.env:LOOM_TEST_POOL_SIZE}'}")
    monkeypatch.setenv("LOOM_TEST_POOL_SIZE", "five")
    message = config_error(path)
    assert f"{path}: database.pool_size:" in message
    assert "int" in message


def test_unset_variable_without_default_names_file_key_and_variable(
    write_yaml: WriteYaml, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOOM_TEST_NOPE", raising=False)
    path = write_yaml("env.yaml", "jobs: {broker: '${oc.env:LOOM_TEST_NOPE}'}")
    with pytest.raises(ConfigurationError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: jobs.broker: cannot resolve")
    assert "LOOM_TEST_NOPE" in message
    assert "${oc.env:NAME,default}" in message
    assert (caught.value.source, caught.value.key) == (str(path), "jobs.broker")


# --- ${secret:...} --------------------------------------------------------------------------

DB_PASSWORD = "pa55-from-env-7f3a"
FILE_SECRET = "tok-from-file-91c2"


def test_env_secret_is_resolved(write_yaml: WriteYaml, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOM_TEST_DB_PASSWORD", DB_PASSWORD)
    path = write_yaml(
        "api.yaml",
        "database: {url: 'postgresql://app:${secret:env:LOOM_TEST_DB_PASSWORD}@db:5432/shop'}",
    )
    config = load_config(path)
    assert config.database.url == f"postgresql://app:{DB_PASSWORD}@db:5432/shop"


def test_file_secret_is_read_with_its_trailing_newline_stripped(
    write_yaml: WriteYaml, tmp_path: Path
) -> None:
    secret_file = tmp_path / "run" / "secrets" / "namespace"
    secret_file.parent.mkdir(parents=True)
    secret_file.write_text(FILE_SECRET + "\n", encoding="utf-8")
    path = write_yaml("api.yaml", f"jobs: {{namespace: '${{secret:file:{secret_file}}}'}}")
    assert load_config(path).jobs.namespace == FILE_SECRET


def test_missing_secret_file_names_file_key_and_path(write_yaml: WriteYaml, tmp_path: Path) -> None:
    absent = tmp_path / "absent-secret"
    path = write_yaml("api.yaml", f"jobs: {{namespace: '${{secret:file:{absent}}}'}}")
    message = config_error(path)
    assert message.startswith(f"{path}: jobs.namespace: cannot resolve")
    assert str(absent) in message


def test_custom_secret_provider(write_yaml: WriteYaml) -> None:
    calls: list[str] = []
    vault = {"shop/db": "vault-pw-31d8"}

    def from_vault(key: str) -> str:
        calls.append(key)
        return vault[key]

    register_secret_provider("vault", from_vault)
    assert secret_providers()["vault"] is from_vault
    path = write_yaml(
        "api.yaml", "database: {url: 'postgresql://app:${secret:vault:shop/db}@db/x'}"
    )
    config = load_config(path)
    assert calls == ["shop/db"]
    assert config.database.url == "postgresql://app:vault-pw-31d8@db/x"
    assert "vault-pw-31d8" not in config.to_yaml()


def test_custom_provider_lookup_error_names_file_key_and_secret(write_yaml: WriteYaml) -> None:
    def empty_vault(key: str) -> str:
        raise KeyError(f"no entry {key!r}")

    register_secret_provider("vault", empty_vault)
    path = write_yaml("api.yaml", "jobs: {namespace: '${secret:vault:shop/missing}'}")
    message = config_error(path)
    assert message.startswith(f"{path}: jobs.namespace:")
    assert "secret vault:shop/missing" in message
    assert "no entry 'shop/missing'" in message


def test_unknown_secret_provider_lists_the_known_ones(write_yaml: WriteYaml) -> None:
    path = write_yaml("api.yaml", "jobs: {namespace: '${secret:hsm:key1}'}")
    message = config_error(path)
    assert message.startswith(f"{path}: jobs.namespace:")
    assert "unknown secret provider 'hsm'" in message
    known = re.search(r"known: (.*)$", message)
    assert known is not None
    assert {"env", "file"} <= set(known[1].split(", "))


def test_missing_env_secret_names_file_key_and_variable(
    write_yaml: WriteYaml, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOOM_TEST_ABSENT_SECRET", raising=False)
    path = write_yaml(
        "api.yaml",
        """
        app: {name: shop}
        jobs:
          broker: ${secret:env:LOOM_TEST_ABSENT_SECRET}
        """,
    )
    with pytest.raises(ConfigurationError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: jobs.broker: cannot resolve")
    assert "LOOM_TEST_ABSENT_SECRET" in message
    assert (caught.value.source, caught.value.key) == (str(path), "jobs.broker")


def test_malformed_secret_reference_explains_the_syntax(write_yaml: WriteYaml) -> None:
    path = write_yaml("api.yaml", "jobs: {namespace: '${secret:env}'}")
    message = config_error(path)
    assert f"{path}: jobs.namespace:" in message
    assert "${secret:provider:key}" in message


# --- masking --------------------------------------------------------------------------------


@pytest.fixture
def secret_config(
    write_yaml: WriteYaml, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> LoomConfig:
    monkeypatch.setenv("LOOM_TEST_DB_PASSWORD", DB_PASSWORD)
    secret_file = tmp_path / "namespace.secret"
    secret_file.write_text(FILE_SECRET, encoding="utf-8")
    path = write_yaml(
        "api.yaml",
        f"""
        app:
          name: shop
          secret_key: plain-signing-key-5b0e
        database:
          url: postgresql://app:${{secret:env:LOOM_TEST_DB_PASSWORD}}@db:5432/shop
          echo: true
        jobs:
          namespace: ${{secret:file:{secret_file}}}
          broker: redis://:plain-redis-pw-c4d1@cache:6379/0
        """,
    )
    return load_config(path)


SECRETS = (DB_PASSWORD, FILE_SECRET, "plain-signing-key-5b0e", "plain-redis-pw-c4d1")


def test_secrets_are_resolved_for_the_program(secret_config: LoomConfig) -> None:
    assert secret_config.database.url == f"postgresql://app:{DB_PASSWORD}@db:5432/shop"
    assert secret_config.jobs.namespace == FILE_SECRET
    assert secret_config.app.secret_key == "plain-signing-key-5b0e"
    unmasked = str(secret_config.to_dict(mask=False))
    assert all(secret in unmasked for secret in SECRETS)


@pytest.mark.parametrize(
    "render",
    [LoomConfig.to_yaml, lambda c: str(c.to_dict()), repr, str],
    ids=["to_yaml", "to_dict", "repr", "str"],
)
def test_printed_config_never_shows_a_secret(
    secret_config: LoomConfig, render: Callable[[LoomConfig], str]
) -> None:
    text = render(secret_config)
    for secret in SECRETS:
        assert secret not in text
    assert MASK in text


def test_masked_values_keep_their_shape(secret_config: LoomConfig) -> None:
    shown = secret_config.to_dict()
    assert shown["database"]["url"] == f"postgresql://app:{MASK}@db:5432/shop"
    assert shown["jobs"]["namespace"] == MASK
    assert shown["jobs"]["broker"] == f"redis://:{MASK}@cache:6379/0"
    assert shown["app"]["secret_key"] == MASK
    assert shown["app"]["name"] == "shop"
    assert shown["database"]["echo"] is True


def test_url_without_password_is_not_masked(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        "api.yaml",
        "database: {url: 'postgresql://app@db:5432/shop'}\njobs: {broker: 'redis://cache:6379/0'}",
    )
    shown = load_config(path).to_dict()
    assert shown["database"]["url"] == "postgresql://app@db:5432/shop"
    assert shown["jobs"]["broker"] == "redis://cache:6379/0"


class VaultSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    address: str = "https://vault:8200"
    password: str = ""
    api_token: str = ""
    token_required: bool = False
    token_ttl: int = 60


def test_keys_that_name_a_secret_are_masked_but_not_booleans_or_numbers(
    write_yaml: WriteYaml,
) -> None:
    register_section("vault", VaultSettings)
    path = write_yaml(
        "api.yaml",
        """
        vault:
          password: pw-in-clear-0a9e
          api_token: tok-in-clear-77b1
          token_required: true
          token_ttl: 30
        """,
    )
    config = load_config(path)
    assert config.section("vault", VaultSettings).password == "pw-in-clear-0a9e"
    assert config.to_dict()["vault"] == {
        "address": "https://vault:8200",
        "password": MASK,
        "api_token": MASK,
        "token_required": True,
        "token_ttl": 30,
    }
    assert "pw-in-clear-0a9e" not in config.to_yaml()
    assert "tok-in-clear-77b1" not in repr(config)


def test_masked_function_on_plain_data() -> None:
    data = {
        "db": {"password": "p", "url": "mysql://u:p4ss@h/d", "enabled": True, "token": None},
        "items": ["sekrit-value", "other"],
    }
    assert masked(data, ["sekrit-value"]) == {
        "db": {"password": MASK, "url": f"mysql://u:{MASK}@h/d", "enabled": True, "token": None},
        "items": [MASK, "other"],
    }
    assert data["db"]["password"] == "p", "masked() returns a copy"


# --- validation messages --------------------------------------------------------------------


def test_unknown_section_names_file_and_lists_known_sections(write_yaml: WriteYaml) -> None:
    path = write_yaml("api.yaml", "app: {name: shop}\nstorge: {engine: polars}")
    message = config_error(path)
    assert message.startswith(f"{path}: storge: unknown section")
    listed = re.search(r"known sections: ([\w, ]+)", message)
    assert listed is not None
    assert {"app", "database", "jobs", "observability"} <= set(listed[1].strip().split(", "))


def test_unknown_nested_key_names_file_full_path_and_expected_keys(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        "api.yaml",
        """
        app:
          name: shop
          rest:
            titel: Shop API
        """,
    )
    message = config_error(path)
    assert message.startswith(f"{path}: app.rest.titel: unknown key")
    expected = re.search(r"expected one of: ([\w, ]+)", message)
    assert expected is not None
    assert {"title", "version", "max_limit", "cors"} <= set(expected[1].split(", "))


def test_unknown_key_in_a_later_file_names_that_file(write_yaml: WriteYaml) -> None:
    base = write_yaml("base.yaml", "database: {url: 'sqlite:///x.db'}")
    local = write_yaml("local.yaml", "database: {pool_sise: 3}")
    message = config_error(base, local)
    assert message.startswith(f"{local}: database.pool_sise: unknown key")
    assert str(base) not in message


def test_every_problem_is_reported_at_once(write_yaml: WriteYaml) -> None:
    path = write_yaml(
        "api.yaml",
        """
        app: {rest: {titel: x}}
        database: {pool_size: many}
        jobs: {backend: celery}
        """,
    )
    lines = config_error(path).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{path}: app.rest.titel: unknown key")
    assert lines[1].startswith(f"{path}: database.pool_size:")
    assert lines[2].startswith(f"{path}: jobs.backend:")
    assert "celery" in lines[2]


@pytest.mark.parametrize(
    ("yaml_text", "key", "hint"),
    [
        ("app: {rest: {max_limit: lots}}", "app.rest.max_limit", "expected `int`"),
        ("database: {echo: [1, 2]}", "database.echo", "expected `bool`"),
        ("app: {discovery: {modules: {include: [a, 1]}}}", "app.discovery.modules.include", "str"),
        ("observability: {log: {level: LOUD}}", "observability.log.level", "LOUD"),
        ("app: just-a-string", "app", "expected `object`"),
    ],
)
def test_wrong_type_names_the_key(
    write_yaml: WriteYaml, yaml_text: str, key: str, hint: str
) -> None:
    path = write_yaml("api.yaml", yaml_text)
    message = config_error(path)
    assert message.startswith(f"{path}: {key}")
    assert hint in message


def test_broken_yaml_names_file_and_line(write_yaml: WriteYaml) -> None:
    path = write_yaml("api.yaml", "app:\n  name: shop\n\trest: {}\n")
    message = config_error(path)
    assert message.startswith(f"{path}:3:")
    assert "invalid YAML" in message


def test_top_level_must_be_a_mapping(write_yaml: WriteYaml) -> None:
    path = write_yaml("api.yaml", "- app\n- database\n")
    assert config_error(path) == f"{path}: the top level must be a mapping of sections"


def test_missing_file_is_named(tmp_path: Path) -> None:
    absent = tmp_path / "nope" / "api.yaml"
    message = config_error(absent)
    assert message.startswith(f"{absent}: config file not found")


# --- registered sections --------------------------------------------------------------------


class ShopSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    currency: str = "EUR"
    max_items: int = 10
    tags: tuple[str, ...] = ()


class NeedsUrlSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    url: str


def test_registered_section_is_validated_and_returned_typed(write_yaml: WriteYaml) -> None:
    register_section("shop", ShopSettings)
    assert known_sections()["shop"] is ShopSettings
    path = write_yaml("api.yaml", "shop: {currency: USD, max_items: '25', tags: [a, b]}")
    config = load_config(path)
    shop = config.section("shop", ShopSettings)
    assert shop == ShopSettings(currency="USD", max_items=25, tags=("a", "b"))
    assert config.section("shop", ShopSettings) is shop
    assert config.to_dict()["shop"] == {"currency": "USD", "max_items": 25, "tags": ["a", "b"]}


def test_registered_section_absent_from_files_gives_defaults() -> None:
    register_section("shop", ShopSettings)
    assert load_config().section("shop", ShopSettings) == ShopSettings()


def test_registered_section_unknown_key_lists_its_fields(write_yaml: WriteYaml) -> None:
    register_section("shop", ShopSettings)
    path = write_yaml("api.yaml", "shop: {colour: red}")
    message = config_error(path)
    expected = "shop.colour: unknown key; expected one of: currency, max_items, tags"
    assert message == f"{path}: {expected}"


def test_registered_section_missing_required_key(write_yaml: WriteYaml) -> None:
    register_section("needs", NeedsUrlSettings)
    path = write_yaml("api.yaml", "needs: {}")
    message = config_error(path)
    assert message.startswith(f"{path}: needs.url: required key is missing")
    with pytest.raises(ConfigurationError, match=r"needs\.url: required key is missing"):
        load_config().section("needs", NeedsUrlSettings)


def test_section_asked_for_with_another_type_is_an_error(write_yaml: WriteYaml) -> None:
    register_section("shop", ShopSettings)
    config = load_config(write_yaml("api.yaml", "shop: {currency: USD}"))
    with pytest.raises(ConfigurationError, match="holds ShopSettings, not VaultSettings"):
        config.section("shop", VaultSettings)


def test_register_section_rejects_a_non_struct() -> None:
    with pytest.raises(ConfigurationError, match=r"must be a msgspec\.Struct"):
        register_section("bad", dict)  # type: ignore[arg-type]
    assert "bad" not in known_sections()


def test_a_bad_value_from_an_override_is_blamed_on_the_override(write_yaml) -> None:
    path = write_yaml("api.yaml", "database: {pool_size: 5}\n")
    with pytest.raises(ConfigurationError) as info:
        load_config(path, overrides=["database.pool_size=abc"])
    assert str(info.value).startswith("overrides: database.pool_size:")


def test_an_override_without_a_key_is_a_bad_override() -> None:
    with pytest.raises(ConfigurationError, match="bad override '=x'"):
        load_config(overrides=["=x"])


def test_a_url_password_with_an_at_sign_is_fully_masked() -> None:
    shown = masked({"url": "postgresql://u:p@ss@host/db"})
    assert shown == {"url": "postgresql://u:***@host/db"}

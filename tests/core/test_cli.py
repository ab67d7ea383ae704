"""The ``loom`` command: run for real in a subprocess, plug-ins in-process with a fake registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from loom.core.cli import PLUGIN_GROUP, CliContext, main, run

WriteYaml = Callable[[str, str], Path]

DISTRIBUTIONS = ("loom-core", "loom-store", "loom-rest", "loom-jobs", "loom-etl", "loom-pyloop")
PASSWORD = "cli-pw-6e2b90"


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment without colour forcing, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}
    }
    env.update(NO_COLOR="1", COLUMNS="200", PYTHONIOENCODING="utf-8")
    env.update(extra or {})
    return env


def loom(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    command: tuple[str, ...] = (sys.executable, "-m", "loom.core.cli"),
) -> subprocess.CompletedProcess[str]:
    """Run ``loom ARGS`` in a real subprocess and capture its output."""
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=_clean_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def loom_script() -> str:
    """The installed ``loom`` console script (next to the interpreter, else on PATH)."""
    beside = Path(sys.executable).with_name("loom")
    if beside.is_file():
        return str(beside)
    found = shutil.which("loom")
    assert found, "the `loom` console script of loom-core is not installed"
    return found


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_versions_listed(stdout: str) -> None:
    lines = stdout.splitlines()
    for dist in DISTRIBUTIONS:
        expected = version(dist)
        assert any(dist in line and expected in line for line in lines), (dist, stdout)
    assert any("loom-core" in line and "0.1.0" in line for line in lines)


# --- real subprocess ------------------------------------------------------------------------


def test_version_lists_every_distribution(tmp_path: Path) -> None:
    result = loom("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_versions_listed(result.stdout)


def test_installed_console_script_runs(tmp_path: Path) -> None:
    result = loom("--version", cwd=tmp_path, command=(loom_script(),))
    assert result.returncode == 0, result.stderr
    assert_versions_listed(result.stdout)


@pytest.fixture
def api_yaml(write_yaml: WriteYaml) -> Path:
    return write_yaml(
        "api.yaml",
        """
        app:
          name: shop
        database:
          url: postgresql://app:${secret:env:LOOM_TEST_CLI_PW}@db:5432/shop
        jobs:
          namespace: ${oc.env:LOOM_TEST_CLI_NS,shop-jobs}
        """,
    )


def test_config_show_prints_resolved_yaml_with_overrides_and_masked_secrets(
    api_yaml: Path, write_yaml: WriteYaml, tmp_path: Path
) -> None:
    local = write_yaml("local.yaml", "app: {rest: {title: Local Shop}}")
    result = loom(
        "config",
        "show",
        str(api_yaml),
        str(local),
        "app.name=from-cli",
        "+database.pool_size=7",
        "~jobs",
        cwd=tmp_path,
        env={"LOOM_TEST_CLI_PW": PASSWORD},
    )
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout
    assert PASSWORD not in result.stderr
    shown = yaml.safe_load(result.stdout)
    assert list(shown) == ["app", "database"]
    assert shown["app"]["name"] == "from-cli"
    assert shown["app"]["rest"]["title"] == "Local Shop"
    assert shown["app"]["rest"]["max_limit"] == 500
    assert shown["database"]["pool_size"] == 7
    assert shown["database"]["url"] == "postgresql://app:***@db:5432/shop"


def test_config_show_json(api_yaml: Path, tmp_path: Path) -> None:
    result = loom(
        "config",
        "show",
        "--format",
        "json",
        str(api_yaml),
        cwd=tmp_path,
        env={"LOOM_TEST_CLI_PW": PASSWORD, "LOOM_TEST_CLI_NS": "from-env"},
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["jobs"]["namespace"] == "from-env"
    assert shown["database"]["url"] == "postgresql://app:***@db:5432/shop"
    assert PASSWORD not in result.stdout


def test_config_validate_good_config(api_yaml: Path, tmp_path: Path) -> None:
    result = loom(
        "config", "validate", str(api_yaml), cwd=tmp_path, env={"LOOM_TEST_CLI_PW": PASSWORD}
    )
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "api.yaml" in result.stdout
    assert error_lines(result.stderr) == []
    assert PASSWORD not in result.stdout


@dataclass(frozen=True)
class BadCase:
    files: dict[str, str]
    args: tuple[str, ...]
    expected: tuple[str, ...]  # substrings of the single error line; "{dir}" = tmp_path


BAD_CASES = {
    "broken-yaml": BadCase(
        {"api.yaml": "app:\n  name: shop\n\trest: {}\n"},
        ("{dir}/api.yaml",),
        ("{dir}/api.yaml:3:", "invalid YAML"),
    ),
    "missing-file": BadCase(
        {},
        ("{dir}/nope.yaml",),
        ("{dir}/nope.yaml", "not found"),
    ),
    "unknown-key": BadCase(
        {"api.yaml": "app:\n  rest:\n    titel: Shop\n"},
        ("{dir}/api.yaml",),
        ("{dir}/api.yaml", "app.rest.titel", "unknown key", "title"),
    ),
    "bad-override": BadCase(
        {"api.yaml": "app: {name: shop}\n"},
        ("{dir}/api.yaml", "database.pool_size=1,2"),
        ("bad override", "database.pool_size", "sweeps"),
    ),
    "unresolvable-env": BadCase(
        {"api.yaml": "jobs:\n  broker: ${oc.env:LOOM_TEST_CLI_NOPE}\n"},
        ("{dir}/api.yaml",),
        ("{dir}/api.yaml", "jobs.broker", "LOOM_TEST_CLI_NOPE"),
    ),
}


@pytest.fixture(params=sorted(BAD_CASES))
def bad_case(request: pytest.FixtureRequest, tmp_path: Path, write_yaml: WriteYaml) -> BadCase:
    case = BAD_CASES[request.param]
    for name, text in case.files.items():
        write_yaml(name, text)
    return BadCase(
        case.files,
        tuple(a.replace("{dir}", str(tmp_path)) for a in case.args),
        tuple(e.replace("{dir}", str(tmp_path)) for e in case.expected),
    )


@pytest.mark.parametrize("subcommand", ["validate", "show"])
def test_bad_config_exits_2_with_one_clear_error_line(
    bad_case: BadCase, subcommand: str, tmp_path: Path
) -> None:
    result = loom("config", subcommand, *bad_case.args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    for expected in bad_case.expected:
        assert expected in lines[0]


def test_debug_shows_the_traceback(tmp_path: Path, write_yaml: WriteYaml) -> None:
    path = write_yaml("api.yaml", "app:\n  rest:\n    titel: Shop\n")
    result = loom("--debug", "config", "validate", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert "ConfigurationError" in result.stderr
    assert "app.rest.titel" in result.stderr


def test_config_without_a_file_is_a_usage_error(tmp_path: Path) -> None:
    result = loom("config", "show", "app.name=x", cwd=tmp_path)
    assert result.returncode == 2
    assert "give at least one config file" in result.stderr
    assert "Traceback" not in result.stderr


# --- plug-ins through the loom.cli entry-point group (in-process) ---------------------------


@dataclass
class FakeEntryPoint:
    name: str
    value: str
    loader: Callable[[], object]
    group: str = PLUGIN_GROUP

    def load(self) -> object:
        return self.loader()


@click.group(name="hello", help="Say hello from a plug-in.")
def hello() -> None:
    pass


@hello.command()
@click.option("--name", default="world")
@click.pass_obj
def greet(obj: CliContext, name: str) -> None:
    click.echo(f"hello, {name} (debug={obj.debug})")


def _raise_import_error() -> object:
    raise ImportError("No module named 'loom_missing_extra'")


def _raise_attribute_error() -> object:
    raise AttributeError("module 'loom_fake.cli' has no attribute 'cmd'")


@click.command(name="quits")
@click.pass_context
def quits(ctx: click.Context) -> None:
    ctx.exit(3)


PLUGINS = [
    FakeEntryPoint("hello", "loom_fake.cli:hello", lambda: hello),
    FakeEntryPoint("broken", "loom_fake.broken:cmd", _raise_import_error),
    FakeEntryPoint("notacommand", "loom_fake.cli:helper", lambda: print),
    FakeEntryPoint("quits", "loom_fake.cli:quits", lambda: quits),
    FakeEntryPoint("other-group", "x:y", lambda: hello, group="not.loom.cli"),
]


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> list[FakeEntryPoint]:
    installed = list(PLUGINS)

    def fake_entry_points(
        *, group: str | None = None, name: str | None = None
    ) -> list[FakeEntryPoint]:
        return [
            ep
            for ep in installed
            if (group is None or ep.group == group) and (name is None or ep.name == name)
        ]

    monkeypatch.setattr("loom.core.cli._app.entry_points", fake_entry_points)
    return installed


def test_plugin_subcommand_is_listed_and_runnable(plugins: list[FakeEntryPoint]) -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["--help"])
    assert listing.exit_code == 0, listing.output
    assert "hello" in listing.output
    assert "Say hello from a plug-in." in listing.output
    assert "config" in listing.output
    assert "other-group" not in listing.output

    result = runner.invoke(main, ["--debug", "hello", "greet", "--name", "Ada"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello, Ada (debug=True)\n"


def test_unknown_subcommand_is_a_usage_error(plugins: list[FakeEntryPoint]) -> None:
    result = CliRunner().invoke(main, ["nosuch"])
    assert result.exit_code == 2
    assert "nosuch" in result.output


def test_broken_plugin_is_listed_as_unavailable_without_breaking_help(
    plugins: list[FakeEntryPoint],
) -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["--help"])
    assert listing.exit_code == 0, listing.output
    assert listing.exception is None
    assert "broken" in listing.output
    assert "unavailable" in listing.output

    result = runner.invoke(main, ["broken", "--anything"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "'broken'" in result.output
    assert "loom_fake.broken:cmd" in result.output
    assert "cannot load" in result.output
    assert "loom_missing_extra" in result.output


def test_plugin_that_is_not_a_click_command_is_reported(plugins: list[FakeEntryPoint]) -> None:
    result = CliRunner().invoke(main, ["notacommand"])
    assert result.exit_code == 1
    assert "not a click.Command" in result.output


def test_plugin_with_a_missing_attribute_does_not_break_help(
    plugins: list[FakeEntryPoint],
) -> None:
    plugins.append(FakeEntryPoint("renamed", "loom_fake.cli:cmd", _raise_attribute_error))
    listing = CliRunner().invoke(main, ["--help"])
    assert listing.exit_code == 0
    assert "unavailable" in listing.output


def test_run_keeps_a_subcommands_exit_code(plugins: list[FakeEntryPoint]) -> None:
    with pytest.raises(SystemExit) as caught:
        run(["quits"])
    assert caught.value.code == 3

"""Install-alone check: every distribution installs and imports with loom-core only.

For each distribution under packages/: build its wheel, fail if any wheel ships
``loom/__init__.py``, install loom-core's wheel plus that wheel (by file path) into a
fresh virtualenv, import every module it ships, and accept an import failure only when
it is a ``MissingDependencyError`` naming one of the distribution's declared extras.
loom-core's own virtualenv must hold no web framework, SQL driver, broker client or
dataframe library. A table of what each virtualenv installed is printed at the end.

Usage: python tools/check_isolation.py [--uv PATH] [--only core,store,...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from email.parser import Parser
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "store", "rest", "jobs", "etl", "pyloop")
FORBIDDEN_IN_CORE = {
    "litestar", "starlette", "fastapi", "uvicorn", "httptools", "uvloop",
    "sqlalchemy", "asyncpg", "aiosqlite", "psycopg", "psycopg2", "alembic",
    "dramatiq", "redis", "pika", "celery", "kombu",
    "polars", "deltalake", "pyspark", "pandas", "pyarrow",
}  # fmt: skip

IMPORT_PROBE = r"""
import importlib, json, sys
from loom.core.errors import MissingDependencyError
out = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
        out[name] = ["ok", ""]
    except MissingDependencyError as exc:
        out[name] = ["extra", f"{exc.distribution}[{exc.extra}]"]
    except BaseException as exc:
        out[name] = ["error", f"{type(exc).__name__}: {exc}"]
print(json.dumps(out))
"""

console = Console(width=140)


@dataclass
class Outcome:
    """What the check found for one distribution."""

    dist: str
    wheel: str = ""
    modules: int = 0
    needs_extra: list[str] = field(default_factory=list)
    installed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        console.print(f"[red]command failed:[/red] {' '.join(cmd)}\n{result.stdout}{result.stderr}")
        raise SystemExit(1)
    return result  # type: ignore[no-any-return]


def build_wheels(uv: str, out: Path, names: list[str]) -> dict[str, Path]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    wheels: dict[str, Path] = {}
    for name in names:
        run(
            [
                uv,
                "build",
                "--quiet",
                "--wheel",
                "--out-dir",
                str(out / name),
                str(ROOT / "packages" / f"loom-{name}"),
            ]
        )
        (wheel,) = (out / name).glob("*.whl")
        wheels[name] = wheel
    return wheels


def wheel_facts(wheel: Path) -> tuple[list[str], list[str], list[str]]:
    """Return (modules, declared extras, problems) read from the wheel itself."""
    problems: list[str] = []
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(zf.read(meta_name).decode())
    if "loom/__init__.py" in names:
        problems.append("wheel contains loom/__init__.py (loom must stay a namespace package)")
    modules = []
    for n in names:
        if n.startswith("loom/") and n.endswith(".py"):
            parts = n[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if parts[-1] == "__main__":
                continue
            modules.append(".".join(parts))
    extras = metadata.get_all("Provides-Extra") or []
    return sorted(modules), extras, problems


def check(uv: str, name: str, wheels: dict[str, Path], venvs: Path) -> Outcome:
    outcome = Outcome(dist=f"loom-{name}", wheel=wheels[name].name)
    modules, extras, problems = wheel_facts(wheels[name])
    outcome.problems.extend(problems)
    venv = venvs / name
    shutil.rmtree(venv, ignore_errors=True)
    run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    python = str(venv / "bin" / "python")
    targets = sorted({str(wheels["core"]), str(wheels[name])})
    run([uv, "pip", "install", "--quiet", "--python", python, *targets])

    listed = json.loads(run([uv, "pip", "list", "--format", "json", "--python", python]).stdout)
    outcome.installed = sorted(
        str(item["name"]).lower().replace("_", "-")
        for item in listed
        if not str(item["name"]).lower().startswith("loom-")
    )
    if name == "core":
        leaked = sorted(FORBIDDEN_IN_CORE & set(outcome.installed))
        if leaked:
            outcome.problems.append(f"loom-core pulls in {', '.join(leaked)}")

    probe = run([python, "-c", IMPORT_PROBE, *modules], cwd=str(venvs))
    results: dict[str, list[str]] = json.loads(probe.stdout)
    outcome.modules = sum(1 for status, _ in results.values() if status == "ok")
    for module, (status, detail) in results.items():
        if status == "extra":
            extra = detail.partition("[")[2].rstrip("]")
            if detail.startswith(f"loom-{name}[") and extra in extras:
                outcome.needs_extra.append(f"{module} → {detail}")
            else:
                outcome.problems.append(f"{module}: names an undeclared extra {detail}")
        elif status == "error":
            outcome.problems.append(f"{module}: {detail}")
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uv", default=shutil.which("uv") or "uv")
    parser.add_argument("--only", default=",".join(PACKAGES), help="comma-separated packages")
    parser.add_argument("--work", default=str(ROOT / "build" / "isolation"))
    args = parser.parse_args()
    only = [p for p in args.only.split(",") if p]
    unknown = set(only) - set(PACKAGES)
    if unknown:
        parser.error(f"unknown packages: {', '.join(sorted(unknown))}")

    work = Path(args.work)
    wheels = build_wheels(args.uv, work / "wheels", sorted({"core", *only}, key=PACKAGES.index))
    outcomes = [check(args.uv, name, wheels, work / "venvs") for name in only]
    core_deps = set(next((o.installed for o in outcomes if o.dist == "loom-core"), []))

    table = Table(title="install-alone check", show_lines=True)
    columns = (
        "distribution",
        "modules imported",
        "needs an extra",
        "installed beyond loom-core's",
        "result",
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    for o in outcomes:
        table.add_row(
            o.dist,
            str(o.modules),
            "\n".join(o.needs_extra) or "-",
            ", ".join(
                o.installed if o.dist == "loom-core" else sorted(set(o.installed) - core_deps)
            )
            or "-",
            "[red]" + "\n".join(o.problems) + "[/red]" if o.problems else "[green]ok[/green]",
        )
    console.print(table)
    failed = [o.dist for o in outcomes if o.problems]
    if failed:
        console.print(f"[red]install-alone check failed for: {', '.join(failed)}[/red]")
        return 1
    console.print(f"[green]install-alone check passed for {len(outcomes)} distributions[/green]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``loom etl ...``: output, exit codes, resume after a crash.

Every command runs at least once in a real ``loom`` process; further error cases run the
same entry point (``loom.core.cli.run``) in this process, which is much faster.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("polars")
pytest.importorskip("deltalake")

PIPES = """
import datetime as dt
from pathlib import Path

import polars as pl

from loom.etl import (
    ETLParams, ETLPipeline, ETLProcess, ETLStep, FromTable, IntoTable, col, params,
)


class Day(ETLParams):
    day: dt.date
    regions: tuple[str, ...] = ("eu",)


class Load(ETLStep[Day]):
    orders = FromTable("raw.orders").where(
        (col("day") == params.day) & col("region").isin(params.regions)
    )
    target = IntoTable("staging.orders").append()

    def execute(self, params, *, orders):
        return orders


class Totals(ETLStep[Day]):
    orders = FromTable("staging.orders")
    target = IntoTable("mart.totals").replace()

    def execute(self, params, *, orders):
        marker = Path("fail_once")
        if marker.exists():
            marker.unlink()
            raise RuntimeError("flaky upstream")
        return orders.group_by("region").agg(pl.col("amount").sum())


class Daily(ETLProcess[Day]):
    steps = [Load, Totals]


class DailyPipeline(ETLPipeline[Day]):
    processes = [Daily]


class Broken(ETLStep[Day]):
    orders = FromTable("raw.orders").columns("amout").where(col("day") == params.dya)
    target = IntoTable("mart.broken").replace()

    def execute(self, params, *, orders):
        return orders


class BrokenProcess(ETLProcess[Day]):
    steps = [Broken]


class BrokenPipeline(ETLPipeline[Day]):
    processes = [BrokenProcess]
"""

CRASH = """
import os, sys
from loom.etl import ETLRunner
from loom.etl.history import RunHistory
from pipes import DailyPipeline

original = RunHistory.step_finished

def step_finished(self, row, **kwargs):
    if row.step == "Load" and row.status == "succeeded":
        os._exit(3)  # the process dies between Load's commit and its history row
    original(self, row, **kwargs)

RunHistory.step_finished = step_finished
runner = ETLRunner.from_yaml("etl.yaml", show=False)
runner.run(DailyPipeline, {"day": "2024-05-01", "regions": ["eu", "us"]}, run_id="crashed")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    import polars as pl
    from deltalake import write_deltalake

    (tmp_path / "pipes.py").write_text(textwrap.dedent(PIPES))
    (tmp_path / "crash.py").write_text(textwrap.dedent(CRASH))
    (tmp_path / "etl.yaml").write_text(
        "storage: {engine: polars, root: ./lake}\nobservability: {log: {level: WARNING}}\n"
    )
    import datetime as dt

    day = dt.date(2024, 5, 1)
    frame = pl.DataFrame(
        {"id": [1, 2, 3], "day": [day, day, day], "region": ["eu", "us", "apac"],
         "amount": [1.0, 2.0, 4.0]}
    )  # fmt: skip
    write_deltalake(str(tmp_path / "lake" / "raw" / "orders"), frame.to_arrow())
    return tmp_path


def loom(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``loom etl ARGS``; table borders in stdout become spaces, for simple matching."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "loom.core.cli", "etl", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    done.stdout = re.sub("[│┃]", " ", done.stdout)
    return done


def _one_line_errors(stderr: str) -> list[str]:
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.fixture
def inproc(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """``loom etl ARGS`` in this process: ``(exit code, stdout, stderr)``."""
    from loom.core.cli import run
    from loom.etl.cli import _common

    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(_common, "configure_logging", lambda settings: None)
    monkeypatch.setattr(_common, "configure_tracing", lambda settings: None)
    capsys.readouterr()

    def call(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as info:
            run(["etl", *args])
        out = capsys.readouterr()
        code = info.value.code
        return code if isinstance(code, int) else 0, re.sub("[│┃]", " ", out.out), out.err

    yield call
    sys.modules.pop("pipes", None)


def test_validate_prints_the_plan_and_reports_declaration_errors(
    project: Path, inproc: Any
) -> None:
    ok = loom(project, "validate", "pipes:DailyPipeline", "-c", "etl.yaml",
              "--param", "day=2024-05-01", "--param", "regions=eu,us")  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "pipeline DailyPipeline (params: Day(day=datetime.date(2024, 5, 1), " \
           "regions=('eu', 'us')))" in ok.stdout  # fmt: skip
    assert "1. Load (python)" in ok.stdout
    assert "write target -> table staging.orders append() schema=strict" in ok.stdout
    assert "2 steps to run" in ok.stdout
    assert not (project / "lake" / "staging").exists()  # nothing was written
    assert not (project / "lake" / "_loom_runs.db").exists()  # not even the run history

    code, _, err = inproc("validate", "pipes:BrokenPipeline", "-c", "etl.yaml")
    assert code == 2
    errors = _one_line_errors(err)
    assert errors[0] == "error: pipeline BrokenPipeline has 2 errors:"
    assert any("[etl_unknown_param]" in e and "(did you mean 'day'?)" in e for e in errors)
    assert any("column 'amout' is not in table raw.orders" in e for e in errors)


def test_bad_params_and_unknown_pipelines_exit_2_with_one_line(project: Path, inproc: Any) -> None:
    bad_date = loom(project, "run", "pipes:DailyPipeline", "-c", "etl.yaml", "-p", "day=2024-13-01")
    assert bad_date.returncode == 2
    assert _one_line_errors(bad_date.stderr) == [
        "error: --param day='2024-13-01': Invalid RFC3339 encoded date"
    ]
    code, _, err = inproc("run", "pipes:DailyPipeline", "-c", "etl.yaml", "-p", "dya=2024-05-01")
    assert code == 2
    assert "has no field 'dya' (did you mean 'day'?)" in _one_line_errors(err)[0]
    code, _, err = inproc("run", "pipes:DailyPipeline", "-c", "etl.yaml")
    assert (code, _one_line_errors(err)) == (2, ["error: --param day is required (NAME=VALUE)"])
    code, _, err = inproc("run", "pipes:Nope", "-c", "etl.yaml")
    assert (code, _one_line_errors(err)) == (2, ["error: module pipes has no attribute 'Nope'"])
    code, _, err = inproc("run", "pipes:DailyPipeline", "-c", "nope.yaml", "-p", "day=2024-05-01")
    assert code == 2
    assert "config file not found" in _one_line_errors(err)[0]
    assert not (project / "lake" / "staging").exists()


def _run_id(text: str) -> str:
    match = re.search(r"run ([0-9a-f]{32}) of DailyPipeline", text)
    assert match is not None, text
    return match[1]


def test_a_failed_run_exits_1_and_resumes_then_status_history_and_lineage(
    project: Path, inproc: Any
) -> None:
    (project / "fail_once").touch()
    failed = loom(project, "run", "pipes:DailyPipeline", "-c", "etl.yaml",
                  "-p", "day=2024-05-01", "-p", "regions=eu,us")  # fmt: skip
    assert failed.returncode == 1
    run_id = _run_id(failed.stdout)
    assert re.search(r"Load\s+succeeded\s+2\s+2", failed.stdout)
    assert re.search(r"Totals\s+failed", failed.stdout)
    errors = _one_line_errors(failed.stderr)
    assert errors[0] == f"error: run {run_id} of pipeline DailyPipeline failed at step Totals:"
    assert "RuntimeError: flaky upstream" in errors[1]
    assert f"--resume {run_id}" in failed.stderr

    resumed = loom(project, "run", "pipes:DailyPipeline", "-c", "etl.yaml", "--resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert f"run {run_id} of DailyPipeline: succeeded" in resumed.stdout
    assert "attempt 2" in resumed.stdout
    assert re.search(r"Load\s+reused", resumed.stdout)
    assert re.search(r"Totals\s+succeeded\s+2\s+2", resumed.stdout)  # Load appended once

    status = loom(project, "status", run_id, "-c", "etl.yaml")
    assert status.returncode == 0, status.stderr
    assert f"run {run_id} of DailyPipeline: succeeded" in status.stdout
    assert '"regions": ["eu", "us"]' in status.stdout
    assert "attempts  2" in status.stdout
    assert re.search(r"Load\s+2\s+reused", status.stdout)
    assert re.search(r"Totals\s+2\s+succeeded", status.stdout)

    listed = loom(project, "history", "pipes:DailyPipeline", "-c", "etl.yaml", "--limit", "5")
    assert listed.returncode == 0, listed.stderr
    assert re.search(rf"{run_id}\s+succeeded\s+\S+ \S+\s+\S+s\s+2\s+2/2", listed.stdout)

    chart = loom(project, "lineage", run_id, "-c", "etl.yaml", "--format", "mermaid")
    assert chart.returncode == 0, chart.stderr
    assert chart.stdout.splitlines()[0] == "flowchart LR"
    assert '    t_raw_orders -->|"2 rows, v0"| s_Load' in chart.stdout
    assert '    s_Totals -->|"2 rows, v0"| t_mart_totals' in chart.stdout

    code, out, _ = inproc("lineage", run_id, "-c", "etl.yaml")
    assert code == 0
    assert re.search(r"Totals\s+wrote\s+table\s+mart.totals\s+2\s+0", out)
    code, _, err = inproc("status", "nope", "-c", "etl.yaml")
    assert code == 2
    assert _one_line_errors(err)[0].startswith("error: run nope is not in the run history")
    code, _, err = inproc("run", "pipes:DailyPipeline", "-c", "etl.yaml",
                          "--resume", run_id, "-p", "day=2024-05-02")  # fmt: skip
    assert code == 2
    assert "drop --param" in _one_line_errors(err)[0]


def test_a_process_killed_after_a_commit_resumes_without_redoing_it(
    project: Path, inproc: Any
) -> None:
    crashed = subprocess.run(
        [sys.executable, "crash.py"], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert crashed.returncode == 3, crashed.stderr
    code, out, _ = inproc("status", "crashed", "-c", "etl.yaml")
    assert code == 0
    assert "interrupted" in out  # running in the history, but its process is gone
    assert re.search(r"Load\s+1\s+running", out)

    code, out, err = inproc("run", "pipes:DailyPipeline", "-c", "etl.yaml", "--resume", "crashed")

    assert code == 0, err
    assert re.search(r"Load\s+reused", out)
    assert re.search(r"Totals\s+succeeded\s+2\s+2", out)  # eu + us, appended once
    import polars as pl

    staged = pl.read_delta(str(project / "lake" / "staging" / "orders"))
    assert sorted(staged["id"].to_list()) == [1, 2]

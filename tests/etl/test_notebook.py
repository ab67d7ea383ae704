"""The example notebook runs headlessly (nbclient + ipykernel) without a cell failing."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("polars")
pytest.importorskip("deltalake")
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "etl"


@pytest.fixture
def kernel_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``python3`` kernel spec running this interpreter, found first on JUPYTER_PATH."""
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (loom tests)",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    return spec


def _outputs(notebook: object) -> str:
    texts = []
    for cell in notebook.cells:  # type: ignore[attr-defined]
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            for value in output.get("data", {}).values():
                texts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(texts)


def test_the_daily_orders_notebook_runs_and_shows_its_results(
    tmp_path: Path, kernel_dir: Path
) -> None:
    work = tmp_path / "example"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("lake", "out", "__pycache__"))
    notebook = nbformat.read(work / "daily_orders.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        startup_timeout=60,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()  # raises CellExecutionError naming the cell when one fails

    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert errors == []
    text = _outputs(notebook)
    assert (
        "pipeline DailyPipeline (params: DailyParams(run_date=datetime.date(2026, 1, 1)))" in text
    )
    assert "of DailyPipeline: " in text
    assert "SyncCustomers" in text
    assert "<pre" in text  # rendered by rich as HTML in the notebook
    assert "flowchart LR" in text
    assert (work / "lake" / "mart" / "daily_totals").is_dir()
    assert (work / "out" / "daily_totals.csv").read_text().startswith("run_date,country,")

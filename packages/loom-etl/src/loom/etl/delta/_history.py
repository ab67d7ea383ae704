"""Finding the commit a step made, by the ``loom.run_id`` and ``loom.step`` it carries."""

from __future__ import annotations

from typing import Any

from deltalake import DeltaTable

from loom.etl.backend._protocol import Commit, Location
from loom.etl.delta._read import storage_options

__all__ = ["find_commit"]


def _rows_written(entry: dict[str, Any]) -> int | None:
    metrics = entry.get("operationMetrics") or {}
    if "num_added_rows" in metrics:
        return int(metrics["num_added_rows"])
    if "num_target_rows_inserted" in metrics:
        return int(metrics["num_target_rows_inserted"]) + int(
            metrics.get("num_target_rows_updated", 0)
        )
    return None


def find_commit(location: Location, run_id: str, step: str) -> Commit | None:
    """The newest commit at ``location`` whose metadata names ``run_id`` and ``step``.

    Reads the table's commit history (newest first); ``None`` when there is no table or
    no such commit.
    """
    options = storage_options(location.storage_options)
    if not DeltaTable.is_deltatable(location.uri, storage_options=options):
        return None
    table = DeltaTable(location.uri, storage_options=options)
    for entry in table.history():
        if entry.get("loom.run_id") == run_id and entry.get("loom.step") == step:
            metadata = {k: str(v) for k, v in entry.items() if k.startswith("loom.")}
            return Commit(int(entry["version"]), metadata, _rows_written(entry))
    return None

"""Run history: every run and step attempt, lineage and high-water marks, in SQLite.

The ``history`` config section says where (``history.url``, ``sqlite:///…``; by default
``<storage.root>/_loom_runs.db``). :class:`~loom.etl.ETLRunner` writes it as it runs;
``loom etl status|history|lineage`` and :class:`RunHistory` read it::

    history = runner.history
    for run in history.runs("DailyPipeline", limit=5):
        print(run.run_id, run.status, run.duration_s)
    print(lineage_mermaid(history.lineage(run.run_id)))

loom-etl uses the standard library's ``sqlite3`` only: no SQLAlchemy, no server.
"""

from loom.etl.history._lineage import lineage_mermaid, lineage_table
from loom.etl.history._open import default_history_url, open_history
from loom.etl.history._rows import LineageRow, RunRow, StepRow, Watermark
from loom.etl.history._store import RunHistory

__all__ = [
    "LineageRow",
    "RunHistory",
    "RunRow",
    "StepRow",
    "Watermark",
    "default_history_url",
    "lineage_mermaid",
    "lineage_table",
    "open_history",
]

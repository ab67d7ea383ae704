"""`make bench` entry for the REST benchmark in tools/bench/rest (see its README)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    runpy.run_path(str(Path(__file__).resolve().parent / "rest" / "run.py"), run_name="__main__")

"""`make run`: serve the example store app (examples/store) on its embedded defaults.

SQLite file and in-process jobs; http://127.0.0.1:8000, docs at /docs. Set DATABASE_URL
(postgresql+asyncpg://...) or pass overrides after `--` to change it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "store"


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    print(f"Serving the example store API on http://{host}:{port} (docs: /docs, Ctrl-C to stop)")
    command = [
        sys.executable, "-m", "loom.core.cli", "serve", "config/api.yaml",
        "--host", host, "--port", port, *sys.argv[1:],
    ]  # fmt: skip
    # Become `loom serve`: signals (Ctrl-C, SIGTERM from a supervisor) reach the server
    # itself, which shuts down gracefully; no wrapper process is left to orphan it.
    os.chdir(EXAMPLE)
    os.execv(sys.executable, command)


if __name__ == "__main__":
    sys.exit(main())

"""`make run`: start the example store app (examples/store) on its embedded defaults.

The REST runtime that serves it is not part of this checkout yet, so this validates the
example's configuration and says what `make run` will serve once it is.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "store" / "config" / "api.yaml"


def main() -> int:
    loom = [sys.executable, "-m", "loom.core.cli"]
    subprocess.run([*loom, "--version"], check=True)
    result = subprocess.run([*loom, "config", "validate", str(CONFIG)], check=False)
    if result.returncode != 0:
        return result.returncode
    if importlib.util.find_spec("loom.rest.litestar") is None:
        print(
            "\nThe example store API will be served here on http://127.0.0.1:8000 (docs at /docs)"
            " once loom-rest's runtime lands;\nits configuration above is already validated."
        )
        return 0
    serve = [*loom, "serve", str(CONFIG), "--host", "127.0.0.1", "--port", "8000"]
    return subprocess.run(serve, cwd=CONFIG.parent.parent, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())

"""``python tools/bench/rest [options]``: the REST benchmark (see run.py)."""

import sys

from run import main

sys.exit(main())

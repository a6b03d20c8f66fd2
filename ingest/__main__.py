"""``python -m ingest PATH...``: the ``ingest`` command of the top-level ``cli`` package.

Named by string for the reason ``rag/__main__.py`` gives: ``ingest`` sits below the command
line in the layers, and this entry, which nothing imports, is its one way up.
"""

import importlib
import sys

if __name__ == "__main__":
    sys.exit(importlib.import_module("cli.ingest").main())

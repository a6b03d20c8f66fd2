"""``python -m rag COMMAND``: the command line, which lives in the top-level ``cli`` package.

``python -m`` can only run a ``__main__`` inside ``rag``, yet the core must not import the
edges above it (the layers contract in pyproject.toml). So this entry names the command
line by string: import-linter and grimp see no import here, and nothing imports this
module. It is the one place under ``rag/`` allowed to reach ``cli``
(tests/unit/test_layers.py checks that no other module does).
"""

import importlib
import sys

if __name__ == "__main__":
    sys.exit(importlib.import_module("cli").main())

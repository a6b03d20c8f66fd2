"""``python -m ingest PATH...``: the ``ingest`` command of ``rag.cli``."""

import sys

from rag.cli.ingest import main

if __name__ == "__main__":
    sys.exit(main())

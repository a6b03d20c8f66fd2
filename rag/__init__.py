"""Local-first retrieval-augmented chat over your documents."""

__version__ = "0.1.0"

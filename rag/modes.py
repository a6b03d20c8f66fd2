"""Retrieval modes: a base ranker, optionally diversified (MMR) and reranked."""

from __future__ import annotations

from dataclasses import dataclass

from rag.errors import ConfigError

BASE_MODES = ("dense", "bm25", "hybrid")
OPTIONS = ("mmr", "rerank")
# every mode string the CLI, the settings and the UI accept
MODES = tuple(
    base + suffix for base in BASE_MODES for suffix in ("", "+mmr", "+rerank", "+mmr+rerank")
)


@dataclass(frozen=True)
class Mode:
    """A retrieval mode: a base ranker, optionally diversified (MMR) and reranked."""

    base: str = "hybrid"
    mmr: bool = False
    rerank: bool = False

    def __str__(self) -> str:
        return self.base + ("+mmr" if self.mmr else "") + ("+rerank" if self.rerank else "")


def parse_mode(raw: str) -> Mode:
    """``dense``, ``bm25`` or ``hybrid``, each optionally followed by ``+mmr`` / ``+rerank``."""
    parts = [p.strip() for p in raw.strip().lower().split("+")]
    base, options = parts[0], parts[1:]
    if base not in BASE_MODES or any(o not in OPTIONS for o in options):
        raise ConfigError(
            f"Retrieval mode {raw!r} is not known. Use one of {', '.join(BASE_MODES)}, "
            "optionally followed by +mmr and/or +rerank (e.g. hybrid+mmr)."
        )
    return Mode(base=base, mmr="mmr" in options, rerank="rerank" in options)

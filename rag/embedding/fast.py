"""The default local embedder without torch: the model's cached OpenVINO export, the
``tokenizers`` package on the folder's ``tokenizer.json``, and the folder's pooling in numpy.

Importing torch, transformers and sentence-transformers and building the model cost every
``python -m ingest`` and ``rag search`` about 15 CPU-seconds, though the OpenVINO backend
runs none of their arithmetic. ``open_fast`` stands in for ``SentenceTransformerEmbedder``
with that backend only where that embedder already ran here and left beside the export
torch's vectors of the probes (``rag.embedding.runtimes``) and a record of its tokenizer on
``TOKEN_PROBES`` (``tokens-*.json``, written by ``save_token_record``). Before use it must
give the recorded token counts, offsets and batches exactly and the probe vectors within
MIN_COSINE; anything missing, unsupported (a Dense module, max pooling, a GPU) or different
returns None, and the caller loads sentence-transformers, which leaves the records behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from rag.embedding.digests import weights_sha256
from rag.embedding.model_folder import Layout, Unsupported, read_layout
from rag.embedding.runtimes import (
    MIN_COSINE,
    PROBES,
    TORCH_VERSIONS,
    OpenVinoRuntime,
    cache_folder,
    cached_reference,
    installed,
    min_cosine,
    package_versions,
)
from rag.embedding.types import Identity, Prefixes, Vectors

log = logging.getLogger(__name__)

# what a tokenizer record depends on, and the texts it holds: the probes, and the corners
# where two tokenizers could part (empty text, spacing, scripts, accents, invisible marks)
TOKEN_VERSIONS = ("transformers", "tokenizers", "sentence-transformers")
TOKEN_PROBES = (
    *PROBES,
    "",
    "  two  spaces,\ta tab\n\nand blank lines  ",
    "東京の天気は晴れ 😀 İstanbul ǅ ﬁ Ⅻ naïve CAFÉ",
    "\u200bzero\x00width\ufeff and a\u0301ccent",
)
Array = npt.NDArray[Any]


class TokenCounter(Protocol):
    @property
    def max_tokens(self) -> int: ...

    @property
    def dimension(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def token_offsets(self, text: str) -> list[tuple[int, int]]: ...


class FastEmbedder:
    """L2-normalised embeddings as ``SentenceTransformerEmbedder`` gives them on OpenVINO."""

    backend = "openvino"
    device = "cpu"

    def __init__(
        self,
        name: str,
        *,
        folder: Path,
        layout: Layout,
        runtime: OpenVinoRuntime,
        prefixes: Prefixes,
        batch_size: int = 64,
    ) -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.prefixes = prefixes
        self.batch_size = batch_size
        self._layout = layout
        self._runtime = runtime
        self.precision = runtime.precision
        # counting runs in the ingest thread that chunks while another embeds: a tokenizer
        # each, because one must not be used by two threads at once
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._batcher = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._batcher.enable_truncation(
            layout.max_seq_length, strategy="longest_first", direction=layout.truncation_side
        )
        pad_id = self._batcher.token_to_id(layout.pad_token)
        if pad_id is None:
            raise Unsupported(f"pad token {layout.pad_token!r} is not in the vocabulary")
        self._batcher.enable_padding(
            direction=layout.padding_side, pad_id=pad_id, pad_token=layout.pad_token
        )

    @property
    def identity(self) -> Identity:
        return Identity.of("local", self.name, self.dimension, self.prefixes)

    @property
    def dimension(self) -> int:
        return self._layout.dimension

    @property
    def max_tokens(self) -> int:
        return self._layout.max_seq_length

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=True).ids)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        offsets = self._counter.encode(text, add_special_tokens=False).offsets
        return [(int(a), int(b)) for a, b in offsets]

    def batch(self, texts: Sequence[str]) -> dict[str, Array]:
        """The model's inputs for ``texts``: truncated, padded to the longest, specials added."""
        encodings = self._batcher.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }

    def embed_documents(self, texts: list[str]) -> Vectors:
        return self._encode([self.prefixes.document + t for t in texts])

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self._encode([self.prefixes.query + text])[0]
        return vector

    def _encode(self, texts: Sequence[str]) -> Vectors:
        """Length-sorted batches, as ``rag.embedding.runtimes.encode_with`` runs them."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            features = self.batch([texts[i] for i in idx])
            tokens = self._runtime.token_embeddings(
                {n: features[n] for n in self._runtime.input_names}
            )
            out[idx] = _normalize(_pool(tokens, features["attention_mask"], self._layout.pooling))
        return out


def _pool(tokens: Vectors, mask: Array, mode: str) -> Vectors:
    if tokens.shape[:2] != mask.shape:
        raise ValueError(f"token embeddings {tokens.shape} for inputs {mask.shape}")
    if mode == "cls":  # the first token the mask keeps, as sentence-transformers picks it
        first = mask.argmax(axis=1)
        return np.asarray(tokens[np.arange(len(tokens)), first], dtype=np.float32)
    weights = mask[..., None].astype(np.float32)
    summed = (tokens * weights).sum(axis=1, dtype=np.float32)
    return np.asarray(summed / np.maximum(weights.sum(axis=1), 1e-9), dtype=np.float32)


def _normalize(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


# -- the tokenizer record --------------------------------------------------------------


def token_record(counter: TokenCounter, batch: Mapping[str, Any]) -> Any:
    """What the chunker and the model see of TOKEN_PROBES (``batch``: their model inputs
    as one batch), in the form JSON gives back."""
    record = {
        "max_tokens": counter.max_tokens,
        "dimension": counter.dimension,
        "counts": [counter.count_tokens(t) for t in TOKEN_PROBES],
        "offsets": [counter.token_offsets(t) for t in TOKEN_PROBES],
        "batch": {name: [[int(i) for i in row] for row in rows] for name, rows in batch.items()},
    }
    return json.loads(json.dumps(record, sort_keys=True))


def _record_path(folder: Path) -> Path | None:
    versions = package_versions(*TOKEN_VERSIONS)
    if versions is None:
        return None
    key = hashlib.sha256(json.dumps([versions, TOKEN_PROBES]).encode()).hexdigest()[:16]
    return folder / f"tokens-{key}.json"


def save_token_record(folder: Path, record: Any) -> None:
    """Keep sentence-transformers' ``token_record`` beside the export (once per versions)."""
    path = _record_path(folder)
    if path is None or path.is_file():
        return
    with contextlib.suppress(OSError):
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", suffix=".json", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, sort_keys=True)
        Path(tmp).replace(path)


# -- choosing it -----------------------------------------------------------------------


def open_fast(
    name: str,
    *,
    location: str,
    device: str,
    backend: str,
    prefixes: Prefixes,
    cache_dir: Path | None,
    precision: str = "f32",
) -> FastEmbedder | None:
    """The torch-free embedder where every check passes, else None (logged why).
    ``precision`` bf16 falls back to f32 when it moves the probes too far."""
    try:
        folder = Path(location)
        return _open(
            name,
            folder=folder,
            device=device,
            backend=backend,
            prefixes=prefixes,
            cache_dir=cache_dir,
            precision=precision,
        )
    except Unsupported as why:
        log.info("loading sentence-transformers for %s: %s", name, why)
    except Exception as exc:  # a broken cache or runtime: the full path still works
        log.warning("loading sentence-transformers for %s: torch-free path broke: %r", name, exc)
    return None


def _open(
    name: str,
    *,
    folder: Path,
    device: str,
    backend: str,
    prefixes: Prefixes,
    cache_dir: Path | None,
    precision: str = "f32",
) -> FastEmbedder:
    if backend not in ("auto", "openvino") or not installed("openvino"):
        raise Unsupported(f"backend {backend}")
    if device != "cpu" and not (device == "auto" and _no_gpu()):
        raise Unsupported(f"device {device}")
    if not folder.is_dir() or cache_dir is None:
        raise Unsupported("the model is not a local folder, or there is no cache folder")
    layout = read_layout(folder)
    sha256 = weights_sha256(folder, cache_dir=cache_dir)
    versions = package_versions(*TORCH_VERSIONS)
    if sha256 is None or versions is None:
        raise Unsupported("no weights file, or torch is not installed")
    cache = cache_folder(cache_dir, sha256)
    export = cache / "openvino" / "model.xml"
    reference = cached_reference(cache, versions=versions)
    path = _record_path(cache)
    if reference is None or not export.is_file() or path is None or not path.is_file():
        raise Unsupported(f"no OpenVINO export, torch probe vectors or tokenizer record in {cache}")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    runtime = OpenVinoRuntime(export, precision=precision)
    embedder = FastEmbedder(name, folder=folder, layout=layout, runtime=runtime, prefixes=prefixes)
    recorded = json.loads(path.read_text(encoding="utf-8"))
    ours = token_record(embedder, embedder.batch(TOKEN_PROBES))
    same = all(ours[k] == recorded.get(k) for k in ours if k != "batch") and all(
        ours["batch"][n] == recorded["batch"].get(n) for n in embedder._runtime.input_names
    )
    if not same:  # the graph's inputs, as sentence-transformers made them
        raise Unsupported("its tokens differ from the recorded sentence-transformers tokens")
    if reference.shape[1] != layout.dimension:
        raise Unsupported(f"{layout.dimension} dimensions, torch's probes {reference.shape[1]}")
    closeness = min_cosine(embedder._encode(PROBES), reference)
    if closeness < MIN_COSINE and embedder.precision != "f32":
        log.warning(
            "openvino in %s moves vectors too far (cosine %.5f); using f32",
            embedder.precision,
            closeness,
        )
        runtime = OpenVinoRuntime(export)
        embedder = FastEmbedder(
            name, folder=folder, layout=layout, runtime=runtime, prefixes=prefixes
        )
        closeness = min_cosine(embedder._encode(PROBES), reference)
    if closeness < MIN_COSINE:
        raise Unsupported(f"its probe vectors are too far from torch's (cosine {closeness:.5f})")
    log.info(
        "embedding with openvino in %s, without torch (min cosine to torch %.6f)",
        embedder.precision,
        closeness,
    )
    return embedder


def _no_gpu() -> bool:
    """Whether torch would find no GPU (RAG_DEVICE=auto means the CPU), known without
    importing it: a CPU build of torch, or no GPU driver on Linux or macOS."""
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        if importlib.metadata.version("torch").endswith("+cpu"):
            return True
    if sys.platform == "win32":
        return False
    drivers = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd", "/dev/dxg")
    return not any(Path(p).exists() for p in drivers)

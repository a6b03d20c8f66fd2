"""Faster CPU runtimes for the transformer inside a sentence-transformers model.

The transformer body is exported once from the local torch weights (never downloaded) to
ONNX, and from there to OpenVINO's format; the exported files are cached in a folder named
after the weights' sha256, so a changed model never reuses a stale export. Tokenisation,
pooling and normalisation stay with sentence-transformers' own modules, so only the
transformer's arithmetic changes. ``rag.embedding.models`` checks the vectors against torch
before it uses a runtime.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from rag.errors import ConfigError, ModelError

log = logging.getLogger(__name__)

RUNTIMES = ("openvino", "onnx")  # fastest first: the order "auto" tries them in
EXPORT_VERSION = 1  # bump when the exported graph changes shape
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

Array = npt.NDArray[Any]
Vectors = npt.NDArray[np.float32]

# a faster runtime (or fp16 on a GPU) is used only if every probe vector stays this close
MIN_COSINE = 0.999
PROBES = (
    "How are missing values represented in R?",
    "x",
    "Die Größe der Bäume im Frühling; ça coûte très cher, señor. 12345 + 67890 = 80235",
    "The read.table() function reads an entire data frame directly from an external file. "
    * 12,  # longer than the model's window: truncation must match too
)


class Runtime(Protocol):
    name: str
    input_names: tuple[str, ...]
    precision: str

    def token_embeddings(self, inputs: dict[str, Array]) -> npt.NDArray[np.float32]: ...


def installed(backend: str) -> bool:
    """Whether ``backend`` can run here (an ONNX export also needs the ``onnx`` package)."""
    needs = {"onnx": ("onnxruntime", "onnx"), "openvino": ("openvino", "onnx")}[backend]
    return all(importlib.util.find_spec(name) is not None for name in needs)


def cache_folder(cache_dir: Path, sha256: str) -> Path:
    return cache_dir / f"{sha256[:32]}-v{EXPORT_VERSION}"


def open_runtime(
    backend: str,
    *,
    transformer: Any,
    example: dict[str, Any],
    folder: Path,
    precision: str = "f32",
) -> Runtime:
    """Export (once) and open ``backend`` for ``transformer``, a Hugging Face torch model;
    ``precision`` (f32 or bf16) is OpenVINO's arithmetic (ONNX Runtime's is always f32)."""
    names = tuple(n for n in MODEL_INPUTS if n in example)
    onnx_path = folder / "model.onnx"
    if backend == "onnx":
        if not onnx_path.is_file():
            _export_onnx(transformer, example, names, onnx_path)
        return OnnxRuntime(onnx_path, names)
    ov_path = folder / "openvino" / "model.xml"
    if not ov_path.is_file():
        if not onnx_path.is_file():
            _export_onnx(transformer, example, names, onnx_path)
        _convert_openvino(onnx_path, ov_path)
    return OpenVinoRuntime(ov_path, names, precision=precision)


def _export_onnx(
    transformer: Any, example: dict[str, Any], names: Sequence[str], target: Path
) -> None:
    import torch

    class Body(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: Any) -> Any:
            kwargs = dict(zip(names, args, strict=True))
            return self.model(**kwargs, return_dict=True).last_hidden_state

    log.info("exporting the embedding model to ONNX at %s (once)", target)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*names, "token_embeddings")}
    with _staging(target) as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on constants; the vectors are checked
        torch.onnx.export(
            Body(transformer).eval(),
            tuple(example[n] for n in names),
            str(tmp),
            input_names=list(names),
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    _write_meta(target.parent, {"onnx": target.name})


def _convert_openvino(onnx_path: Path, target: Path) -> None:
    import openvino as ov

    log.info("converting the ONNX export to OpenVINO at %s (once)", target)
    model = ov.convert_model(str(onnx_path))
    tmp_dir = Path(tempfile.mkdtemp(prefix=".ov-", dir=onnx_path.parent))
    try:
        ov.save_model(model, str(tmp_dir / target.name), compress_to_fp16=False)
        target.parent.parent.mkdir(parents=True, exist_ok=True)
        # another process may have finished first: theirs is as good as ours
        with contextlib.suppress(OSError):
            tmp_dir.rename(target.parent)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    _write_meta(onnx_path.parent, {"openvino": str(target.relative_to(onnx_path.parent))})


class _staging:
    """A temporary file beside ``target`` that replaces it atomically on success."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=self.target.parent)
        os.close(fd)
        self.tmp = Path(name)
        return self.tmp

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.tmp.replace(self.target)
        else:
            self.tmp.unlink(missing_ok=True)


def _write_meta(folder: Path, extra: dict[str, str]) -> None:
    path = folder / "export.json"
    data: dict[str, object] = json.loads(path.read_text()) if path.is_file() else {}
    data.update(extra, export_version=EXPORT_VERSION)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


class OnnxRuntime:
    name = "onnx"
    precision = "f32"

    def __init__(self, path: Path, input_names: tuple[str, ...]) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.input_names = input_names
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def token_embeddings(self, inputs: dict[str, Array]) -> npt.NDArray[np.float32]:
        feed = {n: np.asarray(inputs[n], dtype=np.int64) for n in self.input_names}
        return np.asarray(self._session.run(None, feed)[0], dtype=np.float32)


class OpenVinoRuntime:
    name = "openvino"

    def __init__(
        self, path: Path, input_names: tuple[str, ...] | None = None, *, precision: str = "f32"
    ) -> None:
        """``input_names`` None: the graph's own inputs (it must take nothing else).
        ``precision``: f32, or bf16 (``rag.cpu.resolve_precision`` decides where it runs)."""
        import openvino as ov

        core = ov.Core()
        # the compiled model is cached beside the export (keyed by the config, precision
        # included): later processes skip compiling
        core.set_property({"CACHE_DIR": str(path.parent / "compiled")})
        # always explicit: on CPUs with bf16 units OpenVINO would pick bf16 by itself
        config = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}
        self._compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        # what OpenVINO settled on, which is what is reported (a CPU without bf16 gets f32)
        settled = self._compiled.get_property("INFERENCE_PRECISION_HINT")
        self.precision = str(getattr(settled, "get_type_name", lambda: settled)())
        if input_names is None:
            graph = {i.get_any_name() for i in self._compiled.inputs}
            if not graph <= set(MODEL_INPUTS):
                raise ModelError(f"{path} takes inputs {sorted(graph)}, not {MODEL_INPUTS}")
            input_names = tuple(n for n in MODEL_INPUTS if n in graph)
        self.input_names = input_names
        self._request = self._compiled.create_infer_request()
        self._output = self._compiled.output(0)

    def token_embeddings(self, inputs: dict[str, Array]) -> npt.NDArray[np.float32]:
        feed = {n: np.asarray(inputs[n], dtype=np.int64) for n in self.input_names}
        result = self._request.infer(feed)
        return np.array(result[self._output], dtype=np.float32)


def encode_with(
    runtime: Runtime, model: Any, texts: Sequence[str], *, batch_size: int
) -> npt.NDArray[np.float32]:
    """Encode like sentence-transformers' ``encode`` (length-sorted batches, then its own
    pooling and normalisation modules), with ``runtime`` computing the transformer."""
    import torch

    order = np.argsort([-len(t) for t in texts], kind="stable")
    out: npt.NDArray[np.float32] | None = None
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            features = model.preprocess([texts[i] for i in idx])
            arrays = {n: features[n].numpy() for n in runtime.input_names}
            features["token_embeddings"] = torch.from_numpy(runtime.token_embeddings(arrays))
            for module in list(model)[1:]:
                features = module(features)
            vectors = torch.nn.functional.normalize(features["sentence_embedding"], p=2, dim=1)
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[idx] = vectors.numpy()
    assert out is not None
    return out


def package_versions(*packages: str) -> str | None:
    """``"torch 2.13.0+cpu, st 6.2.0"``-style versions of installed ``packages`` (read from
    their metadata, so nothing is imported); None when one is not installed."""
    short = {"sentence-transformers": "st"}
    try:
        return ", ".join(f"{short.get(p, p)} {importlib.metadata.version(p)}" for p in packages)
    except importlib.metadata.PackageNotFoundError:
        return None


TORCH_VERSIONS = ("torch", "sentence-transformers")  # what torch's probe vectors depend on


def cached_reference(folder: Path, *, versions: str) -> Vectors | None:
    """Torch's vectors of PROBES kept in ``folder`` for ``versions``, if they are there."""
    with contextlib.suppress(OSError, ValueError):
        cached = np.load(_reference_path(folder, versions), allow_pickle=False)
        if cached.ndim == 2 and cached.shape[0] == len(PROBES):
            return np.asarray(cached, dtype=np.float32)
    return None


def _reference_path(folder: Path, versions: str) -> Path:
    key = hashlib.sha256(json.dumps([versions, PROBES]).encode()).hexdigest()[:16]
    return folder / f"torch-probes-{key}.npy"


def torch_reference(folder: Path, *, versions: str, compute: Callable[[], Vectors]) -> Vectors:
    """Torch's vectors of PROBES for the weights whose export is in ``folder``: computed
    once per torch/sentence-transformers ``versions`` and kept there, so that a process
    checks its runtime against torch without running torch on every start."""
    cached = cached_reference(folder, versions=versions)
    if cached is not None:
        return cached
    path = _reference_path(folder, versions)
    vectors = compute()
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".probes-", suffix=".npy", dir=folder)
        with os.fdopen(fd, "wb") as f:
            np.save(f, vectors, allow_pickle=False)
        Path(tmp).replace(path)
    return vectors


def min_cosine(a: Vectors, b: Vectors) -> float:
    return float(np.min(np.sum(a * b, axis=1)))


def choose_runtime(
    backend: str,
    *,
    model: Any,
    model_name: str,
    sha256: str | None,
    cache_dir: Path | None,
    reference: Callable[[], Vectors],
    precision: str = "f32",
) -> Runtime | None:
    """The fastest installed runtime whose PROBES vectors are within MIN_COSINE of
    ``reference()`` (torch's); None means torch. "auto" falls back quietly, an explicit
    choice fails with the fix. ``precision`` bf16 applies to OpenVINO, which falls back
    to f32 when bf16 moves the probes too far."""
    if backend == "torch":
        return None
    explicit = backend != "auto"
    if sha256 is None or cache_dir is None:
        if explicit:
            raise ModelError(
                f"RAG_EMBED_BACKEND={backend} needs the weights of {model_name} on disk to "
                "export them. Use a local model directory, or set RAG_EMBED_BACKEND=torch."
            )
        return None
    for name in (backend,) if explicit else RUNTIMES:
        if not installed(name):
            if explicit:
                raise ConfigError(
                    f"RAG_EMBED_BACKEND={name} but its packages are not installed. Run "
                    f"`pip install {'openvino onnx' if name == 'openvino' else 'onnx'}`, "
                    "or set RAG_EMBED_BACKEND=torch."
                )
            continue
        try:
            runtime = open_runtime(
                name,
                transformer=model[0].model,
                example=dict(model.preprocess(list(PROBES[:2]))),
                folder=cache_folder(cache_dir, sha256),
                precision=precision,
            )
            vectors = encode_with(runtime, model, PROBES, batch_size=4)
            closeness = min_cosine(vectors, reference())
            if closeness < MIN_COSINE and runtime.precision != "f32":
                log.warning(
                    "%s in %s moves vectors too far (cosine %.5f); using f32",
                    name,
                    runtime.precision,
                    closeness,
                )
                runtime = open_runtime(
                    name,
                    transformer=model[0].model,
                    example=dict(model.preprocess(list(PROBES[:2]))),
                    folder=cache_folder(cache_dir, sha256),
                )
                closeness = min_cosine(
                    encode_with(runtime, model, PROBES, batch_size=4), reference()
                )
        except Exception as exc:  # an export or runtime failure means "not this one"
            if explicit:
                raise ModelError(
                    f"Could not run {model_name} with RAG_EMBED_BACKEND={name} ({exc}). "
                    "Set RAG_EMBED_BACKEND=torch."
                ) from exc
            log.warning("backend %s unavailable for %s: %s", name, model_name, exc)
            continue
        if closeness < MIN_COSINE:
            message = f"backend {name} moves vectors too far (cosine {closeness:.5f})"
            if explicit:
                raise ModelError(f"{message} from torch's. Set RAG_EMBED_BACKEND=torch.")
            log.warning("%s; trying the next one", message)
            continue
        log.info(
            "embedding with %s in %s (min cosine to torch %.6f)",
            name,
            runtime.precision,
            closeness,
        )
        return runtime
    return None

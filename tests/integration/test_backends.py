"""The faster CPU runtimes give the torch vectors: cosine >= 0.999 on every real chunk."""

import threading
from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import Chunker
from ingest.loaders import load
from rag.config import Settings
from rag.cpu import this_cpu
from rag.embedding.fast import FastEmbedder
from rag.embedding.models import SentenceTransformerEmbedder
from rag.embedding.runtimes import MIN_COSINE, installed
from rag.embedding.serialized import Serialized
from rag.errors import ConfigError
from rag.store.index import load_model
from tests.conftest import MODEL_CACHE, R_INTRO, SHARED

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chunk_texts(embedder: SentenceTransformerEmbedder) -> list[str]:
    """Real chunks of every length: 60 pages' worth of R-intro and 60 SciFact abstracts."""
    chunker = Chunker(embedder, chunk_size=200, chunk_overlap=30)
    pages = load(R_INTRO).pages[10:25]
    texts = [c.text for c in chunker.split(pages, source="r")][:100]
    import json

    with (SHARED / "beir" / "scifact" / "corpus.jsonl").open() as f:
        abstracts = [json.loads(line)["text"] for _, line in zip(range(60), f, strict=False)]
    return texts + abstracts  # abstracts unchunked: some run past the model's window


@pytest.fixture(scope="module")
def cache() -> Path:
    # the exports the CLI, the app and the other tests share: exporting again here would only
    # repeat what test_export_is_cached_by_weights_hash checks
    assert MODEL_CACHE is not None
    return MODEL_CACHE


@pytest.fixture(scope="module")
def reference(torch_embedder: SentenceTransformerEmbedder, chunk_texts: list[str]) -> np.ndarray:
    return torch_embedder.embed_documents(chunk_texts)


@pytest.mark.shared_data
@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_backend_vectors_match_torch(
    backend: str,
    torch_embedder: SentenceTransformerEmbedder,
    chunk_texts: list[str],
    reference: np.ndarray,
    cache: Path,
) -> None:
    if not installed(backend):
        pytest.skip(f"{backend} is not installed")
    fast = SentenceTransformerEmbedder(device="cpu", backend=backend, cache_dir=cache)
    assert fast.backend == backend and fast._runtime is not None
    assert torch_embedder.backend == "torch"
    vectors = fast.embed_documents(chunk_texts)
    assert vectors.shape == reference.shape == (len(chunk_texts), 384)
    cosines = np.sum(vectors * reference, axis=1)
    assert float(cosines.min()) >= MIN_COSINE, sorted(cosines)[:5]
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # the query path goes through the runtime too
    query = "How are missing values represented?"
    assert float(fast.embed_query(query) @ torch_embedder.embed_query(query)) >= MIN_COSINE


@pytest.mark.shared_data
def test_f32_stays_exact_and_bf16_is_close_where_the_cpu_runs_it(
    chunk_texts: list[str], reference: np.ndarray, cache: Path
) -> None:
    """RAG_EMBED_PRECISION: f32 gives torch's vectors to float rounding on every CPU, on
    both paths (sentence-transformers with OpenVINO, and the torch-free one load_model
    picks); bf16, where the CPU has it natively, really runs in bf16 and stays close."""
    f32 = SentenceTransformerEmbedder(device="cpu", backend="openvino", cache_dir=cache)
    assert f32.precision == "f32"
    exact = f32.embed_documents(chunk_texts)
    assert float(np.sum(exact * reference, axis=1).min()) >= 0.99999
    settings = Settings.from_env({"RAG_EMBED_PRECISION": "f32", "RAG_CACHE_DIR": str(cache)})
    fast = load_model(settings.embedding)
    assert isinstance(fast, FastEmbedder) and fast.precision == "f32"
    assert float(np.sum(fast.embed_documents(chunk_texts) * reference, axis=1).min()) >= 0.99999
    if not this_cpu().native_bf16:
        pytest.skip(f"{this_cpu().model} has no native bf16: RAG_EMBED_PRECISION=bf16 is refused")
    half = SentenceTransformerEmbedder(
        device="cpu", backend="openvino", cache_dir=cache, precision="bf16"
    )
    assert half.precision == "bf16"
    vectors = half.embed_documents(chunk_texts)
    assert float(np.sum(vectors * reference, axis=1).min()) >= MIN_COSINE
    assert float(np.abs(vectors - exact).max()) > 1e-4  # not f32 under another name
    auto = load_model(settings.replace(embed_precision="auto").embedding)
    assert isinstance(auto, FastEmbedder) and auto.precision == "bf16"
    assert float(np.sum(auto.embed_documents(chunk_texts) * vectors, axis=1).min()) >= 0.9999


def test_export_is_cached_by_weights_hash(cache: Path) -> None:
    first = SentenceTransformerEmbedder(device="cpu", backend="onnx", cache_dir=cache)
    exported = list(cache.glob("*/model.onnx"))
    assert len(exported) == 1 and exported[0].parent.name.startswith("53aa51172d142c89")
    stamp = exported[0].stat().st_mtime_ns
    second = SentenceTransformerEmbedder(device="cpu", backend="onnx", cache_dir=cache)
    assert exported[0].stat().st_mtime_ns == stamp  # loaded, not exported again
    assert first.backend == second.backend == "onnx"


def test_auto_picks_a_runtime_and_torch_stays_torch(cache: Path) -> None:
    auto = SentenceTransformerEmbedder(device="cpu", backend="auto", cache_dir=cache)
    expected = "openvino" if installed("openvino") else "onnx" if installed("onnx") else "torch"
    assert auto.backend == expected
    plain = SentenceTransformerEmbedder(device="cpu", backend="torch", cache_dir=cache)
    assert plain.backend == "torch" and plain._runtime is None


def test_cpu_runtime_on_a_gpu_device_is_refused() -> None:
    with pytest.raises(ConfigError, match="Set RAG_EMBED_BACKEND=torch"):
        SentenceTransformerEmbedder(device="cuda", backend="onnx")


@pytest.mark.shared_data
def test_half_precision_is_kept_only_when_vectors_stay_close(chunk_texts: list[str]) -> None:
    """The check RAG_DEVICE=auto runs on a GPU, exercised here on the CPU (torch can run
    this model in fp16 there too, slowly): fp16 is kept because it stays within 0.999."""
    model = SentenceTransformerEmbedder(device="cpu")
    reference = model.embed_documents(chunk_texts[:8])
    model._maybe_half()
    assert model.precision == "f16"
    assert next(model._model.parameters()).dtype.is_floating_point
    assert str(next(model._model.parameters()).dtype) == "torch.float16"
    cosines = np.sum(model.embed_documents(chunk_texts[:8]) * reference, axis=1)
    assert float(cosines.min()) >= MIN_COSINE


def test_a_shared_model_takes_turns_across_threads(cache: Path) -> None:
    """The app's sessions (and a Streamlit rerun racing the run it interrupts) share one
    model: behind ``Serialized`` every thread gets the vectors it would get alone, where the
    bare OpenVINO model fails with "Infer Request is busy"."""
    backend = "openvino" if installed("openvino") else "onnx"
    model = SentenceTransformerEmbedder(device="cpu", backend=backend, cache_dir=cache)
    shared = Serialized(model)
    questions = [f"How do I fit model number {n} to a data frame?" for n in range(4)]
    expected = {q: model.embed_query(q) for q in questions}
    start = threading.Barrier(len(questions))
    failures: list[BaseException] = []
    results: dict[str, list[np.ndarray]] = {q: [] for q in questions}

    def ask(question: str) -> None:
        start.wait()
        try:
            for _ in range(15):
                results[question].append(shared.embed_query(question))
                shared.embed_documents([question, question + " again"])
        except BaseException as exc:  # collected, asserted below
            failures.append(exc)

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for question, vectors in results.items():
        assert len(vectors) == 15
        assert all(np.allclose(v, expected[question], atol=1e-6) for v in vectors)

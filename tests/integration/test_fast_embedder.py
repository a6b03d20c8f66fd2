"""The torch-free default embedder: a process that finds the OpenVINO export and the records
of an earlier one imports neither torch nor sentence-transformers, and gives the torch path's
token counts, offsets and (within cosine 0.9999) vectors; anything missing or spoiled falls
back to sentence-transformers, which leaves the records again."""

from __future__ import annotations

import json
import logging
import random
import shutil
import threading
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import Chunker
from ingest.loaders import load
from rag.embedding.digests import weights_sha256
from rag.embedding.fast import FastEmbedder, open_fast
from rag.embedding.models import SentenceTransformerEmbedder, bundled_model_path, load_local
from rag.embedding.runtimes import cache_folder
from rag.embedding.types import Prefixes
from tests.conftest import MODEL_CACHE, R_INTRO, SHARED, run_cli

pytestmark = pytest.mark.integration

TORCH_MODULES = ("torch", "transformers", "sentence_transformers")
CHILD = """
import json, sys
import numpy as np
from rag.config import Settings
from rag.store.index import load_model
texts = json.loads(open(sys.argv[1], encoding="utf-8").read())
model = load_model(Settings.from_env().embedding)
np.save(sys.argv[2], model.embed_documents(texts))
out = {
    "kind": type(model).__name__,
    "imported": sorted(m for m in sys.argv[4].split(",") if m in sys.modules),
    "counts": [model.count_tokens(t) for t in texts],
    "offsets": [model.token_offsets(t) for t in texts],
    "query": model.embed_query(texts[0]).tolist(),
    "identity": model.identity.__dict__,
    "max_tokens": model.max_tokens,
}
open(sys.argv[3], "w", encoding="utf-8").write(json.dumps(out))
"""
ODD = [
    "",
    " ",
    "\n\n",
    "\t",
    ".",
    "\u200b",
    "😀",
    "Ünïcödé façade, naïve café; Straße, Øresund, İstanbul, ǅ, ﬁ, Ⅻ",
    "東京は日本の首都です。北京是中国的首都。서울은 한국의 수도입니다.",
    "Москва — столица России. Αθήνα είναι η πρωτεύουσα. القاهرة عاصمة مصر",
    "e\u0301 a\u0300 combining marks, and\x00a NUL, \ufeffa BOM, \u00a0no-break spaces",
    "x = 1e-9; y <- c(1, 2, 3) # R code\n\tif (x > y) print('ok')",
]


def varied_texts() -> list[str]:
    """About 300 texts: real chunks, abstracts past the window, text far past it,
    other scripts, near-empty strings and random mixtures of all of these."""
    with (SHARED / "beir" / "scifact" / "corpus.jsonl").open(encoding="utf-8") as f:
        abstracts = [json.loads(line)["text"] for _, line in zip(range(80), f, strict=False)]
    long = [" ".join(abstracts[i : i + 4]) for i in range(0, 12, 4)] + ["word " * 2000]
    rng = random.Random(7)
    alphabet = "abcXYZ éüßİ東京😀 \t\n.,;-'\"\u200b\x00ǅﬁ0123" + "".join(ODD[7:])
    mixed = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 1500))) for _ in range(80)]
    return abstracts + long + ODD + mixed


@pytest.fixture(scope="module")
def texts(embedder: SentenceTransformerEmbedder) -> list[str]:
    chunker = Chunker(embedder, chunk_size=200, chunk_overlap=30)
    chunks = [c.text for c in chunker.split(load(R_INTRO).pages[10:40], source="r")][:120]
    return chunks + varied_texts()


@pytest.fixture(scope="module")
def warm() -> Path:
    """The shared cache holds the export and both records (the first load makes them)."""
    assert MODEL_CACHE is not None
    load_local(device="cpu", cache_dir=MODEL_CACHE)
    return MODEL_CACHE


def child(texts_file: Path, out: Path, store: Path) -> dict:
    vectors, report = out / "vectors.npy", out / "report.json"
    done = run_cli(
        ["-c", CHILD, str(texts_file), str(vectors), str(report), ",".join(TORCH_MODULES)],
        store,
        RAG_CACHE_DIR=str(MODEL_CACHE),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {**json.loads(report.read_text(encoding="utf-8")), "vectors": np.load(vectors)}


@pytest.mark.shared_data
def test_a_warm_process_embeds_without_torch_as_torch_does(
    texts: list[str], torch_embedder: SentenceTransformerEmbedder, warm: Path, tmp_path: Path
) -> None:
    embedder = torch_embedder
    assert embedder.backend == "torch"
    assert len(texts) > 250 and max(embedder.count_tokens(t) for t in texts) > 2 * 256
    texts_file = tmp_path / "texts.json"
    texts_file.write_text(json.dumps(texts), encoding="utf-8")
    second = child(texts_file, tmp_path, tmp_path / "store")  # `warm` left export and records
    assert second["kind"] == "FastEmbedder"
    assert second["imported"] == []
    assert second["counts"] == [embedder.count_tokens(t) for t in texts]
    assert second["offsets"] == [[list(o) for o in embedder.token_offsets(t)] for t in texts]
    assert second["identity"] == asdict(embedder.identity)
    assert second["max_tokens"] == embedder.max_tokens == 256
    reference = embedder.embed_documents(texts)
    assert second["vectors"].shape == reference.shape == (len(texts), 384)
    cosines = np.sum(second["vectors"] * reference, axis=1)
    assert float(cosines.min()) >= 0.9999, sorted(cosines)[:5]
    assert float(np.dot(second["query"], embedder.embed_query(texts[0]))) >= 0.9999


def importtime_modules(stderr: str) -> set[str]:
    """The top-level packages ``python -X importtime`` says were imported."""
    lines = [line.split("|")[-1].strip() for line in stderr.splitlines() if "import time:" in line]
    return {name.split(".")[0] for name in lines}


def test_ingest_and_search_import_no_torch(warm: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Herons wait on the river bank at dawn.\n", encoding="utf-8")
    store, env = tmp_path / "store", {"RAG_CACHE_DIR": str(warm)}
    ingest = run_cli(["-X", "importtime", "-m", "ingest", str(note), "--json"], store, **env)
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    assert json.loads(ingest.stdout)["chunks_written"] == 1
    search = run_cli(["-X", "importtime", "-m", "rag", "search", "herons", "--json"], store, **env)
    assert search.returncode == 0, search.stderr[-3000:]
    assert "Herons wait" in search.stdout
    for done in (ingest, search):
        modules = importtime_modules(done.stderr)
        assert "chromadb" in modules and "tokenizers" in modules  # the check reads imports
        assert modules.isdisjoint(TORCH_MODULES), sorted(modules & set(TORCH_MODULES))


@pytest.fixture
def mirror(warm: Path, tmp_path: Path) -> Path:
    """A cache folder of this test's own: the shared OpenVINO export linked, the records
    copied, so that a test may remove or spoil them."""
    digest = weights_sha256(bundled_model_path())
    assert digest is not None
    shared, own = cache_folder(warm, digest), cache_folder(tmp_path / "cache", digest)
    own.mkdir(parents=True)
    (own / "openvino").symlink_to(shared / "openvino", target_is_directory=True)
    for record in [*shared.glob("torch-probes-*.npy"), *shared.glob("tokens-*.json")]:
        shutil.copy(record, own)
    return tmp_path / "cache"


def fast(cache: Path, *, device: str = "cpu", backend: str = "auto") -> FastEmbedder | None:
    return open_fast(
        "all-MiniLM-L6-v2",
        location=str(bundled_model_path()),
        device=device,
        backend=backend,
        prefixes=Prefixes(),
        cache_dir=cache,
    )


def test_every_record_present_means_torch_free(mirror: Path) -> None:
    assert isinstance(fast(mirror), FastEmbedder)
    assert isinstance(fast(mirror, backend="openvino", device="cpu"), FastEmbedder)
    assert fast(mirror, backend="onnx") is None
    assert fast(mirror, backend="torch") is None
    assert fast(mirror, device="cuda") is None


def _record(cache: Path, pattern: str) -> Path:
    (found,) = cache.glob(f"*/{pattern}")
    return found


def spoil_tokens(cache: Path) -> None:
    path = _record(cache, "tokens-*.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    record["counts"][0] += 1
    path.write_text(json.dumps(record), encoding="utf-8")


def turn_probes(cache: Path) -> None:
    path = _record(cache, "torch-probes-*.npy")
    np.save(path, -np.load(path))


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (lambda c: _record(c, "tokens-*.json").unlink(), "no OpenVINO export, torch probe"),
        (lambda c: _record(c, "torch-probes-*.npy").unlink(), "no OpenVINO export, torch probe"),
        (lambda c: _record(c, "openvino").unlink(), "no OpenVINO export, torch probe"),
        (spoil_tokens, "tokens differ"),
        (turn_probes, "too far from torch's"),
    ],
    ids=["no-tokens-record", "no-torch-probes", "no-export", "a-count-differs", "probes-turned"],
)
def test_a_missing_or_spoiled_piece_falls_back(
    mirror: Path, spoil: object, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    spoil(mirror)  # type: ignore[operator]
    with caplog.at_level(logging.INFO, logger="rag.embedding.fast"):
        assert fast(mirror) is None
    assert why in caplog.text


def test_the_full_path_leaves_the_records_for_the_next_process(mirror: Path) -> None:
    _record(mirror, "tokens-*.json").unlink()
    _record(mirror, "torch-probes-*.npy").unlink()
    first = load_local(device="cpu", cache_dir=mirror)
    assert isinstance(first, SentenceTransformerEmbedder) and first.backend == "openvino"
    assert isinstance(load_local(device="cpu", cache_dir=mirror), FastEmbedder)


@pytest.mark.shared_data
def test_counting_in_one_thread_while_another_embeds(mirror: Path, texts: list[str]) -> None:
    """The ingest pipeline chunks (counts tokens) in a thread while the main one embeds."""
    model = fast(mirror)
    assert model is not None
    sample = texts[:40]
    counts, vectors = [model.token_offsets(t) for t in sample], model.embed_documents(sample)
    failures: list[BaseException] = []
    seen: list[list[list[tuple[int, int]]]] = []

    def count() -> None:
        try:
            for _ in range(5):
                seen.append([model.token_offsets(t) for t in sample])
        except BaseException as exc:  # collected, asserted below
            failures.append(exc)

    thread = threading.Thread(target=count)
    thread.start()
    again = [model.embed_documents(sample) for _ in range(3)]
    thread.join()
    assert failures == [] and all(s == counts for s in seen) and len(seen) == 5
    assert all(np.allclose(v, vectors, atol=1e-6) for v in again)

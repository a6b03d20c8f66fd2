"""The eval path: a hand-made BEIR folder with exact metrics, reuse, and a SciFact slice."""

import json
from pathlib import Path

import pytest

from cli import main
from ingest.corpus import index_corpus
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.embedding.types import Vectors
from rag.errors import ConfigError
from rag.evaluation.beir import eval_settings, load_beir, run_queries, score
from rag.retrieval.retriever import Retriever
from tests.conftest import SHARED, make_settings

pytestmark = pytest.mark.integration

SCIFACT = SHARED / "beir" / "scifact"
KEYS = ["mode", "ndcg@10", "recall@10", "recall@100", "mrr@10", "latency_ms", "queries"]


def toy_beir(root: Path) -> Path:
    folder = root / "toy"
    (folder / "qrels").mkdir(parents=True)
    docs = [
        ("d1", "Apples", "Apples grow in orchards."),
        ("d2", "Bicycles", "Bicycles have gears and chains."),
        ("d3", "Glaciers", "Glaciers carve valleys during ice ages."),
        ("d4", "", "Apple orchards need pruning in winter."),
    ]
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in docs)
    )
    queries = [("q1", "apple orchard pruning"), ("q2", "bicycle gears"), ("q3", "ice ages")]
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": i, "text": t}) + "\n" for i, t in queries)
    )
    # q1 graded (d1 matters more); q2 judged on the wrong document on purpose; q3 half found
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td4\t1\nq2\td3\t1\nq3\td3\t1\nq3\td1\t1\n"
    )
    return folder


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(args) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_toy_metrics_are_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("RAG_DEVICE", "cpu")
    folder = toy_beir(tmp_path)
    got = run_cli(["eval", "--beir", str(folder), "--mode", "bm25", "--json"], capsys)
    assert list(got)[: len(KEYS)] == KEYS
    # BM25 ranks q1: d4 (three terms) then d1; q2: d2 only; q3: d3 only (no other term match)
    # q1: DCG 1 + 2/log2(3) over IDCG 2 + 1/log2(3) = 0.8597; q2: 0; q3: 1/(1+1/log2(3)) = 0.6131
    assert got["ndcg@10"] == pytest.approx((0.859719 + 0 + 0.613147) / 3, abs=1e-5)
    assert got["recall@10"] == pytest.approx((1 + 0 + 0.5) / 3, abs=1e-5)
    assert got["mrr@10"] == pytest.approx((1 + 0 + 1) / 3, abs=1e-5)
    assert (got["mode"], got["queries"]) == ("bm25", 3)


def test_second_run_reuses_the_collection(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    class Counting:
        """The real embedder, counting the documents it is asked to embed."""

        def __init__(self) -> None:
            self.embedded = 0

        def __getattr__(self, name: str) -> object:
            return getattr(embedder, name)

        def embed_documents(self, texts: list[str]) -> Vectors:
            self.embedded += len(texts)
            return embedder.embed_documents(texts)

    dataset = load_beir(toy_beir(tmp_path))
    settings = eval_settings(make_settings(tmp_path / "store"), dataset, limit=None)
    assert settings.store.collection == "eval-toy-all-MiniLM-L6-v2"
    first, second = Counting(), Counting()
    index_corpus(dataset, settings=settings, model=first).close()  # type: ignore[arg-type]
    index = index_corpus(dataset, settings=settings, model=second)  # type: ignore[arg-type]
    store = index.store
    assert (first.embedded, second.embedded, store.count()) == (4, 0, 4)
    texts = {h.source: h.text for h in store.all_vectors()[0]}
    assert texts["d4"] == "Apple orchards need pruning in winter."
    assert texts["d1"] == "Apples Apples grow in orchards."
    # one write path: the corpus is in the manifest like any ingested file
    assert sorted(r.source for r in index.manifest.records()) == ["d1", "d2", "d3", "d4"]


def scifact_slice(
    settings: Settings, embedder: SentenceTransformerEmbedder, modes: tuple[str, ...]
) -> dict[str, dict]:
    """The first 300 documents, indexed once, and their 21 queries run in each mode."""
    dataset = load_beir(SCIFACT, limit=300)
    settings = eval_settings(settings, dataset, limit=300)
    index = index_corpus(dataset, settings=settings, model=embedder)
    retriever = Retriever(index=index, settings=settings.retrieval)
    scores = {}
    for mode in modes:
        run, latencies = run_queries(dataset, retriever=retriever, mode=mode)
        scores[mode] = score(dataset, run, latencies, mode=mode, k=10)
    return scores


@pytest.mark.shared_data
def test_scifact_slice_dense_and_hybrid(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = make_settings(tmp_path / "store")
    scores = scifact_slice(settings, embedder, ("dense", "hybrid"))
    dense, hybrid = scores["dense"], scores["hybrid"]
    assert (dense["queries"], dense["documents"]) == (21, 300)
    # measured on this slice with the bundled model (see bench/eval_report.md)
    assert dense["ndcg@10"] == pytest.approx(0.84874, abs=0.01)
    assert dense["recall@100"] == 1.0
    assert hybrid["ndcg@10"] == pytest.approx(0.94908, abs=0.01)
    assert hybrid["ndcg@10"] > dense["ndcg@10"]


@pytest.mark.shared_data
def test_the_train_split_loads_its_own_queries() -> None:
    train = load_beir(SCIFACT, split="train")
    test = load_beir(SCIFACT, split="test")
    assert (len(train.queries), train.split) == (809, "train")
    assert (len(test.queries), test.split) == (300, "test")
    assert len(train.corpus) == len(test.corpus) == 5183


def test_a_split_without_its_queries_is_an_error(tmp_path: Path) -> None:
    folder = toy_beir(tmp_path)
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq9\td1\t1\n")
    with pytest.raises(ConfigError, match=r"holds none of the 1 queries judged in .*train.tsv"):
        load_beir(folder, split="train")
    (folder / "queries-train.jsonl").write_text(json.dumps({"_id": "q9", "text": "apples"}) + "\n")
    assert list(load_beir(folder, split="train").queries) == ["q9"]

"""The reranking hook with a tiny, randomly initialised CrossEncoder built here."""

from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from rag.embedding.models import SentenceTransformerEmbedder, bundled_model_path
from rag.errors import ConfigError
from rag.retrieval.retriever import Retriever
from rag.store.index import open_index
from tests.conftest import make_settings, run_ingest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-ce")
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_model_path()))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
        initializer_range=0.5,  # wide weights: passages get clearly different scores
    )
    BertForSequenceClassification(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def logits(folder: Path, query: str, passages: list[str]) -> list[float]:
    """What the tiny model says, computed with transformers directly."""
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = BertForSequenceClassification.from_pretrained(str(folder)).eval()
    batch = tokenizer([query] * len(passages), passages, padding=True, return_tensors="pt")
    with torch.no_grad():
        return [float(x) for x in model(**batch).logits[:, 0]]


def test_rerank_reorders_the_top_n_by_cross_encoder_score(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, tiny_cross_encoder: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, topic in enumerate(["apples", "pears", "plums", "cherries", "figs", "kiwis"]):
        (docs / f"{i}.txt").write_text(f"Notes on growing {topic} in an orchard, number {i}.")
    settings = make_settings(
        tmp_path / "store", rerank_model=str(tiny_cross_encoder), rerank_top_n=4
    )
    run_ingest(settings, embedder, [docs])
    retriever = Retriever(
        index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
    )
    query = "growing fruit in an orchard"
    base = retriever.retrieve(query, k=6, mode="hybrid")
    reranked = retriever.retrieve(query, k=6, mode="hybrid+rerank")

    expected = logits(tiny_cross_encoder, query, [h.text for h in base[:4]])
    by_score = [
        h.chunk_id for _, h in sorted(zip(expected, base[:4], strict=True), key=lambda p: -p[0])
    ]
    assert [h.chunk_id for h in reranked[:4]] == by_score
    assert [h.chunk_id for h in reranked[4:]] == [h.chunk_id for h in base[4:]]
    assert by_score != [h.chunk_id for h in base[:4]]  # the reranker did change the order
    # CrossEncoder applies a sigmoid to a single logit: scores map back to the logits
    assert sorted(
        torch.special.logit(torch.tensor([h.score for h in reranked[:4]])).tolist(), reverse=True
    ) == pytest.approx(sorted(expected, reverse=True), abs=1e-4)


def test_rerank_without_a_model_says_the_fix(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = make_settings(tmp_path / "store")
    retriever = Retriever(
        index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
    )
    with pytest.raises(ConfigError, match="RAG_RERANK_MODEL is not set"):
        retriever.retrieve("anything", mode="dense+rerank")

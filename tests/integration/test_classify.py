"""Classification on the two-subject corpus: zero-shot and few-shot give the obvious labels,
the labels are stored on every chunk and filter search in every retrieval mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.analytics.classify import Label, classify, document_vectors, load_labels
from rag.answers.answer import Answerer
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.errors import ConfigError
from rag.retrieval.retriever import Retriever
from rag.store.index import connect, open_index
from tests.conftest import run_ingest
from tests.integration.test_beyond import BREAD, STARS, cli, small_chunks, write_corpus

pytestmark = pytest.mark.integration

ZERO_SHOT = """
[labels.baking]
description = "baking bread: dough, loaves, ovens"

[labels.astronomy]
description = "astronomy: stars, galaxies, telescopes"
"""

# misleading descriptions swapped on purpose: only the examples can get these right
FEW_SHOT = """
[labels.kitchen]
description = "astronomy"
examples = [
    "Knead the dough and bake the loaf",
    "Proof the sourdough overnight",
    "Flour, water, salt and yeast",
]

[labels.sky]
description = "bread"
examples = [
    "The telescope shows Jupiter's moons",
    "A supernova outshines its galaxy",
    "Stars fuse hydrogen into helium",
]
"""


@pytest.fixture
def store(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Settings:
    settings = small_chunks(tmp_path / "store")
    report = run_ingest(settings, embedder, write_corpus(tmp_path / "docs"))
    assert report.chunks_written == 10
    return settings


def run_classify(
    labels_toml: str,
    store: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *flags: str,
) -> int:
    labels = tmp_path / "labels.toml"
    labels.write_text(labels_toml, encoding="utf-8")
    return cli(["classify", str(labels), *flags], store, monkeypatch)


def expected(bread: str, stars: str) -> dict[str, str]:
    return {**dict.fromkeys(BREAD, bread), **dict.fromkeys(STARS, stars)}


def test_zero_shot_labels_stored_and_filter_search(
    store: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_classify(ZERO_SHOT, store, tmp_path, monkeypatch, "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["method"], result["stored"]) == ("zero-shot", True)
    got = {Path(d["source"]).name: d["label"] for d in result["documents"]}
    assert got == expected("baking", "astronomy")
    assert all(0.2 < d["score"] <= 1.0 for d in result["documents"])
    chunks = connect(store.store)
    assert len(chunks.ids_with_label("baking")) == 6
    assert len(chunks.ids_with_label("astronomy")) == 4
    # the filter: a baking question restricted to astronomy gets only astronomy passages
    for mode in ("dense", "bm25", "hybrid"):
        args = ["search", "knead the dough", "--mode", mode, "--label", "astronomy", "--json"]
        assert cli(args, store, monkeypatch) == 0
        hits = json.loads(capsys.readouterr().out)
        assert {Path(h["source"]).name for h in hits} <= STARS, mode
        if mode != "bm25":  # BM25 finds no astronomy chunk with "knead"/"dough"
            assert len(hits) == 4, mode
        unfiltered = ["search", "knead the dough", "--mode", mode, "--json"]
        assert cli(unfiltered, store, monkeypatch) == 0
        top = json.loads(capsys.readouterr().out)[0]
        assert Path(top["source"]).name == "bread-basics.txt", mode


def test_few_shot_follows_the_examples_and_dry_run_stores_nothing(
    store: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_classify(FEW_SHOT, store, tmp_path, monkeypatch, "--dry-run", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["method"], result["stored"]) == ("few-shot", False)
    got = {Path(d["source"]).name: d["label"] for d in result["documents"]}
    assert got == expected("kitchen", "sky")
    assert all(0.5 < d["score"] <= 1.0 for d in result["documents"])
    assert connect(store.store).ids_with_label("kitchen") == set()


def test_classify_function_and_bad_label_files(
    store: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    hits, vectors = connect(store.store).all_vectors()
    sources, docs = document_vectors(hits, vectors)
    assert [Path(s).name for s in sources] == sorted(BREAD | STARS)
    assert np_allclose_unit(docs)
    labels = [Label("b", "bread and baking", ()), Label("s", "stars in the night sky", ())]
    assignments, method = classify(labels, sources, docs, embedder=embedder)
    assert method == "zero-shot"
    assert [a.label for a in assignments] == ["b", "b", "s", "s"]

    bad = tmp_path / "bad.toml"
    for text, message in (
        ("[labels.only]\ndescription = 'x'\n", r"defines 1 label\(s\)"),
        ("[labels.a]\ndescription = 'x'\n[labels.b]\n", "'b' .* neither a description"),
        ("[labels.a\n", "not valid TOML"),
        ("[labels]\na = 3\nb = 4\n", "'a' .* is not a table"),
    ):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=message):
            load_labels(bad)


def np_allclose_unit(matrix: object) -> bool:
    import numpy as np

    return bool(np.allclose(np.linalg.norm(np.asarray(matrix), axis=1), 1.0, atol=1e-5))


def test_labels_filter_answers_in_ask_and_chat(
    store: Settings,
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_classify(ZERO_SHOT, store, tmp_path, monkeypatch) == 0
    capsys.readouterr()
    # the Answerer behind the chat: a baking question inside astronomy cites astronomy only
    retriever = Retriever(
        index=open_index(store, writing=False, model=embedder), settings=store.retrieval
    )
    answerer = Answerer(retriever=retriever, llm=None, settings=store.answers)
    free = answerer.ask("how long should I knead the dough?").answer
    assert Path(free.citations[0].source).name in BREAD
    inside = answerer.ask("how long should I knead the dough?", label="astronomy").answer
    assert inside.hits and {Path(h.source).name for h in inside.hits} <= STARS
    assert inside.metadata["label"] == "astronomy"
    # and the CLI: --label narrows, an unknown label says which ones exist
    args = ["ask", "how do stars end their lives?", "--label", "baking", "--json"]
    assert cli(args, store, monkeypatch) == 0
    cited = json.loads(capsys.readouterr().out)["citations"]
    assert {Path(c["source"]).name for c in cited} <= BREAD
    assert cli(["ask", "stars?", "--label", "poetry"], store, monkeypatch) == 2
    err = capsys.readouterr().err
    assert "No document has the label 'poetry' (labels: astronomy, baking)" in err


TOY_LABELS = """
[labels.fruit]
description = "apples, apple trees and orchards"

[labels.bikes]
description = "bicycles, gears and chains"

[labels.ice]
description = "glaciers, ice ages and valleys"
"""


def test_eval_within_a_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli import main
    from tests.integration.test_eval import toy_beir

    monkeypatch.setenv("RAG_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("RAG_DEVICE", "cpu")
    folder = toy_beir(tmp_path)
    assert main(["eval", "--beir", str(folder), "--mode", "bm25", "--label", "fruit"]) == 2
    assert "Label it first: RAG_COLLECTION=eval-toy-all-MiniLM-L6-v2" in capsys.readouterr().err
    labels = tmp_path / "labels.toml"
    labels.write_text(TOY_LABELS, encoding="utf-8")
    monkeypatch.setenv("RAG_COLLECTION", "eval-toy-all-MiniLM-L6-v2")
    assert main(["classify", str(labels), "--json"]) == 0
    got = {d["source"]: d["label"] for d in json.loads(capsys.readouterr().out)["documents"]}
    assert got == {"d1": "fruit", "d2": "bikes", "d3": "ice", "d4": "fruit"}
    monkeypatch.delenv("RAG_COLLECTION")
    args = ["eval", "--beir", str(folder), "--mode", "bm25", "--label", "fruit", "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    # inside "fruit": d1 and d4; q1 keeps both judgements, q3 keeps d1, q2 has none left.
    # q1 ranks d4 then d1 (nDCG 0.8597); q3 ("ice ages") finds no fruit document: 0
    assert (result["documents"], result["queries"], result["label"]) == (2, 2, "fruit")
    assert result["ndcg@10"] == pytest.approx(0.859719 / 2, abs=1e-5)

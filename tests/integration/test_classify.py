"""Classification on the two-subject corpus: zero-shot and few-shot give the obvious labels,
the labels are stored on every chunk and filter search in every retrieval mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.classify import Label, classify, document_vectors, load_labels
from rag.components import open_store
from rag.config import Settings
from rag.embeddings import SentenceTransformerEmbedder
from rag.errors import ConfigError
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


def expected(bread: str, stars: str) -> dict[str, str]:
    return {**dict.fromkeys(BREAD, bread), **dict.fromkeys(STARS, stars)}


def test_zero_shot_labels_stored_and_filter_search(
    store: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    labels = tmp_path / "labels.toml"
    labels.write_text(ZERO_SHOT, encoding="utf-8")
    assert cli(["classify", str(labels), "--json"], store, monkeypatch) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["method"], result["stored"]) == ("zero-shot", True)
    got = {Path(d["source"]).name: d["label"] for d in result["documents"]}
    assert got == expected("baking", "astronomy")
    assert all(0.2 < d["score"] <= 1.0 for d in result["documents"])
    chunks = open_store(store)
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
    labels = tmp_path / "labels.toml"
    labels.write_text(FEW_SHOT, encoding="utf-8")
    assert cli(["classify", str(labels), "--dry-run", "--json"], store, monkeypatch) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["method"], result["stored"]) == ("few-shot", False)
    got = {Path(d["source"]).name: d["label"] for d in result["documents"]}
    assert got == expected("kitchen", "sky")
    assert all(0.5 < d["score"] <= 1.0 for d in result["documents"])
    assert open_store(store).ids_with_label("kitchen") == set()


def test_classify_function_and_bad_label_files(
    store: Settings, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    hits, vectors = open_store(store).all_vectors()
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

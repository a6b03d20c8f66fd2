"""Topics, near-duplicates and ingest-time dedup on a corpus with a known structure:
two baking files, two astronomy files, and one paragraph planted in both baking files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main as rag_main
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.store.index import connect
from tests.conftest import make_settings, run_ingest

pytestmark = pytest.mark.integration

PLANTED = (
    "Keep the starter in a glass jar at room temperature and feed it every day with "
    "equal weights of rye flour and lukewarm water so that it stays lively and sour."
)

CORPUS = {
    "bread-basics.txt": [
        "Knead the wheat dough for ten minutes until it is smooth and elastic, then let it "
        "rise in a warm kitchen until it has doubled in size.",
        "Bake the loaf in a hot oven at two hundred and thirty degrees until the crust is "
        "deep brown and the bottom sounds hollow when tapped.",
        PLANTED,
    ],
    "bread-shaping.txt": [
        "Shape the proofed dough into a tight round boule and let it rest in a floured "
        "banneton basket before baking it in a covered pot.",
        "Score the top of the loaf with a sharp razor blade so the bread can expand in the "
        "oven without tearing the crust.",
        PLANTED,
    ],
    "stars-life.txt": [
        "A star forms when a cloud of interstellar hydrogen gas collapses under gravity and "
        "nuclear fusion ignites in its dense core.",
        "Massive stars end their lives in supernova explosions that leave behind neutron "
        "stars or black holes.",
    ],
    "stars-observing.txt": [
        "Through a telescope the planets of the solar system show discs, while distant "
        "galaxies appear as faint smudges of light.",
        "Astronomers measure the distance to nearby stars by parallax, the apparent shift "
        "of a star against the background as the Earth orbits the Sun.",
    ],
}
BREAD = {"bread-basics.txt", "bread-shaping.txt"}
STARS = {"stars-life.txt", "stars-observing.txt"}


def write_corpus(folder: Path, names: set[str] | None = None) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, paragraphs in CORPUS.items():
        if names is None or name in names:
            path = folder / name
            path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
            paths.append(path)
    return paths


def small_chunks(store_dir: Path) -> Settings:
    # one paragraph per chunk: each paragraph is 18-36 tokens, no two fit in 40
    return make_settings(store_dir, chunk_size=40, chunk_overlap=0)


@pytest.fixture(scope="module")
def corpus_store(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Settings:
    root = tmp_path_factory.mktemp("beyond")
    settings = small_chunks(root / "store")
    report = run_ingest(settings, embedder, write_corpus(root / "docs"))
    assert report.errors == [] and report.chunks_written == 10 and report.deduplicated == 0
    return settings


def cli(args: list[str], settings: Settings, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("RAG_STORE_DIR", str(settings.store.store_dir))
    monkeypatch.setenv("RAG_CHUNK_SIZE", str(settings.ingest.chunk_size))
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", str(settings.ingest.chunk_overlap))
    return rag_main(args)


def names(sources: list[str]) -> set[str]:
    return {Path(s).name for s in sources}


def test_topics_k2_separates_the_two_subjects(
    corpus_store: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    png = tmp_path / "map.png"
    assert cli(["topics", "--k", "2", "--json", "--png", str(png)], corpus_store, monkeypatch) == 0
    result = json.loads(capsys.readouterr().out)
    clusters = result["clusters"]
    assert [c["size"] for c in clusters] == [6, 4]  # biggest first: 3 + 3 bread, 2 + 2 stars
    assert names(clusters[0]["sources"]) == BREAD
    assert names(clusters[1]["sources"]) == STARS
    assert set(clusters[0]) == {"label", "size", "top_terms", "sources"}
    # the planted paragraph makes "starter"-words frequent in bread; the labels name subjects
    bread_terms, star_terms = set(clusters[0]["top_terms"]), set(clusters[1]["top_terms"])
    assert bread_terms & {"dough", "loaf", "oven", "crust", "bread", "flour"}
    assert star_terms & {"stars", "star", "galaxies", "telescope", "supernova"}
    assert clusters[0]["label"] == " / ".join(clusters[0]["top_terms"][:3])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert 0.0 < result["silhouette"] <= 1.0


def test_topics_auto_k_never_mixes_subjects(
    corpus_store: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["topics", "--json"], corpus_store, monkeypatch) == 0
    clusters = json.loads(capsys.readouterr().out)["clusters"]
    assert 2 <= len(clusters) <= 9 and sum(c["size"] for c in clusters) == 10
    for cluster in clusters:
        found = names(cluster["sources"])
        assert found <= BREAD or found <= STARS, cluster


def test_topics_text_output_and_errors(
    corpus_store: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    assert cli(["topics", "--k", "2"], corpus_store, monkeypatch) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 topics over 10 chunks")
    assert "bread-basics.txt" in out and "stars-life.txt" in out
    assert cli(["topics", "--k", "11"], corpus_store, monkeypatch) == 2
    assert "--k is 11, but it must be between 1 and the 10 chunks" in capsys.readouterr().err
    empty = make_settings(tmp_path / "empty")
    assert cli(["topics"], empty, monkeypatch) == 2
    assert "holds 0 chunk(s)" in capsys.readouterr().err


def test_duplicates_finds_the_planted_pair_only(
    corpus_store: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["duplicates", "--json"], corpus_store, monkeypatch) == 0
    pairs = json.loads(capsys.readouterr().out)["pairs"]
    assert len(pairs) == 1
    pair = pairs[0]
    assert pair["score"] >= 0.95
    assert {Path(pair["a"]["source"]).name, Path(pair["b"]["source"]).name} == BREAD
    assert pair["a"]["text"].strip() == pair["b"]["text"].strip() == PLANTED
    assert pair["a"]["page"] == pair["b"]["page"]
    # a low threshold brings in more pairs, still never one across the two subjects
    assert cli(["duplicates", "--threshold", "0.3", "--json"], corpus_store, monkeypatch) == 0
    loose = json.loads(capsys.readouterr().out)["pairs"]
    assert len(loose) > 1 and loose[0]["score"] >= loose[-1]["score"]
    for p in loose:
        sides = {Path(p["a"]["source"]).name, Path(p["b"]["source"]).name}
        assert len(sides) == 2 and (sides <= BREAD or sides <= STARS), p
    assert cli(["duplicates", "--threshold", "1.5"], corpus_store, monkeypatch) == 2
    assert "--threshold is 1.5" in capsys.readouterr().err


def test_ingest_dedup_skip_across_runs_and_within_a_batch(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    docs = write_corpus(tmp_path / "docs")
    by_name = {p.name: p for p in docs}
    settings = small_chunks(tmp_path / "a").replace(dedup="skip")
    first = run_ingest(settings, embedder, [by_name["bread-basics.txt"]])
    assert (first.chunks_written, first.deduplicated) == (3, 0)
    second = run_ingest(settings, embedder, [by_name["bread-shaping.txt"]])
    assert (second.chunks_written, second.deduplicated) == (2, 1)
    assert second.as_dict()["deduplicated"] == 1
    hits, _ = connect(settings.store).all_vectors()
    planted = [h for h in hits if h.text.strip() == PLANTED]
    assert [Path(h.source).name for h in planted] == ["bread-basics.txt"]
    # re-ingesting the unchanged files changes nothing
    again = run_ingest(settings, embedder, docs[:2])
    assert (again.chunks_written, again.deduplicated, len(again.unchanged)) == (0, 0, 2)

    together = small_chunks(tmp_path / "b").replace(dedup="skip")
    report = run_ingest(together, embedder, docs)
    assert (report.chunks_written, report.deduplicated) == (9, 1)
    assert connect(together.store).count() == 9

    off = small_chunks(tmp_path / "c")
    assert run_ingest(off, embedder, docs).deduplicated == 0
    assert connect(off.store).count() == 10


def test_dedup_settings_from_env() -> None:
    settings = Settings.from_env({"RAG_DEDUP": "Skip", "RAG_DEDUP_THRESHOLD": "0.9"})
    assert (settings.ingest.dedup, settings.ingest.dedup_threshold) == ("skip", 0.9)
    assert Settings.from_env({}).ingest.dedup == "off"
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="RAG_DEDUP is 'always'; use one of off, skip"):
        Settings.from_env({"RAG_DEDUP": "always"})
    with pytest.raises(ConfigError, match="RAG_DEDUP_THRESHOLD"):
        Settings.from_env({"RAG_DEDUP_THRESHOLD": "2"})

"""BM25 in the chunk's language: detection by stopwords over Snowball's languages, each
language's stopwords and stems, queries analysed in the index's languages, and English
analysed exactly as before (the default collections' rankings unchanged bit for bit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.retrieval.bm25 import (
    ENGLISH,
    Bm25Index,
    analyse_document,
    detect_language,
    detect_query_language,
    query_tokens,
    tokenize,
    tokenize_in,
)

ROOT = Path(__file__).parents[2]

SENTENCES = {
    "german": "Im Winter bilden die Bienen eine Traube, damit die Königin nicht friert.",
    "french": "Pour faire du pain, on mélange de la farine et de l'eau avec le sel.",
    "spanish": "Los macrófagos residentes en los tejidos se establecen antes del nacimiento.",
    "italian": "Il gatto dorme sul divano perché la casa è molto calda.",
    "portuguese": "O médico disse que não há nenhuma cura para essa doença.",
    "dutch": "De fiets staat in de schuur en het regent al de hele dag.",
    "russian": "Мы не знаем, когда он будет дома, но она уже там.",
    ENGLISH: "The protein binds to the receptor in a cell and is then degraded.",
}


def english_paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted([*ROOT.glob("data/*.md"), *ROOT.glob("docs/*.md")]):
        text = path.read_text(encoding="utf-8")
        paragraphs += [p.strip() for p in text.split("\n\n") if len(p.strip()) > 40]
    return paragraphs


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_a_sentence_is_detected_in_its_language(language: str) -> None:
    assert detect_language(SENTENCES[language]) == language


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0-dimensional biomaterials show inductive properties.",
        "die hard",  # one German stopword is not evidence
        "BRCA1 mutations in women",  # 'in' is English as much as German or Dutch
        "Vitamin D deficiency and bone density",
        "$ nice -n 19 python bench/answers.py  # both halves",  # French elisions: l', n'
        "$ .venv/bin/python -m rag eval; .venv/bin/python -m rag stats",  # German 'bin', once
        # English chunks of the bench's PDFs that the first rule read as Dutch or Danish
        "Weighted average common shares 549,536 578,795 573,317 542,873 490,875\nDividends "
        "declared per common share $ 0.48 $ 0.44 $ — $ — $ —\nAt-year end:\nTotal assets",
        "Schedule I\nAgent’s Address\nCitibank Delaware\nOne Penns Way\nOPS II, Floor 2\n"
        "New Castle, DE 19720\nAttn: Agency Operations\nPhone: (302) 894-6010",
        "param : init_stock cost value :=\niron 7.32 .025 -.1\nnickel 35.8 .03 .02 ;",
    ],
)
def test_silence_ties_and_one_stopword_stay_english(text: str) -> None:
    assert detect_language(text) == ENGLISH


def test_each_language_drops_its_stopwords_and_stems() -> None:
    assert tokenize_in("Die Bienen wärmen den Stock", "german") == ["bien", "warm", "stock"]
    assert tokenize_in("Les cellules de la peau", "french") == ["cellul", "peau"]
    # the English analysis would keep 'die'/'den' and stem the German words as English
    assert "die" in tokenize("Die Bienen wärmen den Stock")


def test_english_chunks_are_analysed_exactly_as_before() -> None:
    texts = english_paragraphs()
    assert len(texts) > 200
    for text in texts:
        assert analyse_document(text) == (ENGLISH, tokenize(text))


def test_an_english_collection_ranks_bit_for_bit_as_before() -> None:
    texts = english_paragraphs()
    ids = [f"c{i}" for i in range(len(texts))]
    before = Bm25Index.build(ids, texts, tokenizer=tokenize)
    now = Bm25Index.build(ids, texts)
    assert now.languages == (ENGLISH,)
    queries = [
        "How do I change the embedding model?",
        "what does hybrid retrieval fuse",
        "Wie ändere ich das Modell?",  # not English: its own stopwords are dropped, see below
        "chunk size and overlap",
        "RAG_STORE_DIR",
    ]
    for query in queries[:2] + queries[3:]:
        assert now.search(query, k=20) == before.search(query, k=20)
        assert query_tokens(query, (ENGLISH,)) == tokenize(query)


def test_a_query_drops_its_own_languages_stopwords_and_meets_each_chunk_language() -> None:
    # over English chunks only, a German query loses its German stopwords
    assert query_tokens("Wie wärmen sich die Bienen im Winter?", (ENGLISH,)) == [
        "wärmen",
        "bienen",
        "winter",
    ]
    # over German and English chunks it is analysed in both, without repeats
    tokens = query_tokens("Wie wärmen sich die Bienen im Winter?", (ENGLISH, "german"))
    assert tokens == ["wärmen", "bienen", "winter", "warm", "bien", "wint"]


def test_a_short_question_is_read_in_its_language_where_a_chunk_would_not_be() -> None:
    """A question holds few stopwords: two of German's are enough for it (the rule
    ``query_tokens`` drops stopwords by), not for a chunk, which needs four."""
    question = "Wie wärmen sich Bienen?"
    assert detect_query_language(question) == "german"
    assert detect_language(question) == ENGLISH
    assert detect_query_language("How do bees keep warm in the winter?") == ENGLISH


def test_a_mixed_index_finds_a_german_chunk_by_its_stems() -> None:
    built = Bm25Index.build(
        ["de", "en"],
        [
            "Im Winter wärmen die Bienen den Stock mit ihren Flugmuskeln.",
            "Bees keep the hive warm in winter by shivering.",
        ],
    )
    assert built.languages == (ENGLISH, "german")
    hits = built.search("Wie wärmt sich das Bienenvolk? Bienen im Stock", k=2)
    assert hits[0][0] == "de"


def test_the_languages_are_saved_and_an_older_index_reads_as_english(tmp_path: Path) -> None:
    built = Bm25Index.build(["de"], [SENTENCES["german"]])
    built.save(tmp_path / "bm25")
    loaded = Bm25Index.load(tmp_path / "bm25")
    assert loaded is not None and loaded.languages == ("german",)
    assert loaded.search("Bienen Königin", k=1) == built.search("Bienen Königin", k=1)
    # an index written before this change has no "languages": its chunks were English
    version = (tmp_path / "bm25" / "CURRENT").read_text(encoding="utf-8")
    meta_file = tmp_path / "bm25" / version / "ids.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    del meta["languages"]
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    old = Bm25Index.load(tmp_path / "bm25")
    assert old is not None and old.languages == (ENGLISH,)

"""A passage in its surrounding text from the real store: the neighbouring chunks that
ingestion wrote put the file's own text back around it."""

from __future__ import annotations

from pathlib import Path

from rag.answers.answer import answerer_for
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.retrieval.surroundings import surrounding, window
from rag.store.index import open_index
from tests.conftest import make_settings, run_ingest

PARAGRAPHS = [
    f"Paragraph {n} tells how the {word} lighthouse keeper trimmed the wick at dusk."
    for n, word in enumerate(["amber", "northern", "quiet", "granite", "windy", "harbour"])
]


def ingested_notes(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, **changes: object
) -> tuple[str, Path, Settings]:
    """PARAGRAPHS under a heading in a Markdown file, ingested a paragraph a chunk: its
    text, its path and the settings of its store."""
    text = "# Keepers\n\n" + "\n\n".join(PARAGRAPHS) + "\n"
    notes = tmp_path / "notes.md"
    notes.write_text(text, encoding="utf-8")
    settings = make_settings(tmp_path / "store", chunk_size=24, chunk_overlap=0, **changes)
    assert run_ingest(settings, embedder, [notes]).errors == []
    return text, notes, settings


def test_neighbouring_chunks_put_the_text_back(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    text, notes, settings = ingested_notes(tmp_path, embedder)
    with open_index(settings, writing=False) as index:
        store = index.store
        hits, _ = store.get(sorted(store.ids_for_source(str(notes))), vectors=False)
        passage = next(h for h in hits if h.text == PARAGRAPHS[3])
        low, high = window(passage, margin=80)
        neighbours = store.around(str(notes), 0, start=low - 200, end=high)
        other = store.around(str(notes), 1, start=0, end=10_000)
    assert len(hits) == 6 and other == []  # the heading shares the first paragraph's chunk
    assert [h.start_index for h in neighbours] == sorted(h.start_index for h in neighbours)
    assert passage.chunk_id in {h.chunk_id for h in neighbours}
    shown = surrounding(passage, neighbours, margin=80)
    assert shown.passage == PARAGRAPHS[3]
    start = text.index(PARAGRAPHS[3])
    # the stored text around it, but for the blank line a chunk boundary stripped
    assert shown.before == "…" + text[start - 80 : start].split(" ", 1)[1].replace("\n\n", "\n")
    assert shown.after.replace("…", "") in text[start + len(PARAGRAPHS[3]) :].replace("\n\n", "\n")
    assert shown.after.startswith("\nParagraph 4 tells") and shown.after.endswith("…")


def test_an_extractive_answer_reads_its_passages_in_their_page_when_widened(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    text, _, settings = ingested_notes(tmp_path, embedder, llm="none")
    question = "How did the granite lighthouse keeper trim the wick?"
    with open_index(settings, writing=False, model=embedder) as index:
        alone = answerer_for(index, settings, None).ask(question).answer
        wide = answerer_for(index, settings.replace(widen=90), None).ask(question).answer
    assert alone.hits[0].text == PARAGRAPHS[3]  # the chunk the question names
    # widened, the first passage is its chunk and its page's whole paragraphs either side,
    # starting where the earlier one starts in the file
    first = wide.hits[0]
    assert first.text == "\n".join(PARAGRAPHS[2:5])
    assert first.start_index == text.index(PARAGRAPHS[2])
    assert all(q in first.text for c in wide.citations if c.n == 1 for q in c.quotes)

"""Long documents into evaluation indexes, through the ingestion pipeline as a user runs it.

``index_papers`` writes each paper of a span set (``rag.evaluation.longeval.load_squad``) to its own
``.txt`` file under ``RAG_STORE_DIR/eval/NAME/papers`` and ingests that folder into the
set's own collection, with the user's chunking and model: the papers are chunked, embedded
and kept in BM25 exactly as a folder of notes would be. ``index_document`` ingests one file
(a PDF of the page questions) into a collection of its own, as a user who indexes that one
file. Collection names carry the model and the chunking, so that changing either builds a
new collection instead of refusing the old one; ``rebuild`` starts a collection afresh
(code that changes what is stored, such as the loaders, needs it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from ingest.pipeline import Ingestor
from ingest.report import Report
from rag.config import Settings
from rag.embedding.types import Embedder
from rag.errors import IngestError
from rag.evaluation.longsets import SpanSet
from rag.store.index import Index, open_index

Progress = Callable[[str], None]


def collection_for(settings: Settings, kind: str, name: str) -> str:
    """``eval-KIND-NAME-MODEL-cSIZEoOVERLAP``, within Chroma's rules for names."""
    embedding, ingest = settings.embedding, settings.ingest
    model = Path(embedding.embed_model).name
    dim = f"-d{embedding.embed_dim}" if embedding.embed_dim else ""
    tail = f"-{model}{dim}-c{ingest.chunk_size}o{ingest.chunk_overlap}"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"eval-{kind}-{name}")[: 200 - len(tail)]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", slug + tail)[:200].strip("-._")


def papers_folder(settings: Settings, name: str) -> Path:
    return settings.store.store_dir / "eval" / name / "papers"


SAFE_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def file_stem(doc: str) -> str:
    """The file name (without ``.txt``) of a paper: its id when that is a safe name."""
    if SAFE_STEM.fullmatch(doc):
        return doc
    return "doc-" + hashlib.sha256(doc.encode("utf-8")).hexdigest()[:16]


def paper_lookup(papers: dict[str, str]) -> Callable[[str], str | None]:
    """A stored passage's source (the paper's file) -> the paper's document id."""
    by_stem = {file_stem(doc): doc for doc in papers}
    return lambda source: by_stem.get(Path(source).stem)


def write_papers(papers: dict[str, str], folder: Path) -> Path:
    """One ``.txt`` per paper, its text byte for byte (no newline translation, so the
    stored offsets are offsets in the paper); files of papers no longer given removed."""
    folder.mkdir(parents=True, exist_ok=True)
    stems = set()
    for doc, text in papers.items():
        stems.add(file_stem(doc))
        path = folder / f"{file_stem(doc)}.txt"
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    for path in folder.glob("*.txt"):
        if path.stem not in stems:
            path.unlink()
    return folder


def index_papers(
    spans: SpanSet,
    *,
    settings: Settings,
    model: Embedder,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> tuple[Index, Report]:
    """The set's papers in their own collection (opened for writing, left open for the
    questions) and the ingestion report; unchanged papers are not embedded again."""
    settings = settings.replace(collection=collection_for(settings, "qa", spans.name))
    folder = write_papers(spans.papers, papers_folder(settings, spans.name))
    index = open_index(settings, writing=True, model=model, rebuild=rebuild)
    report = Ingestor(index).run([folder], prune=True, rebuild=rebuild, progress=progress)
    _raise_first(report)
    return index, report


def index_document(
    path: Path,
    *,
    settings: Settings,
    model: Embedder,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> tuple[Index, Report]:
    """One file in a collection of its own, named after the file and its path."""
    # the real path names both the collection and the file in it: a file reached through a
    # symlinked folder is the same file in the same collection, not a second copy of it
    path = path.resolve()
    where = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    name = f"{path.stem}-{where}"
    settings = settings.replace(collection=collection_for(settings, "pages", name))
    index = open_index(settings, writing=True, model=model, rebuild=rebuild)
    report = Ingestor(index).run([path], rebuild=rebuild, progress=progress)
    _raise_first(report)
    return index, report


def _raise_first(report: Report) -> None:
    if report.errors:
        first = report.errors[0]
        raise IngestError(first.path, f"{first.reason} ({len(report.errors)} files failed)")

"""Long documents: the tutorial pipeline beside ours, on COVID-QA and on page-known PDFs.

    nice -n 10 python bench/longdocs.py [--qa FILE] [--pages FILE] [--docs DIR]
        [--modes dense,bm25,hybrid] [--limit N] [--json]

Two yardsticks (``rag.evaluation.longeval``), each reported on its tuning and reporting halves:

- COVID-QA (98 whole papers, 1,380 questions with answer spans): a hit is a top-k passage
  of the right paper that overlaps the answer; the halves split the papers by a hash of
  their id. All papers are in one index.
- Page-known questions over PDFs (``bench/data/pages_questions.json``, the PDFs in
  ``--docs``): a hit is a top-k passage on an answering page; every PDF in its own index,
  as a user indexes one file. Skipped, with a message, while the question file is absent.

Pipelines:

- tutorial: as people write it: pypdf's page text (for COVID-QA the paper's text),
  langchain ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200,
  add_start_index=True)``, sentence-transformers on torch with the bundled
  all-MiniLM-L6-v2, a Chroma collection with cosine distance, top k. Its vectors are
  cached under ``.rag/bench-cache`` (keyed by the model and the chunk texts);
- ours: ``ingest.pipeline.Ingestor`` into a fresh collection (``ingest.longdocs``) with
  the settings from the environment (defaults unless set), then each retrieval mode.

Writes ``bench/results/longdocs.json`` (with ``--limit``, prints only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from bench.provenance import write_result  # noqa: E402
from ingest.longdocs import index_document, index_papers, paper_lookup  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embedding.models import bundled_model_path  # noqa: E402
from rag.embedding.types import Embedder  # noqa: E402
from rag.evaluation.longeval import DEPTH, KS, SpanJudge, summarize  # noqa: E402
from rag.evaluation.longsets import (  # noqa: E402
    PageQuestion,
    SpanSet,
    ask_pages,
    ask_spans,
    load_page_questions,
    load_squad,
)
from rag.retrieval.retriever import Retriever  # noqa: E402
from rag.store.index import load_model  # noqa: E402
from rag.types import Hit  # noqa: E402

COVIDQA = ROOT.parent / "shared" / "data" / "qa" / "covidqa" / "covidqa-200423.json"
PAGES = ROOT / "bench" / "data" / "pages_questions.json"
DOCS = ROOT / ".rag" / "bench-pdfs"
STORE = ROOT / ".rag" / "bench-longdocs"
CACHE = ROOT / ".rag" / "bench-cache"
TUTORIAL = {"chunk_size": 1000, "chunk_overlap": 200, "add_start_index": True}


class Tutorial:
    """The tutorial pipeline: character splitter, torch MiniLM, Chroma cosine."""

    def __init__(self, workdir: Path) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_text_splitters import RecursiveCharacterTextSplitter
        from sentence_transformers import SentenceTransformer

        self.path = bundled_model_path()
        self.model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self.splitter = RecursiveCharacterTextSplitter(**TUTORIAL)  # type: ignore[arg-type]
        self.client = chromadb.PersistentClient(
            path=str(workdir), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.embed_s = 0.0

    def build(self, name: str, pages: Sequence[tuple[str, int, str]]) -> Any:
        """A collection of ``pages`` (source, page number, text), split and embedded."""
        from langchain_core.documents import Document

        docs = [Document(page_content=t, metadata={"source": s, "page": p}) for s, p, t in pages]
        chunks = self.splitter.split_documents(docs)
        texts = [c.page_content for c in chunks]
        collection = self.client.create_collection(
            name, configuration={"hnsw": {"space": "cosine"}}
        )
        vectors = self._vectors(texts)
        step = self.client.get_max_batch_size()
        for at in range(0, len(chunks), step):
            part = chunks[at : at + step]
            collection.add(
                ids=[str(at + i) for i in range(len(part))],
                embeddings=vectors[at : at + step],
                documents=[c.page_content for c in part],
                metadatas=[dict(c.metadata) for c in part],
            )
        return collection

    def search(self, collection: Any, question: str) -> list[Hit]:
        vector = self.model.encode([question])
        got = collection.query(query_embeddings=vector, n_results=DEPTH)
        return [
            Hit(
                chunk_id=i,
                text=t,
                source=str(m["source"]),
                page=int(m["page"]),
                score=1 - d,
                start_index=int(m["start_index"]),
            )
            for i, t, m, d in zip(
                got["ids"][0],
                got["documents"][0],
                got["metadatas"][0],
                got["distances"][0],
                strict=True,
            )
        ]

    def _vectors(self, texts: list[str]) -> np.ndarray:
        key = hashlib.sha256(("\x1f".join([self.path.name, *texts])).encode()).hexdigest()
        cached = CACHE / f"tutorial-{key[:24]}.npy"
        if cached.is_file():
            return np.load(cached)
        started = time.perf_counter()
        vectors = np.asarray(self.model.encode(texts, batch_size=32), dtype=np.float32)
        self.embed_s += time.perf_counter() - started
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(cached, vectors)
        return vectors


def covidqa(
    spans: SpanSet,
    *,
    settings: Settings,
    model: Embedder,
    tutorial: Tutorial,
    modes: list[str],
    rebuild: bool = True,
) -> dict[str, Any]:
    questions = spans.questions
    out: dict[str, Any] = {
        "papers": len(spans.papers),
        "questions": {h: sum(q.half == h for q in questions) for h in ("tune", "report")},
        "papers_per_half": {
            h: len({q.paper for q in questions if q.half == h}) for h in ("tune", "report")
        },
        "unlocated_answers": spans.unlocated,
    }
    progress("tutorial: split, embed, Chroma")
    collection = tutorial.build("covidqa", [(doc, 0, t) for doc, t in spans.papers.items()])
    judge = SpanJudge(spans.papers, paper_of=lambda source: source)
    rows, latency = ask_spans(
        questions, search=lambda q: tutorial.search(collection, q), judge=judge
    )
    out["tutorial"] = {"chunks": collection.count(), **summarize(rows), "latency_ms": latency}

    progress("ours: ingest the papers")
    started = time.perf_counter()
    index, report = index_papers(spans, settings=settings, model=model, rebuild=rebuild)
    ours: dict[str, Any] = {
        "chunks": index.store.count(),
        "ingest_s": round(time.perf_counter() - started, 1),
        "modes": {},
    }
    assert report.chunks_written == index.store.count(), report.as_dict()
    retriever = Retriever(index=index, settings=settings.retrieval)
    mine = SpanJudge(spans.papers, paper_lookup(spans.papers))
    for mode in modes:
        progress(f"ours: {mode}")

        def search(text: str, mode: str = mode) -> list[Hit]:
            return retriever.retrieve(text, k=DEPTH, mode=mode)

        rows, latency = ask_spans(questions, search=search, judge=mine)
        ours["modes"][mode] = {**summarize(rows), "latency_ms": latency}
    index.close()
    out["ours"] = ours
    out["offsets_off"] = {"tutorial": judge.misplaced, "ours": mine.misplaced}
    return out


def pages(
    file: Path,
    docs: Path,
    *,
    settings: Settings,
    model: Embedder,
    tutorial: Tutorial,
    modes: list[str],
    rebuild: bool = True,
) -> dict[str, Any]:
    from pypdf import PdfReader

    pageset = load_page_questions(file)
    names = list(dict.fromkeys(q.file for q in pageset.questions))
    missing = [n for n in names if not (docs / n).is_file()]
    if missing:
        return {"skipped": f"{len(missing)} PDFs not in {shown(docs)}: {', '.join(missing[:5])}"}
    collections, retrievers, indexes, chunks = {}, {}, [], {}
    for n, name in enumerate(names):
        progress(f"pages: {name}")
        reader = PdfReader(docs / name)
        texts = [(name, i, p.extract_text() or "") for i, p in enumerate(reader.pages, 1)]
        collections[name] = tutorial.build(f"pages-{n}", texts)
        index, _ = index_document(docs / name, settings=settings, model=model, rebuild=rebuild)
        indexes.append(index)
        retrievers[name] = Retriever(index=index, settings=settings.retrieval)
        chunks[name] = {"tutorial": collections[name].count(), "ours": index.store.count()}

    def tutorial_search(q: PageQuestion) -> list[Hit]:
        return tutorial.search(collections[q.file], q.question)

    rows, latency = ask_pages(pageset.questions, search=tutorial_search)
    out: dict[str, Any] = {
        "questions_file": shown(file),
        "documents": len(names),
        "questions": {h: sum(q.half == h for q in pageset.questions) for h in ("tune", "report")},
        "chunks": chunks,
        "tutorial": {**summarize(rows, name="page"), "latency_ms": latency},
        "ours": {"modes": {}},
    }
    for mode in modes:
        progress(f"pages, ours: {mode}")

        def search(q: PageQuestion, mode: str = mode) -> list[Hit]:
            return retrievers[q.file].retrieve(q.question, k=DEPTH, mode=mode)

        rows, latency = ask_pages(pageset.questions, search=search)
        out["ours"]["modes"][mode] = {**summarize(rows, name="page"), "latency_ms": latency}
    for index in indexes:
        index.close()
    return out


def recorded_settings(
    settings: Settings, model: Embedder, modes: list[str], reused: bool
) -> dict[str, Any]:
    """Both pipelines' settings as a results file records them (this script's and
    bench/filings.py's), so the two files describe a run the same way."""
    return {
        "k": list(KS),
        "tutorial": {
            **TUTORIAL,
            "model": "all-MiniLM-L6-v2 (bundled)",
            "backend": "torch",
            "store": "chroma cosine",
            "pdf_text": "pypdf",
        },
        "ours": {
            "model": Path(settings.embedding.embed_model).name,
            "backend": getattr(model, "backend", None),
            "chunk_size_tokens": settings.ingest.chunk_size,
            "chunk_overlap_tokens": settings.ingest.chunk_overlap,
            "default_mode": settings.retrieval.retrieval_mode,
            "candidates": settings.retrieval.candidates,
            "rrf_k": settings.retrieval.rrf_k,
            "weights": [settings.retrieval.dense_weight, settings.retrieval.bm25_weight],
            "rank_by": settings.retrieval.rank_by,
            "page_weight": settings.retrieval.page_weight,
            "modes": modes,
            "reused_indexes": reused,
        },
    }


def previous(only: str | None) -> dict[str, Any]:
    """With ``--only``, the other yardstick's part of the last results file, stamped with
    the commit that measured it."""
    if only is None:
        return {}
    path = ROOT / "bench" / "results" / "longdocs.json"
    if not path.is_file():
        raise SystemExit(f"--only {only} keeps the other figures from {shown(path)}: none yet")
    old = json.loads(path.read_text(encoding="utf-8"))
    for part in ("covidqa", "pages"):
        if isinstance(old.get(part), dict):
            old[part].setdefault("commit", old["commit"])
            old[part].setdefault("settings", old.get("settings", {}))
    return dict(old)


def shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qa", type=Path, default=COVIDQA)
    parser.add_argument("--pages", type=Path, default=PAGES)
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--modes", default="dense,bm25,hybrid")
    parser.add_argument("--limit", type=int, default=None, help="first N papers; prints only")
    parser.add_argument(
        "--only",
        choices=("covidqa", "pages"),
        default=None,
        help="measure one yardstick and keep the other's figures (and their commit) from the "
        "results file",
    )
    parser.add_argument("--store", type=Path, default=STORE, help="where our indexes are built")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep our indexes from an earlier run in --store (unchanged files are not "
        "ingested again): for a change of retrieval settings, not of chunking or extraction",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    settings = Settings.from_env().replace(store_dir=args.store, chroma_url=None)
    spans = load_squad(args.qa)
    if args.limit is not None:
        keep = list(spans.papers)[: args.limit]
        spans = SpanSet(
            spans.name,
            {d: spans.papers[d] for d in keep},
            [q for q in spans.questions if q.paper in keep],
            unlocated=spans.unlocated,
        )
    model = load_model(settings.embedding)
    with tempfile.TemporaryDirectory(prefix="rag-bench-longdocs-") as tmp:
        tutorial = Tutorial(Path(tmp))
        payload: dict[str, Any] = {
            "settings": recorded_settings(settings, model, modes, args.reuse)
        }
        kept = previous(args.only)
        if args.only == "pages":
            payload["covidqa"] = kept["covidqa"]
        else:
            payload["covidqa"] = covidqa(
                spans,
                settings=settings,
                model=model,
                tutorial=tutorial,
                modes=modes,
                rebuild=not args.reuse,
            )
            payload["covidqa"]["file"] = args.qa.name
        if args.only == "covidqa":
            payload["pages"] = kept["pages"]
        elif args.pages.is_file():
            payload["pages"] = pages(
                args.pages,
                args.docs,
                settings=settings,
                model=model,
                tutorial=tutorial,
                modes=modes,
                rebuild=not args.reuse,
            )
        else:
            payload["pages"] = {"skipped": f"{shown(args.pages)} not found"}
        if "skipped" in payload["pages"]:
            print(
                f"page-known questions skipped: {payload['pages']['skipped']} (write the "
                f"question file, fetch the PDFs into {shown(args.docs)}, and rerun)",
                file=sys.stderr,
            )
        payload["tutorial_embed_s"] = round(tutorial.embed_s, 1)  # 0 when all were cached
    if args.limit is None:
        print(f"wrote {write_result('longdocs', payload).relative_to(ROOT)}", file=sys.stderr)
    print(json.dumps(payload, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

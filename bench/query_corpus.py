"""The chunk texts and vectors `bench/query.py` indexes, built once and cached under `.rag/`.

Documents: COVID-QA's 98 papers, then SciFact's 5,183 abstracts (title and text), from
``../shared/data`` (or ``--data``). Every text is cut by the project's own ``Chunker`` at the
default ``RAG_CHUNK_SIZE`` / ``RAG_CHUNK_OVERLAP``:

- **base chunks**: each document chunked as ``python -m ingest`` would. The first
  ``EMBEDDED`` (10,000: all of COVID-QA's, then SciFact's in file order) are embedded with
  the project's embedder (``embed_documents``, as the writer calls it): the 10k set.
- **windows** (only for sizes beyond ``EMBEDDED``): more real, distinct chunk texts from
  the documents those chunks cover whole: at every sentence start, the longest run of whole
  sentences that fits ``BUDGETS`` tokens (200, then 160, 120 and 80: real chunks vary in
  length too), cut at a token boundary when one sentence is longer, as the chunker does.
  They are NOT embedded (that would cost hours of CPU on the shared 2-core machine): each
  one's vector is the overlap-weighted, normalised mean of the vectors of the embedded
  chunks of the same document that it overlaps. ``interpolation_check`` measures how close
  that is to embedding the window for real.

Everything is cached in ``.rag/bench-query/`` (chunk texts as JSON, vectors as ``.npy``
blocks of ``BLOCK`` chunks, so an interrupted embedding resumes where it stopped).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.chunking import Chunker
from ingest.document import Page
from rag.config import Settings
from rag.embedding.types import Embedder

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".rag" / "bench-query"
BLOCK = 1000
BUDGETS = (200, 160, 120, 80)  # window lengths in tokens, longest first
EMBEDDED = 10_000  # base chunks embedded for real: the CPU budget of the shared machine
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Piece:
    """One chunk text: its document, where it starts and ends in the document's text."""

    source: str
    start: int
    text: str
    window: int = 0  # 0 for a chunk as the chunker cuts it, else the window's token budget

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def documents(data: Path) -> list[tuple[str, str]]:
    """``(source, text)`` of COVID-QA's papers, then SciFact's abstracts."""
    covid = json.loads((data / "qa" / "covidqa" / "covidqa-200423.json").read_text("utf-8"))
    docs = [
        (f"covidqa/{p['paragraphs'][0]['document_id']}", p["paragraphs"][0]["context"])
        for p in covid["data"]
    ]
    with (data / "beir" / "scifact" / "corpus.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            docs.append((f"scifact/{row['_id']}", f"{row['title']}\n\n{row['text']}"))
    return docs


def queries(data: Path) -> list[str]:
    """SciFact's 300 test then 809 train queries (latency only: no relevance is used)."""
    folder = data / "beir" / "scifact"
    texts = []
    for name in ("queries.jsonl", "queries-train.jsonl"):
        with (folder / name).open(encoding="utf-8") as f:
            texts.extend(json.loads(line)["text"] for line in f)
    return texts


class Corpus:
    """Chunk texts and vectors for any size up to what the windows can reach."""

    def __init__(
        self, *, data: Path, settings: Settings, model: Embedder, embedded: int = EMBEDDED
    ) -> None:
        self.data = data
        self.limit = embedded  # chunks embedded for real
        self.model = model
        ingest = settings.ingest
        self.chunker = Chunker(
            model,
            chunk_size=ingest.chunk_size,
            chunk_overlap=ingest.chunk_overlap,
            document_prefix=model.prefixes.document,
        )
        self.docs = documents(data)
        key = f"{model.name}|{ingest.chunk_size}|{ingest.chunk_overlap}|{len(self.docs)}"
        self.key = hashlib.sha256(key.encode()).hexdigest()[:12]
        self.describe = {
            "chunk_size": ingest.chunk_size,
            "chunk_overlap": ingest.chunk_overlap,
            "documents": len(self.docs),
        }

    def chunks(self) -> list[Piece]:
        """Every document cut by the chunker, as ``python -m ingest`` cuts it (cached)."""
        path = CACHE / f"chunks-{self.key}.json"
        if path.is_file():
            rows = json.loads(path.read_text(encoding="utf-8"))
            return [Piece(r[0], r[1], r[2]) for r in rows]
        log.warning("chunking %d documents", len(self.docs))
        out = [
            Piece(source, chunk.start_index, chunk.text)
            for source, text in self.docs
            for chunk in self.chunker.split([Page(number=0, text=text)], source=source)
        ]
        _save(path, out)
        return out

    def windows(self) -> list[Piece]:
        """Sentence-aligned windows of the documents the embedded chunks cover whole,
        distinct from those chunks and from each other (cached)."""
        path = CACHE / f"windows-{self.key}-{self.limit}.json"
        if path.is_file():
            rows = json.loads(path.read_text(encoding="utf-8"))
            return [Piece(s, start, text, w) for s, start, text, w in rows]
        log.warning("cutting windows")
        base = self.chunks()
        seen = {p.text for p in base[: self.limit]}
        texts = dict(self.docs)
        whole = self._whole()
        spans = {source: _spans(self.model, texts[source]) for source in whole}
        out = []
        for budget in BUDGETS:
            for source in (s for s, _ in self.docs if s in whole):
                for start, end in _windows(*spans[source], budget=budget):
                    text = texts[source][start:end].strip()
                    if text and text not in seen:
                        seen.add(text)
                        out.append(Piece(source, start, text, budget))
        _save(path, out)
        return out

    def embedded(self) -> tuple[list[Piece], np.ndarray]:
        """The first ``limit`` base chunks and their vectors from the project's embedder
        (``embed_documents``, as the writer calls it), cached in blocks so that an
        interrupted run resumes."""
        pieces = self.chunks()[: self.limit]
        blocks = []
        for start in range(0, len(pieces), BLOCK):
            texts = [p.text for p in pieces[start : start + BLOCK]]
            path = CACHE / f"vectors-{self.key}-{start:06d}-{len(texts)}.npy"
            if not path.is_file():
                np.save(path, self.model.embed_documents(texts).astype(np.float32))
                log.warning("embedded %d of %d chunks", start + len(texts), len(pieces))
            blocks.append(np.load(path))
        return pieces, np.concatenate(blocks)

    def take(self, size: int) -> tuple[list[Piece], np.ndarray]:
        """``size`` distinct chunk texts, the embedded base chunks first, then
        windows of the documents those cover whole, and their vectors."""
        base, vectors = self.embedded()
        if size <= len(base):
            return base[:size], vectors[:size]
        windows = self.windows()
        if size > len(base) + len(windows):
            raise SystemExit(
                f"the corpus gives {len(base) + len(windows):,} chunk texts, not {size:,}"
            )
        chosen = base + windows[: size - len(base)]
        extra = interpolate(base, vectors, chosen[len(base) :])
        return chosen, np.concatenate([vectors, extra])

    def _whole(self) -> set[str]:
        """Documents whose every base chunk is among the embedded ones."""
        base = self.chunks()
        cut = {p.source for p in base[self.limit :]}
        return {p.source for p in base[: self.limit]} - cut


def interpolate(base: list[Piece], vectors: np.ndarray, windows: list[Piece]) -> np.ndarray:
    """Each window's vector: the mean of the base vectors of its document, weighted
    by the characters it shares with each base chunk, normalised to unit length."""
    by_source: dict[str, list[int]] = {}
    for i, piece in enumerate(base):
        by_source.setdefault(piece.source, []).append(i)
    out = np.zeros((len(windows), vectors.shape[1]), dtype=np.float32)
    for row, piece in enumerate(windows):
        total = np.zeros(vectors.shape[1], dtype=np.float64)
        for i in by_source.get(piece.source, []):
            shared = min(piece.end, base[i].end) - max(piece.start, base[i].start)
            if shared > 0:
                total += shared * vectors[i]
        norm = float(np.linalg.norm(total))
        if norm == 0.0:
            raise SystemExit(f"a window of {piece.source} overlaps no base chunk")
        out[row] = total / norm
    return out


def interpolation_check(corpus: Corpus, pieces: list[Piece], vectors: np.ndarray, n: int) -> dict:
    """Cosine between the interpolated vector and the real embedding of ``n`` windows
    taken at even steps (cached): how far the stand-in is from the truth."""
    windows = [i for i, p in enumerate(pieces) if p.window]
    if not windows or n <= 0:
        return {}
    picked = windows[:: max(len(windows) // n, 1)][:n]
    path = CACHE / f"vectors-{corpus.key}-check-{len(pieces)}-{n}.npy"
    if path.is_file():
        real = np.load(path)
    else:
        real = corpus.model.embed_documents([pieces[i].text for i in picked])
        np.save(path, real)
    cosines = np.sum(real * vectors[picked], axis=1)
    return {
        "windows_checked": len(picked),
        "cosine_mean": round(float(np.mean(cosines)), 4),
        "cosine_p5": round(float(np.percentile(cosines, 5)), 4),
        "cosine_min": round(float(np.min(cosines)), 4),
    }


def _save(path: Path, pieces: list[Piece]) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    rows = [[p.source, p.start, p.text, p.window] for p in pieces]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def _spans(model: Embedder, text: str) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """A document's token offsets, sentence starts and sentence ends."""
    starts = [0] + [m.end() for m in SENTENCE_END.finditer(text)]
    ends = [m.start() for m in SENTENCE_END.finditer(text)] + [len(text.rstrip())]
    return model.token_offsets(text), starts, ends


def _windows(
    offsets: list[tuple[int, int]], starts: list[int], ends: list[int], *, budget: int
) -> list[tuple[int, int]]:
    """At each sentence start, the longest run of whole sentences within ``budget`` tokens
    (or ``budget`` tokens when the first sentence alone is longer): ``(start, end)``."""
    token_starts = [a for a, _ in offsets]
    out = []
    for start in starts:
        first = bisect.bisect_left(token_starts, start)
        last = min(first + budget, len(offsets)) - 1
        if last < first:
            continue
        limit = offsets[last][1]
        k = bisect.bisect_right(ends, limit) - 1
        out.append((start, ends[k] if k >= 0 and ends[k] > start else limit))
    return out

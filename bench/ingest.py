"""Ingestion speed: this project against the tutorial pipeline, as users run both.

    python bench/ingest.py [--json] [--limit N] [--skip-scifact] [--skip-pdfs]

Three pipelines, each a separate process started as a user starts it, so process start,
imports and model load count for every one of them:

- tutorial: ``bench/tutorial_ingest.py`` (pypdf pages, LangChain's 1000/200-character
  splitter, one sentence-transformers ``encode`` per file on torch, Chroma ``add``);
- torch:    ``python -m ingest`` with ``RAG_EMBED_BACKEND=torch`` (the pipeline's gain);
- default:  ``python -m ingest`` with the default settings (the pipeline and the backend).

Two corpora, each pipeline into a fresh store of its own:

- SciFact: the first ``--limit`` abstracts (title and text, one .txt file each), ONE
  process per pipeline over the folder (so the model loads once per pipeline);
- PDFs: every distinct PDF of ../shared/data/pdfs and data/ (data/ copies two shared
  ones; the encrypted one is skipped for every pipeline: no pipeline opens it without its
  password), ONE process PER FILE, ``python -m ingest FILE`` as a user types it (the
  tutorial: ``bench/tutorial_ingest.py FILE``). The pipelines take turns file by file, so
  a change in the machine's load falls on all three alike.

Before the clock, one unmeasured run of each pipeline on a one-line file makes sure the
ONNX/OpenVINO export exists (a one-time cost per machine) and the libraries are in the
page cache. Then the unchanged SciFact folder is ingested again by the default pipeline (a
new process that skips every file). Each row has wall seconds and the CPU seconds of its
processes (``wait4``); ratios are tutorial seconds over ours. Last, the default embedder
embeds the PDFs' stored chunk texts once more in this process (``embedding_floor``): the
ratio no pipeline on this model and CPU can pass. Writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provenance import write_result  # noqa: E402
from bench.timing import timed  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
SCIFACT = SHARED / "beir" / "scifact" / "corpus.jsonl"
PIPELINES = ("tutorial", "torch", "default")
DEFAULT_LIMIT = 100  # keeps the whole run near ten minutes on 2 busy shared cores


@dataclass
class Run:
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    chunks: int = 0
    files: int = 0
    processes: int = 0

    def add(self, other: Run) -> None:
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds
        self.chunks += other.chunks
        self.files += other.files
        self.processes += other.processes

    def as_dict(self) -> dict[str, float]:
        return {
            "seconds": round(self.seconds, 2),
            "cpu_seconds": round(self.cpu_seconds, 2),
            "chunks": self.chunks,
            "files": self.files,
            "processes": self.processes,
        }


def run_pipeline(pipeline: str, files: list[Path], store: Path) -> Run:
    """One process of ``pipeline`` over ``files`` into ``store``."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_STORE_DIR": str(store)}
    env.pop("RAG_EMBED_BACKEND", None)
    if pipeline == "tutorial":
        command = [sys.executable, "bench/tutorial_ingest.py", "--store", str(store)]
        wall, cpu, out = timed([*command, *map(str, files)], env=env)
        chunks = int(json.loads(out)["chunks"])
    else:
        if pipeline == "torch":
            env["RAG_EMBED_BACKEND"] = "torch"
        wall, cpu, out = timed(
            [sys.executable, "-m", "ingest", *map(str, files), "--json"], env=env
        )
        report = json.loads(out)
        chunks = int(report["chunks_written"])
    count = sum(1 for _ in _walk(files))
    return Run(seconds=wall, cpu_seconds=cpu, chunks=chunks, files=count, processes=1)


def _walk(paths: list[Path]) -> list[Path]:
    return [f for p in paths for f in (sorted(p.iterdir()) if p.is_dir() else [p])]


def scifact_folder(target: Path, limit: int) -> Path:
    target.mkdir(parents=True)
    with SCIFACT.open(encoding="utf-8") as f:
        for n, line in enumerate(f):
            if n >= limit:
                break
            doc = json.loads(line)
            text = f"{doc['title']}\n\n{doc['text']}\n"
            (target / f"scifact-{doc['_id']}.txt").write_text(text, encoding="utf-8")
    return target


def pdf_corpus() -> list[Path]:
    """Each distinct PDF once, without the encrypted one."""
    seen: dict[str, Path] = {}
    for path in sorted([*(SHARED / "pdfs").glob("*.pdf"), *(ROOT / "data").glob("*.pdf")]):
        if "password" not in path.name:
            seen.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), path)
    return sorted(seen.values(), key=lambda p: p.name)


def embedding_floor(store: Path, tutorial_seconds: float) -> dict[str, float]:
    """The seconds the default embedder takes for exactly the texts the default pipeline
    embedded into ``store`` (each chunk after its heading path, as the collection records),
    timed in this process after a warm-up: what a run would still cost if reading, chunking,
    start-up and writing were free. The tutorial's seconds over it bound the ratio any
    pipeline on this model and CPU can reach."""
    from rag.config import Settings
    from rag.store.index import load_model, open_index
    from rag.store.passages import indexed_text

    settings = Settings.from_env().replace(store_dir=store, chroma_url=None)
    model = load_model(settings.embedding)
    with open_index(settings, writing=False, model=model) as index:
        contract = index.contract()
        context = contract.context if contract else ""
        hits, _ = index.store.all_vectors()
    texts = [indexed_text(h.text, h.header_path, context=context) for h in hits]
    model.embed_documents(texts[:16])  # warm-up: the first call compiles and allocates
    wall0, cpu0 = time.perf_counter(), os.times()
    model.embed_documents(texts)
    wall, cpu1 = time.perf_counter() - wall0, os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {
        "chunks": len(texts),
        "precision": str(getattr(model, "precision", "?")),
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "ceiling_ratio_vs_tutorial": round(tutorial_seconds / wall, 2),
    }


def ratios(runs: dict[str, Run], prefix: str) -> dict[str, float]:
    base = runs["tutorial"]
    out = {}
    for name, key in (("default", ""), ("torch", "_torch")):
        out[f"{prefix}ratio_vs_tutorial{key}"] = round(base.seconds / runs[name].seconds, 2)
        out[f"{prefix}cpu_ratio_vs_tutorial{key}"] = round(
            base.cpu_seconds / runs[name].cpu_seconds, 2
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="SciFact abstracts")
    parser.add_argument("--skip-scifact", action="store_true")
    parser.add_argument("--skip-pdfs", action="store_true")
    args = parser.parse_args(argv)
    result: dict[str, object] = {"pipelines": list(PIPELINES)}
    with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        warm = tmp / "warm.txt"
        warm.write_text("One line to warm up the caches.\n", encoding="utf-8")
        for pipeline in PIPELINES:
            run_pipeline(pipeline, [warm], tmp / f"warm-{pipeline}")
        if not args.skip_scifact:
            corpus = scifact_folder(tmp / "scifact", args.limit)
            runs = {p: run_pipeline(p, [corpus], tmp / f"scifact-{p}") for p in PIPELINES}
            again = run_pipeline("default", [corpus], tmp / "scifact-default")
            result["scifact"] = {
                "abstracts": args.limit,
                "runs": {p: r.as_dict() for p, r in runs.items()},
                "reingest_seconds": round(again.seconds, 2),
                "reingest_speedup": round(runs["default"].seconds / again.seconds, 1),
                **ratios(runs, ""),
            }
            result.update(ratios(runs, ""))
        if not args.skip_pdfs:
            pdfs = pdf_corpus()
            totals = {p: Run() for p in PIPELINES}
            per_file: dict[str, dict[str, dict[str, float]]] = {}
            for pdf in pdfs:
                per_file[pdf.name] = {}
                for p in PIPELINES:
                    run = run_pipeline(p, [pdf], tmp / f"pdf-{p}")
                    totals[p].add(run)
                    per_file[pdf.name][p] = run.as_dict()
            result["pdfs"] = {
                "files": [p.name for p in pdfs],
                "runs": {p: r.as_dict() for p, r in totals.items()},
                "per_file": per_file,
                "embedding_floor": embedding_floor(tmp / "pdf-default", totals["tutorial"].seconds),
                **ratios(totals, "pdf_"),
            }
            result.update(ratios(totals, "pdf_"))
    path = write_result("ingest", result)
    if args.json:
        print(json.dumps(result))
        return 0
    for corpus_name in ("scifact", "pdfs"):
        section = result.get(corpus_name)
        if not isinstance(section, dict):
            continue
        print(f"{corpus_name}:")
        for p, row in section["runs"].items():
            print(
                f"  {p:<10}{row['seconds']:>9.1f} s {row['cpu_seconds']:>9.1f} cpu-s "
                f"{row['chunks']:>7} chunks {row['files']:>5} files"
            )
        print("  " + ", ".join(f"{k} {v}" for k, v in section.items() if "ratio" in k))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

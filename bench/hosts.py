"""Two hosts on one Chroma server: how long after host A's ingest ends host B finds it.

    python bench/hosts.py [--rounds 5] [--corpus PATH ...] [--url http://host:port]

Starts a `chroma run` on a free local port (or uses ``--url``), and stands for two hosts
with two ``RAG_STORE_DIR`` folders on the same collection, in one process with one loaded
model (what is measured is the store and the BM25 copy, not the model's start). Host A
ingests the corpus (default: data/gmpl.pdf, data/R-intro.pdf and data/*.md); host B, as a
running app does, keeps one retriever. Each round A ingests a new note holding a word
found nowhere else, and as soon as A's ``Ingestor.run`` has returned, B searches for it
until a search finds it: the figure is the time from A's run returning to that search's
end, in the default (hybrid) mode and in BM25 mode. The first search after a write
rebuilds B's BM25 copy from the server, since the shared generation changed, and pays for
it. Also recorded: B's search when nothing changed (the generation read included) and the
generation read alone. Both hosts are on this machine and reach the server over loopback.
Writes bench/results/hosts.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.provenance import write_result  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.retrieval.retriever import Retriever  # noqa: E402
from rag.store.index import connect, load_model, open_index  # noqa: E402

DATA = ROOT / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_chroma(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    command = str(chroma) if chroma.exists() else (shutil.which("chroma") or "chroma")
    server = subprocess.Popen(
        [command, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"chroma run did not answer on {url}")


def host(base: Settings, folder: Path, url: str, collection: str) -> Settings:
    return replace(
        base,
        store=replace(base.store, store_dir=folder, chroma_url=url, collection=collection),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", type=Path, nargs="*")
    parser.add_argument("--url", help="an existing Chroma server instead of a fresh one")
    args = parser.parse_args()
    corpus = args.corpus or [DATA / "gmpl.pdf", DATA / "R-intro.pdf", *sorted(DATA.glob("*.md"))]

    base = Settings.from_env()
    model = load_model(base.embedding)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = None
        url = args.url
        if url is None:
            server, url = start_chroma(work / "chroma")
        try:
            result = measure(base, model, work, url, corpus, rounds=args.rounds)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
    path = write_result("hosts", result)
    print(f"wrote {path}")
    for key, value in result["figures"].items():  # type: ignore[attr-defined]
        print(f"{key:>48}: {value}")


def measure(
    base: Settings, model: object, work: Path, url: str, corpus: list[Path], *, rounds: int
) -> dict[str, object]:
    collection = f"bench{uuid.uuid4().hex[:8]}"
    a = host(base, work / "host-a", url, collection)
    b = host(base, work / "host-b", url, collection)
    notes = work / "notes"
    notes.mkdir()

    started = time.perf_counter()
    with open_index(a, writing=True, model=model) as index:  # type: ignore[arg-type]
        first = Ingestor(index).run(corpus)
    ingest_seconds = time.perf_counter() - started
    chunks = connect(a.store).count()

    reader = open_index(b, writing=False, model=model)  # type: ignore[arg-type]
    retriever = Retriever(index=reader, settings=b.retrieval)
    retriever.retrieve("warm up", k=5)  # B's first BM25 copy, built from the server

    quiet = []
    for _ in range(20):
        t = time.perf_counter()
        retriever.retrieve("branch and bound for integer programs", k=5)
        quiet.append(time.perf_counter() - t)
    shared = reader.shared
    assert shared is not None
    reads = []
    for _ in range(50):
        t = time.perf_counter()
        shared.generation()
        reads.append(time.perf_counter() - t)

    lags: dict[str, list[float]] = {"hybrid": [], "bm25": []}
    n = 0
    for mode, found_in in lags.items():
        for _ in range(rounds):
            n += 1
            word = f"zorblat{uuid.uuid4().hex[:6]}"
            note = notes / f"note{n}.md"
            note.write_text(f"# Note {n}\n\nThe {word} valve is checked every spring.\n")
            with open_index(a, writing=True, model=model) as index:  # type: ignore[arg-type]
                report = Ingestor(index).run([note])
            done = time.perf_counter()
            assert report.added and not report.errors, report.as_dict()
            # B searches as soon as A's run has returned, and again until it finds the note
            while True:
                hits = retriever.retrieve(f"{word} valve", k=5, mode=mode)
                if any(h.source == str(note.absolute()) for h in hits):
                    break
                if time.perf_counter() - done > 120:
                    raise SystemExit(f"host B did not find note {n} ({mode}) within 120 s")
            found_in.append(time.perf_counter() - done)
    reader.close()

    def ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 1)

    return {
        "setup": {
            "corpus": [
                str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in corpus
            ],
            "chunks": chunks,
            "files": len(first.added),
            "rounds": rounds,
            "server": "chroma run on this machine, over loopback",
        },
        "figures": {
            "A's ingest ends -> B's hybrid search finds it, median ms": ms(lags["hybrid"]),
            "A's ingest ends -> B's bm25 search finds it, median ms": ms(lags["bm25"]),
            "A's ingest ends -> B finds it, max ms": round(
                max(max(v) for v in lags.values()) * 1000, 1
            ),
            "B's search, nothing changed, median ms": ms(quiet),
            "shared generation read, median ms": ms(reads),
            "initial ingest by A, s": round(ingest_seconds, 1),
        },
        "lags_ms": {mode: [round(x * 1000, 1) for x in got] for mode, got in lags.items()},
    }


if __name__ == "__main__":
    main()

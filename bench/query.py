"""Query latency and memory of `rag search`, every retrieval mode, at 10k, 100k and 1M chunks.

    python bench/query.py [--json] [--sizes 10000,100000,1000000] [--modes dense,hybrid,...]
                          [--queries 1109] [--timeout-s 1800] [--data ../shared/data]

What is timed is ``Retriever.retrieve`` as ``python -m rag search`` runs it: the index opened
through ``rag.store.index.open_index`` (reading), the query embedded, the dense search, BM25, the
fusion, MMR, the fetch of the fused hits and each hit's cosine (the similarity fill-in),
top ``RAG_TOP_K``, every other setting at its default. Latency: each of SciFact's 1,109
queries (300 test + 809 train; only their texts are used), after 20 warm-up queries;
p50/p95/p99 in ms.

Each size is built in a child process through the project's write path: the chunk texts go
through ``Ingestor.run_records`` (writer, Chroma upserts, manifest, BM25 sync), their vectors
precomputed (see ``query_corpus.py``: real chunk texts of SciFact and COVID-QA; at 100k some
vectors are interpolated, not embedded). 1M: random unit vectors, no texts (synthetic: the
corpora do not have a million chunks, and embedding one would take days on this machine),
written with ``Store.upsert``; dense modes only. Each (size, mode) is then queried in a fresh
child process, whose peak RSS (``getrusage(RUSAGE_SELF)`` in that child) is reported.

Writes bench/results/query.json (``bench/provenance.write_result``); ``bench/tables.py``
renders it into bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from query_corpus import CACHE, EMBEDDED, Corpus, interpolation_check, queries  # noqa: E402
from query_index import CHECKED, SYNTHETIC_FROM, build, peak_rss_mb, settings_for  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.modes import MODES, parse_mode  # noqa: E402
from rag.store.index import load_model, open_index  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
WARMUP = 20
RUN_MODES = [m for m in MODES if not parse_mode(m).rerank]  # no reranker model ships


def measure(size: int, modes: list[str], store_dir: Path, data: Path, n: int) -> dict[str, Any]:
    """Child: open the index as `rag search` does and time ``n`` queries in every mode, the
    modes in turn (so a change in the machine's load hits them alike)."""
    from rag.retrieval.retriever import Retriever

    settings = settings_for(store_dir)
    texts = queries(data)[:n]
    started = time.perf_counter()
    index = open_index(settings, writing=False)  # as rag search: contract first, model lazily
    retriever = Retriever(index=index, settings=settings.retrieval)
    for mode in modes:  # the first query loads the model, the HNSW index and BM25
        retriever.retrieve(texts[0], mode=mode)
    open_s = time.perf_counter() - started
    for text in texts[-WARMUP:]:
        for mode in modes:
            retriever.retrieve(text, mode=mode)
    load_start = os.getloadavg()[0]
    latencies: dict[str, list[float]] = {mode: [] for mode in modes}
    empty = dict.fromkeys(modes, 0)
    # every mode gets every query once, never the text the call before it had (a just-seen
    # input would flatter it), and each round starts with the next mode: the first call of a
    # round was seen to run slower, so every mode takes every place equally often
    stride = max(len(texts) // len(modes), 1)
    for i in range(len(texts)):
        for place in range(len(modes)):
            j = (place + i) % len(modes)
            mode, text = modes[j], texts[(i + j * stride) % len(texts)]
            t0 = time.perf_counter()
            hits = retriever.retrieve(text, mode=mode)
            latencies[mode].append((time.perf_counter() - t0) * 1000)
            empty[mode] += not hits
    load = [round(load_start, 2), round(os.getloadavg()[0], 2)]
    rows = []
    for mode in modes:
        assert empty[mode] < len(texts), f"{mode} found nothing: the index is not what it should be"
        lat = np.asarray(latencies[mode])
        rows.append(
            {
                "size": size,
                "mode": mode,
                "queries": len(lat),
                "queries_without_hits": empty[mode],
                "p50_ms": round(float(np.percentile(lat, 50)), 2),
                "p95_ms": round(float(np.percentile(lat, 95)), 2),
                "p99_ms": round(float(np.percentile(lat, 99)), 2),
                "mean_ms": round(float(lat.mean()), 2),
            }
        )
    return {
        "size": size,
        "k": settings.retrieval.top_k,
        "warmup": WARMUP,
        "open_and_first_queries_s": round(open_s, 2),
        "peak_rss_mb": round(peak_rss_mb()),
        "load_average_1m": load,
        "modes": rows,
    }


def child(args: list[str], timeout_s: float) -> dict[str, Any]:
    """Run this script as a child; its last stdout line is its JSON result."""
    try:
        done = subprocess.run(
            [sys.executable, __file__, *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        said = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        last = [line for line in said.splitlines() if line.startswith("progress:")][-1:]
        where = f"; {last[0].removeprefix('progress: ')}" if last else ""
        return {"error": f"not finished in {timeout_s:.0f} s (--timeout-s){where}"}
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_size(
    size: int, modes: list[str], args: argparse.Namespace, *, timeout_s: float
) -> list[dict[str, Any]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    store = Path(tempfile.mkdtemp(prefix=f"index-{size}-", dir=CACHE))
    common = ["--store", str(store), "--data", str(args.data), "--embedded", str(args.embedded)]
    try:
        started = time.monotonic()
        built = child(["--build", str(size), *common], timeout_s)
        built.setdefault("size", size)
        rows: list[dict[str, Any]] = [{"kind": "build", **built}]
        log(f"{size}: built {json.dumps(built)}")
        if "error" in built:
            return rows
        run = modes
        if size >= SYNTHETIC_FROM:
            run = [m for m in modes if parse_mode(m).base == "dense"]
            for mode in (m for m in modes if m not in run):
                reason = "not measured: the synthetic set has no texts"
                rows.append({"kind": "query", "size": size, "mode": mode, "error": reason})
        left = timeout_s - (time.monotonic() - started)
        what = ["--measure", str(size), "--modes", ",".join(run), "--queries", str(args.queries)]
        measured = child([*what, *common], max(left, 60))
        log(f"{size}: {json.dumps(measured)}")
        if "error" in measured:
            rows += [{"kind": "query", "size": size, "mode": m, **measured} for m in run]
            return rows
        rows.append({"kind": "process", **{k: v for k, v in measured.items() if k != "modes"}})
        rows += [{"kind": "query", **row} for row in measured["modes"]]
        return rows
    finally:
        shutil.rmtree(store, ignore_errors=True)


def summary(rows: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    measured = [r for r in rows if r["kind"] == "query" and "error" not in r]

    def table(key: str) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for r in measured:
            out.setdefault(r["mode"], {})[str(r["size"])] = r[key]
        return out

    return {
        "p50_ms": table("p50_ms"),
        "p95_ms": table("p95_ms"),
        "p99_ms": table("p99_ms"),
        "peak_rss_mb": {str(r["size"]): r["peak_rss_mb"] for r in rows if r["kind"] == "process"},
        "processes": {str(r["size"]): r for r in rows if r["kind"] == "process"},
        "builds": {str(r["size"]): r for r in rows if r["kind"] == "build"},
        "not_measured": [
            {"size": r["size"], "mode": r.get("mode"), "reason": r["error"]}
            for r in rows
            if "error" in r
        ],
        "queries": {
            "count": min((r["queries"] for r in measured), default=0),
            "warmup": WARMUP,
            "source": "SciFact queries: test (300) then train (809), texts only",
        },
        "modes_not_run": {
            m: "no reranker model ships (RAG_RERANK_MODEL)" for m in MODES if parse_mode(m).rerank
        },
        "rows": [r for r in rows if r["kind"] == "query"],
        "command": "python bench/query.py " + " ".join(args.argv),
    }


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--modes", default=",".join(RUN_MODES), help="comma-separated")
    parser.add_argument("--queries", type=int, default=1109, help="at most 1,109")
    parser.add_argument(
        "--timeout-s",
        default="1800",
        help="per size, build included; or one per size: 1200,1200,900",
    )
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument(
        "--embedded", type=int, default=EMBEDDED, help="chunks embedded for real (cached)"
    )
    parser.add_argument(
        "--merge", action="store_true", help="keep results/query.json's other sizes"
    )
    parser.add_argument("--no-write", action="store_true", help="do not write results/")
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--json"]
    if args.build is not None:
        print(json.dumps(build(args.build, args.store, args.data, embedded=args.embedded)))
        return 0
    if args.measure is not None:
        modes = args.modes.split(",")
        print(json.dumps(measure(args.measure, modes, args.store, args.data, args.queries)))
        return 0
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        parse_mode(mode)  # a bad mode fails here, in one line, before anything is built
    if not (args.data / "beir" / "scifact" / "corpus.jsonl").is_file():
        parser.error(f"no SciFact corpus under {args.data}: pass --data PATH/TO/shared/data")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    prepare(sizes, args)
    limits = [float(t) for t in args.timeout_s.split(",")]
    if len(limits) not in (1, len(sizes)):
        parser.error("--timeout-s takes one value, or one per size")
    limits = limits * len(sizes) if len(limits) == 1 else limits
    rows = [
        row
        for size, limit in zip(sizes, limits, strict=True)
        for row in run_size(size, modes, args, timeout_s=limit)
    ]
    if args.merge:
        rows = kept(sizes) + rows
    result = summary(rows, args)
    if args.merge:
        earlier = json.loads((ROOT / "bench" / "results" / "query.json").read_text("utf-8"))
        keep = sorted({r["size"] for r in rows} - set(sizes))
        result["merged"] = provenance_of(earlier, keep=keep)
    if not args.no_write:
        from provenance import write_result

        log(f"wrote {write_result('query', result)}")
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    return 0


def kept(sizes: list[int]) -> list[dict[str, Any]]:
    """``--merge``: the rows of bench/results/query.json for the sizes not run this time."""
    earlier = json.loads((ROOT / "bench" / "results" / "query.json").read_text("utf-8"))
    rows = [{"kind": "build", **b} for b in earlier["builds"].values()]
    rows += [{"kind": "process", **p} for p in earlier["processes"].values()]
    rows += [{"kind": "query", **r} for r in earlier["rows"]]
    return [r for r in rows if r["size"] not in sizes]


def provenance_of(earlier: dict[str, Any], *, keep: list[int]) -> list[dict[str, Any]]:
    """The commit and date of each kept size: its own run's, carried through earlier merges."""
    before = earlier.get("merged") or []
    before = [before] if isinstance(before, dict) else before
    older = {n: part for part in before for n in part["sizes"]}
    runs: dict[tuple[str, str], list[int]] = {}
    for n in keep:
        part = older.get(n, earlier)
        runs.setdefault((part["commit"], part["date"]), []).append(n)
    return [{"sizes": s, "commit": c, "date": d} for (c, d), s in runs.items()]


def prepare(sizes: list[int], args: argparse.Namespace) -> None:
    """Chunk and embed the real corpora once (cached), so no child pays it on the clock."""
    real = [s for s in sizes if s < SYNTHETIC_FROM]
    if not real:
        return
    settings = Settings.from_env()
    model = load_model(settings.embedding)
    corpus = Corpus(data=args.data, settings=settings, model=model, embedded=args.embedded)
    for size in real:
        pieces, vectors = corpus.take(size)
        interpolation_check(corpus, pieces, vectors, CHECKED)


def print_table(result: dict[str, Any]) -> None:
    print(f"{'mode':<12} {'chunks':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for r in result["rows"]:
        if "error" in r:
            print(f"{r['mode']:<12} {r['size']:>9} {r['error']}")
            continue
        print(f"{r['mode']:<12} {r['size']:>9} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['p99_ms']:>8}")
    for size, peak in result["peak_rss_mb"].items():
        print(f"peak RSS at {size} chunks (every mode, one process): {peak} MB")
    for size, built in result["builds"].items():
        if "error" in built:
            print(f"{size} chunks: {built['error']}")


if __name__ == "__main__":
    sys.exit(main())

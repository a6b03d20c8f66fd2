"""The API server under load: 20 concurrent clients ask questions while an upload is ingested.

    python bench/api_load.py [--clients 20] [--rounds 3] [--timeout-s 900]

Builds a store from the three Markdown files in data/ (`python -m rag ingest`), starts
`python -m rag serve` on a free 127.0.0.1 port with an API key, and runs CLIENTS threads
with the official `openai` client (and httpx for the REST endpoints), each doing ROUNDS
rounds of: a chat completion, a streamed chat completion, a search and an embedding. One
more thread uploads data/gmpl.pdf a second in, so the questions run while it is ingested.

Loopback only, bounded in count (CLIENTS x ROUNDS x 4 requests + 1 upload) and in time.
Every request must be answered (2xx) or refused with a clear status and an OpenAI-style
error body (429, 503); an exception (a lost request: connection error, timeout) or an
error line in the server's log fails the run. Writes bench/results/api_load.json (commit,
machine, versions, p50/p95 per endpoint) and prints it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provenance import write_result  # noqa: E402

DOCS = ["about-this-app.md", "configuration.md", "how-it-works.md"]
UPLOAD = ROOT / "data" / "gmpl.pdf"
KEY = "bench-key-0123456789abcdef"
QUESTIONS = [
    "What is RAG_CHUNK_SIZE measured in?",
    "How is text split into chunks?",
    "What happens when no LLM is configured?",
    "How are PDFs loaded?",
    "Which retrieval modes are there?",
]
CLEAR_REFUSALS = {429, 503}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)
        self.lost: list[str] = []

    def timed(self, endpoint: str, call: Any) -> None:
        start = time.perf_counter()
        try:
            status = call()
        except openai.APIStatusError as exc:
            status = exc.status_code
            body = exc.response.json() if exc.response.content else {}
            if status not in CLEAR_REFUSALS or "error" not in body:
                self._lose(f"{endpoint}: unclear refusal {status} {exc.response.text[:200]}")
        except Exception as exc:  # a request without an answer: lost
            self._lose(f"{endpoint}: {type(exc).__name__}: {exc}")
            return
        elapsed = (time.perf_counter() - start) * 1000
        with self.lock:
            self.statuses[endpoint][status] += 1
            if 200 <= status < 300:
                self.latency[endpoint].append(elapsed)

    def _lose(self, what: str) -> None:
        with self.lock:
            self.lost.append(what)


def checked(reply: httpx.Response) -> int:
    """The status of a REST reply; an error that is not a clear refusal raises (lost)."""
    if reply.status_code >= 400:
        clear = reply.status_code in CLEAR_REFUSALS and "error" in reply.json()
        if not clear:
            raise RuntimeError(f"unclear refusal {reply.status_code}: {reply.text[:200]}")
    return reply.status_code


def client_loop(n: int, url: str, rounds: int, rec: Recorder) -> None:
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=300)
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=300
    ) as http:
        for r in range(rounds):
            one_round(client, http, QUESTIONS[(n + r) % len(QUESTIONS)], rec)


def one_round(client: openai.OpenAI, http: httpx.Client, question: str, rec: Recorder) -> None:
    messages: Any = [{"role": "user", "content": question}]

    def chat() -> int:
        client.chat.completions.create(model="docs", messages=messages)
        return 200

    def stream() -> int:
        pieces = client.chat.completions.create(model="docs", messages=messages, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in pieces if c.choices)
        if not text:
            raise RuntimeError("an empty streamed answer")
        return 200

    def search() -> int:
        return checked(http.post("/v1/search", json={"query": question, "k": 5}))

    def embed() -> int:
        client.embeddings.create(model="docs", input=[question, question.upper()])
        return 200

    rec.timed("chat.completions", chat)
    rec.timed("chat.completions (stream)", stream)
    rec.timed("search", search)
    rec.timed("embeddings", embed)


def upload(url: str, rec: Recorder, out: dict[str, Any]) -> None:
    time.sleep(1.0)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=900) as h:

        def send() -> int:
            reply = h.post("/v1/documents", files={"file": (UPLOAD.name, UPLOAD.read_bytes())})
            out["status"] = reply.status_code
            out["report"] = reply.json().get("report")
            return checked(reply)

        start = time.perf_counter()
        rec.timed("documents (upload)", send)
        out["seconds"] = round(time.perf_counter() - start, 2)


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    a = np.asarray(values)
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 1),
        "p95_ms": round(float(np.percentile(a, 95)), 1),
        "max_ms": round(float(a.max()), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout-s", type=float, default=900)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="api-load-"))
    env = {
        **os.environ,
        "RAG_STORE_DIR": str(work / "store"),
        "RAG_LLM": "none",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    env.pop("RAG_API_KEYS", None)
    docs = work / "docs"
    docs.mkdir()
    for name in DOCS:
        shutil.copy(ROOT / "data" / name, docs / name)
    load = round(os.getloadavg()[0], 2)  # other jobs on the machine, when it starts
    subprocess.run(
        [sys.executable, "-m", "rag", "ingest", str(docs)], cwd=ROOT, env=env, check=True
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = work / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "rag", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**env, "RAG_API_KEYS": KEY},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    rec = Recorder()
    uploaded: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start; see {log_path}") from None
                time.sleep(0.5)
        started = time.perf_counter()
        threads = [
            threading.Thread(target=client_loop, args=(n, url, args.rounds, rec), daemon=True)
            for n in range(args.clients)
        ]
        threads.append(threading.Thread(target=upload, args=(url, rec, uploaded), daemon=True))
        for t in threads:
            t.start()
        end = time.monotonic() + args.timeout_s
        for t in threads:
            t.join(timeout=max(0.0, end - time.monotonic()))
        stuck = sum(t.is_alive() for t in threads)
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    text = log_path.read_text(errors="replace")
    log_errors = [line for line in text.splitlines() if "ERROR" in line or "Traceback" in line]
    expected = args.clients * args.rounds * 4 + 1
    answered = sum(sum(c.values()) for c in rec.statuses.values())
    result = {
        "load_average_1m_at_start": load,
        "server_versions": {p: version(p) for p in ("fastapi", "uvicorn", "openai", "mcp")},
        "setup": {
            "clients": args.clients,
            "rounds": args.rounds,
            "requests": expected,
            "corpus": DOCS,
            "upload": UPLOAD.name,
            "answers": "extractive (RAG_LLM=none)",
            "embed_backend": "RAG_EMBED_BACKEND=auto",
        },
        "wall_s": round(wall, 1),
        "answered": answered,
        "lost": rec.lost,
        "stuck_threads": stuck,
        "statuses": {e: dict(c) for e, c in sorted(rec.statuses.items())},
        "latency": {e: percentiles(v) for e, v in sorted(rec.latency.items())},
        "upload": uploaded,
        "server_log_errors": log_errors[:20],
    }
    path = write_result("api_load", result)
    print(path.read_text(encoding="utf-8"))
    shutil.rmtree(work, ignore_errors=True)
    ok = answered == expected and not rec.lost and not stuck and not log_errors
    ok = ok and uploaded.get("status") == 201
    print("OK: none lost, no error in the log" if ok else "FAILED: see above", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

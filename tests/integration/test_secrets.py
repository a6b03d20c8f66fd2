"""An API key never reaches logs, error messages or the UI, even when the server echoes it."""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from rag.answers.llm import OpenAILLM
from rag.config import Settings
from rag.errors import LLMAuthError
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

FAKE_KEY = "sk-canary-SECRET-5f3a9c1e7b2d4086"


class Echo401(http.server.BaseHTTPRequestHandler):
    def _reply(self) -> None:
        body = json.dumps(
            {
                "error": {
                    "message": f"Incorrect API key provided: {FAKE_KEY}",
                    "type": "invalid_request_error",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _reply
    do_POST = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo401)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_key_not_in_debug_logs_or_messages(
    server_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: openai, httpx, httpcore, ours
    llm = OpenAILLM(model="m", base_url=server_url, api_key=FAKE_KEY, retries=0, timeout=5)
    assert FAKE_KEY not in repr(llm)
    with pytest.raises(LLMAuthError) as info:
        "".join(llm.stream([{"role": "user", "content": "hi"}]))
    assert "OPENAI_API_KEY" in str(info.value)
    assert FAKE_KEY not in str(info.value)
    assert caplog.records, "debug logging should have captured the request"
    assert FAKE_KEY not in caplog.text
    settings = Settings.from_env({"OPENAI_API_KEY": FAKE_KEY, "RAG_STORE_DIR": "/tmp/x"})
    assert FAKE_KEY not in repr(settings)


def test_key_not_in_the_ui(
    server_url: str, rintro_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_STORE_DIR", str(rintro_settings.store.store_dir))
    monkeypatch.setenv("RAG_LLM_BASE_URL", server_url)
    monkeypatch.setenv("RAG_LLM_MODEL", "m")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("RAG_LLM_RETRIES", "0")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.chat_input[0].set_value("How are missing values represented in R?").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("OPENAI_API_KEY" in e for e in errors), errors
    everything = repr(at._tree)  # every element the page would show
    assert FAKE_KEY not in everything

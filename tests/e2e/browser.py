"""Browser-test plumbing shared by the e2e modules: the app started as a user starts it
(`streamlit run app.py` on a store), and the chat driven through its widgets."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
APP_LOGS: dict[str, Path] = {}  # each running app's URL -> its log, for failure reports


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_app(store_dir: Path, *, cwd: Path, **env: str) -> Iterator[str]:
    """The app on ``store_dir`` (no LLM configured unless ``env`` sets one); yields its URL."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test`, which installs it")
    port = free_port()
    full_env = {
        **os.environ,
        "RAG_STORE_DIR": str(store_dir),
        "RAG_DEVICE": "cpu",
        "HF_HUB_OFFLINE": "1",
    }
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RAG_LLM_BASE_URL", "RAG_LLM"):
        full_env.pop(name, None)
    full_env.update(env)
    log_path = cwd / f"streamlit-{port}.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=cwd,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    APP_LOGS[url] = log_path
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"streamlit did not start: {log_path.read_text()}")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


# Streamlit's root element names the script run's state ("running", "rerunRequested",
# "notRunning"); its running icon, which this used to read, shows only after 500 ms of a run
IDLE_FOR_MS = 500
_IDLE = """ms => {
  const app = document.querySelector("[data-testid='stApp']");
  const state = app && app.getAttribute("data-test-script-state");
  const now = performance.now();
  if (state !== "notRunning") { window.__ragIdleSince = null; return false; }
  if (window.__ragIdleSince == null) window.__ragIdleSince = now;
  return now - window.__ragIdleSince >= ms;
}"""


def wait_until_idle(page: object, *, timeout_s: float = 120) -> None:
    """Until the app's script run has ended and no other has started for half a second: input
    typed while a run is still drawing can be lost to the rerun that follows it."""
    page.evaluate("() => { window.__ragIdleSince = null; }")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        _IDLE, arg=IDLE_FOR_MS, timeout=timeout_s * 1000, polling=100
    )


def wait_for_text(page: object, text: str, *, timeout_s: float = 60) -> None:
    """Until ``text`` shows; if it never does, fail with what the page shows instead (its
    alerts and exceptions, the script's state) and the end of the app's log."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.get_by_text(text).first.wait_for(timeout=timeout_s * 1000)  # type: ignore[attr-defined]
    except PlaywrightTimeout:
        raise AssertionError(
            f"{text!r} did not show in {timeout_s:.0f} s\n" + page_report(page)
        ) from None


def page_report(page: object) -> str:
    alerts = page.locator("[data-testid='stAlert'], [data-testid='stException']")  # type: ignore[attr-defined]
    shown = [alerts.nth(i).inner_text() for i in range(alerts.count())]
    state = page.evaluate(  # type: ignore[attr-defined]
        "() => document.querySelector(\"[data-testid='stApp']\")"
        "?.getAttribute('data-test-script-state')"
    )
    url = str(page.url).split("?")[0].rstrip("/")  # type: ignore[attr-defined]
    log_path = APP_LOGS.get(url)
    log_tail = log_path.read_text(errors="replace")[-3000:] if log_path else "(no log)"
    return f"script state: {state}\nalerts: {shown}\napp log (end):\n{log_tail}"


def chat_messages(page: object) -> list[str]:
    messages = page.locator("[data-testid='stChatMessage']")  # type: ignore[attr-defined]
    return [messages.nth(i).inner_text() for i in range(messages.count())]


def answered(text: str) -> bool:
    """An assistant message that is complete: its sources (or closest passages) are shown."""
    return "▌" not in text and ("Sources (" in text or "Closest passages (" in text)


def wait_for_answers(page: object, count: int, *, timeout_s: float = 180) -> list[str]:
    """The chat's messages once it holds ``count`` of them and the last is answered."""
    deadline = time.monotonic() + timeout_s
    while True:
        texts = chat_messages(page)
        if len(texts) >= count and answered(texts[-1]):
            return texts
        assert time.monotonic() < deadline, texts
        page.wait_for_timeout(300)  # type: ignore[attr-defined]


def ask(page: object, question: str) -> None:
    box = page.get_by_placeholder("Ask a question about your documents")  # type: ignore[attr-defined]
    box.wait_for(timeout=120_000)
    before = len(chat_messages(page))
    box.fill(question)
    box.press("Enter")
    wait_for_answers(page, before + 2)
    # the run that drew the answer goes on (the conversation list, the URL): a click or text
    # given before it ends can be lost to the rerun it starts
    wait_until_idle(page)


def publish_screenshot(taken: Path, name: str) -> None:
    """Copy ``taken`` to docs/images/NAME, the README's picture, only when asked
    (RAG_UPDATE_SCREENSHOTS=1): a plain ``make test`` leaves the tracked tree unchanged."""
    if os.environ.get("RAG_UPDATE_SCREENSHOTS") != "1":
        return
    target = ROOT / "docs" / "images" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(taken, target)

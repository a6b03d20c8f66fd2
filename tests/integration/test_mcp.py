"""`python -m rag mcp` driven by a real MCP client session: the SDK's client launches it
and talks to it over stdio, lists the tools, and calls them; `search` gives the hits of
`rag search --json`, `ask` the answer `rag ask --json` gives."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from application.wire import answer_json
from cli import main as rag_main
from rag.answers.answer import Answerer
from rag.embedding.models import SentenceTransformerEmbedder
from tests.conftest import DATA, ROOT, make_settings, retriever_for, run_ingest

pytestmark = pytest.mark.integration

QUERY = "how are chunks measured"
QUESTION = "What is RAG_CHUNK_SIZE measured in?"
DOCS = ["about-this-app.md", "configuration.md", "how-it-works.md"]


async def session(params: StdioServerParameters, errlog: TextIO) -> dict[str, Any]:
    """One client session over stdio: the SDK's stdio client launches the server."""
    async with Client(stdio_client(params, errlog=errlog)) as client:
        tools = await client.list_tools()
        search = await client.call_tool("search", {"query": QUERY, "k": 3})
        ask = await client.call_tool("ask", {"question": QUESTION})
        bad = await client.call_tool("search", {"query": QUERY, "mode": "fuzzy"})
    return {"tools": tools.tools, "search": search, "ask": ask, "bad": bad}


def test_an_mcp_session_lists_the_tools_and_searches_as_rag_search(
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = tmp_path / "store"
    run_ingest(make_settings(store), embedder, [DATA / name for name in DOCS])
    env = {
        "RAG_STORE_DIR": str(store),
        "RAG_DEVICE": "cpu",
        "RAG_EMBED_BACKEND": "torch",
        "RAG_LLM": "none",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    log = tmp_path / "mcp.log"
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "rag", "mcp"], env=env, cwd=ROOT
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # the session runs beside the CLI commands: both load a model
    with log.open("w") as errlog, ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(anyio.run, session, params, errlog)  # stderr: its log
        assert rag_main(["search", QUERY, "-k", "3", "--json"]) == 0
        cli_hits = json.loads(capsys.readouterr().out)
        settings = make_settings(store, llm="none")
        answerer = Answerer(
            retriever=retriever_for(settings, embedder), llm=None, settings=settings.answers
        )
        want = answer_json(answerer.ask(QUESTION).answer)  # what `rag ask --json` says
        result = running.result(timeout=600)

    tools = {t.name: t for t in result["tools"]}
    assert set(tools) == {"search", "ask"}
    assert set(tools["search"].input_schema["properties"]) >= {"query", "k", "mode", "label"}
    search = result["search"]
    assert not search.is_error
    assert search.structured_content == {"hits": cli_hits} and len(cli_hits) == 3
    assert json.loads(search.content[0].text) == {"hits": cli_hits}
    ask = result["ask"].structured_content
    assert (ask["answer"], ask["citations"]) == (want["answer"], want["citations"])
    assert ask["citations"] and ask["mode"] == "extractive"
    bad = result["bad"]
    assert bad.is_error and "Retrieval mode 'fuzzy' is not known" in bad.content[0].text
    assert "Traceback" not in log.read_text()

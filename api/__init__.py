"""The index served to other programs: an HTTP API (``python -m rag serve``: OpenAI-compatible
chat completions and embeddings, search, documents) and an MCP server (``python -m rag mcp``).

An edge, like ``cli``: the only package that imports fastapi, uvicorn, starlette and
mcp, and (for uploads and deletions) ``ingest``. ``service`` does the work without HTTP;
``app`` builds and runs the HTTP app; ``guard`` checks every request; ``errors`` answers in
OpenAI's error format; ``openai_compat`` and ``rest`` are the routes; ``mcp`` the tools.
"""

"""The application layer: what the app, the API, the MCP server and the command line all do
for a request, over ``ingest`` and the core ``rag``, with no widgets, HTTP or argv.

``wire`` is the one JSON shape of answers and hits (``rag ask --json``, ``rag search
--json``, the API, the MCP tools).
"""

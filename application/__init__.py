"""The application layer: what the app, the API, the MCP server and the command line all do
for a request, over ``ingest`` and the core ``rag``, with no widgets, HTTP or argv.

- ``queries``: a request's retrieval and answer assembled in one place (collection's index,
  k, mode, label, LLM);
- ``models``: which model a collection is opened with (its contract's, when bundled);
- ``resources``: one embedding model (per model), store connection and LLM per process,
  shared;
- ``service``: ``Service``, the collections of one store over those two: search, ask,
  embed, documents, the one upload transaction (rolled back on any exception), delete;
- ``wire``: the one JSON shape of answers and hits.
"""

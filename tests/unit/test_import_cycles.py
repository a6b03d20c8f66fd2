"""No import cycles among the modules of `rag`, `ingest`, `ui`, `cli`, `api` and
`application`: every import counts, at module level, inside a function or under
`TYPE_CHECKING`. A cycle hides which module is the lower layer, and one import moved to the
top of a file turns it into an ImportError.

Break a cycle by moving what both sides need into a module of its own (as
`ingest.document`, `ingest.pdfium_lock` and `rag.embedding.types` were). Only where that is
not small may an import stay, listed in ALLOWED with the reason it is there."""

from collections.abc import Mapping

import grimp

PACKAGES = ("rag", "ingest", "ui", "cli", "api", "application")
# imports a cycle may go through, "importer -> imported": the reason in one line each
ALLOWED: Mapping[str, str] = {}


def import_graph() -> dict[str, set[str]]:
    """Each module of PACKAGES to the modules of PACKAGES it imports directly."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    ours = {m for m in graph.modules if m.split(".")[0] in PACKAGES}
    return {m: graph.find_modules_directly_imported_by(m) & ours for m in ours}


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """A cycle for each import that leads back into the chain of imports being followed
    (depth first): none when the graph has none. Each as its modules, the first repeated."""
    found: list[list[str]] = []
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> None:
        path.append(module)
        on_path.add(module)
        for imported in sorted(edges.get(module, ())):
            if imported in on_path:
                found.append([*path[path.index(imported) :], imported])
            elif imported not in done:
                visit(imported)
        on_path.discard(path.pop())
        done.add(module)

    for module in sorted(edges):
        if module not in done:
            visit(module)
    return found


def test_the_search_finds_a_cycle_and_only_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    assert cycles({"a": {"a"}}) == [["a", "a"]]


def test_no_import_cycles() -> None:
    edges = import_graph()
    assert {"rag.embedding.models", "ingest.loaders", "ui.chat"} <= edges.keys()
    for allowed in ALLOWED:
        importer, imported = allowed.split(" -> ")
        assert imported in edges.get(importer, set()), f"{allowed} is no longer an import"
        edges[importer] = edges[importer] - {imported}
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)

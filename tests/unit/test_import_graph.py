"""The import graph of ``src/sidelog``: no cycles, and the layers point one way.

Built with grimp (import-linter's engine) from the source, so every ``import``
statement counts: module-level ones and those deferred inside functions alike (a
deferred import still runs, and a cycle through it still couples the two modules).
The cycle check runs twice: on what runs, and with ``if TYPE_CHECKING:`` imports
too (the engine and the socket endpoints once named each other only there).
"""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import grimp
import pytest


@cache
def _graph(*, runtime_only: bool) -> grimp.ImportGraph:
    return grimp.build_graph("sidelog", exclude_type_checking_imports=runtime_only, cache_dir=None)


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Groups of modules that import each other, directly or not (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph.find_modules_directly_imported_by(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, pending = work[-1]
            if pending:
                target = pending.pop()
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, sorted(graph.find_modules_directly_imported_by(target))))
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def describe_cycle(graph: grimp.ImportGraph, group: list[str]) -> str:
    """One concrete cycle through ``group``, each step with the line that imports."""
    first = group[0]
    members = set(group)
    following = next(m for m in sorted(graph.find_modules_directly_imported_by(first)) if m in members)
    back = graph.find_shortest_chain(importer=following, imported=first) or (following, first)
    chain = [first, *back]
    steps = []
    for importer, imported in zip(chain, chain[1:], strict=False):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = f" (line {details[0]['line_number']}: {details[0]['line_contents']})" if details else ""
        steps.append(f"{importer} -> {imported}{where}")
    return "\n  ".join(steps)


@pytest.mark.parametrize("runtime_only", [True, False], ids=["runtime", "with-type-checking"])
def test_no_import_cycles(runtime_only: bool) -> None:
    graph = _graph(runtime_only=runtime_only)
    cycles = strongly_connected(graph)
    assert not cycles, "import cycles:\n  " + "\n\n  ".join(describe_cycle(graph, g) for g in cycles)


def test_the_cycle_finder_names_a_cycle() -> None:
    """The check above can fail: a two-module cycle is found and spelled out."""
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b", line_number=3, line_contents="import pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.a", line_number=9, line_contents="import pkg.a")
    graph.add_import(importer="pkg.c", imported="pkg.a", line_number=1, line_contents="import pkg.a")
    assert strongly_connected(graph) == [["pkg.a", "pkg.b"]]
    assert describe_cycle(graph, ["pkg.a", "pkg.b"]) == (
        "pkg.a -> pkg.b (line 3: import pkg.b)\n  pkg.b -> pkg.a (line 9: import pkg.a)"
    )


@pytest.mark.parametrize(
    "forbidden", ["sidelog.engine", "sidelog.server", "sidelog.commands", "sidelog.cli", "sidelog.tui"]
)
def test_ingest_never_imports_what_runs_it(forbidden: str) -> None:
    """Endpoints see the engine only through ``sidelog.ingest.sink`` (TYPE_CHECKING included)."""
    graph = _graph(runtime_only=False)
    chain = graph.find_shortest_chains(importer="sidelog.ingest", imported=forbidden, as_packages=True)
    assert not chain, f"sidelog.ingest reaches {forbidden}: {sorted(chain)}"


def test_the_ui_starts_through_the_server_never_a_cli_module() -> None:
    graph = _graph(runtime_only=False)
    for forbidden in ("sidelog.commands", "sidelog.cli"):
        chains = graph.find_shortest_chains(importer="sidelog.tui", imported=forbidden, as_packages=True)
        assert not chains, f"sidelog.tui reaches {forbidden}: {sorted(chains)}"
    assert graph.direct_import_exists(importer="sidelog.tui.app", imported="sidelog.server")


def test_importing_the_engine_loads_no_endpoint_code() -> None:
    """The engine is the core: loading it must not load ingest (the server binds it)."""
    probe = "import sys, sidelog.engine; print(sorted(m for m in sys.modules if 'ingest' in m))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("root", ["sidelog.server", "sidelog.engine", "sidelog.commands.serve"])
def test_running_headless_never_reaches_the_ui(root: str) -> None:
    """``sidelog serve`` starts through ``sidelog.server``; nothing on that path names the UI."""
    graph = _graph(runtime_only=False)
    chains = graph.find_shortest_chains(importer=root, imported="sidelog.tui", as_packages=True)
    assert not chains, f"{root} reaches sidelog.tui: {sorted(chains)}"

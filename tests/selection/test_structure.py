"""shared/selection's import graph: no cycle (imports inside functions and TYPE_CHECKING blocks
count), and the engine is model-agnostic (search.py imports no model pool and no adapter)."""
from __future__ import annotations

import ast
from pathlib import Path

import regapps.shared.selection as selection

PACKAGE = "regapps.shared.selection"
FOLDER = Path(selection.__file__).parent
MODULES = sorted(p.stem for p in FOLDER.glob("*.py") if p.stem != "__init__")


def _imports(name: str) -> set[str]:
    """Every module ``name`` imports, as dotted names under ``regapps`` (relative ones resolved)."""
    tree = ast.parse((FOLDER / f"{name}.py").read_text(encoding="utf-8"))
    here = PACKAGE.split(".")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            module = ".".join(base + (node.module.split(".") if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)  # from . import search
    return found


def _graph() -> dict[str, set[str]]:
    return {name: {m.removeprefix(PACKAGE + ".") for m in _imports(name) if m.startswith(PACKAGE + ".")}
            & set(MODULES) - {name} for name in MODULES}


def test_the_import_graph_sees_relative_absolute_and_local_imports() -> None:
    graph = _graph()
    assert {"protocols", "sequential", "trials"} <= graph["search"]
    assert "protocols" in graph["executors"] and "space" in graph["runner"]
    assert "regapps.shared.environment" in _imports("executors")  # imported inside run_trial
    assert "regapps.shared.model_pool" in _imports("adapters")


def test_no_import_cycle_in_selection() -> None:
    graph = _graph()
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            assert state.get(nxt) != "open", "import cycle: " + " -> ".join([*path, node, nxt])
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = "done"

    for module in MODULES:
        if module not in state:
            visit(module, [])


def test_search_and_executors_are_independent_and_the_engine_model_agnostic() -> None:
    graph = _graph()
    assert "executors" not in graph["search"] and "search" not in graph["executors"]
    imported = _imports("search")
    assert not any(m.endswith("model_pool") for m in imported), "search.py imports the model pool"
    assert not graph["search"] & {"adapters"}, "search.py imports a trial adapter"
    assert graph["protocols"] <= {"splitters"}  # the protocols depend on nothing of the engine

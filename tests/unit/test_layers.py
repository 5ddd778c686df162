"""The import contract: layers point one way, drift stays pure, no circles, short functions.

The layers, bottom up: ``core`` <- ``ingest`` <- ``models`` (and the pure ``drift``) <- ``flows``
<- ``app``. Every import of every module of the installed package is read from its source
(imports inside functions too), so a forbidden one fails here the day it is added.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import driftloop

ROOT = Path(driftloop.__file__).parent
REPO = ROOT.parent
ALLOWED = {
    "core": {"core"},
    "ingest": {"core", "ingest"},
    "drift": {"drift"},
    "models": {"core", "drift", "models"},
    "flows": {"core", "ingest", "drift", "models", "flows"},
    "app": {"core", "ingest", "drift", "models", "flows", "app"},
}
"""Which layers each layer may import (the package's own ``driftloop/__init__.py`` is core)."""
FORBIDDEN_LIBRARIES = {
    "core": {"prefect", "mlflow", "keras", "tensorflow"},
    "ingest": {"prefect", "keras", "tensorflow"},
    "drift": {"prefect", "mlflow", "keras", "tensorflow", "driftloop"},
    "models": {"prefect"},
}
"""Libraries a layer must not import (drift: nothing of driftloop but itself)."""
MAX_FUNCTION_LINES = 60


def modules() -> Iterator[tuple[str, Path]]:
    """Every module of the package: its dotted name and its file (through the stage links)."""
    found = [
        Path(folder) / name
        for folder, _, names in os.walk(ROOT, followlinks=True)
        for name in names
        if name.endswith(".py")
    ]
    for path in sorted(found):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(("driftloop", *parts)), path


def layer_of(module: str) -> str:
    """The layer a driftloop module belongs to (the package itself counts as core)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else "core"


def imports_of(module: str, path: Path) -> set[str]:
    """Every module name `path` imports, relative imports resolved, function-local ones too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that breaks the layer rules or names a forbidden library."""
    out = []
    for module, names in sorted(graph.items()):
        layer = layer_of(module)
        for name in sorted(names):
            top = name.split(".")[0]
            if top in ("drift", "models", "flows"):
                out.append(f"{module} imports {name!r}: use driftloop.{name} (one installed name)")
            elif top == "driftloop" and name != "driftloop":
                other = layer_of(name)
                if other not in ALLOWED[layer] and name in graph:
                    out.append(f"{module} ({layer}) imports {name} ({other})")
            if top in FORBIDDEN_LIBRARIES.get(layer, set()) and not (
                layer == "drift" and name.startswith("driftloop.drift")
            ):
                out.append(f"{module} ({layer}) imports the library {top}")
    return out


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles between the package's modules (each found once, as a path)."""
    edges = {m: {n for n in names if n in graph and n != m} for m, names in graph.items()}
    found, state = [], dict.fromkeys(edges, 0)

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state[nxt] == 1:
                found.append([*trail[trail.index(nxt) :], nxt])
            elif state[nxt] == 0:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(edges):
        if state[start] == 0:
            visit(start, [start])
    return found


def package_graph() -> dict[str, set[str]]:
    """Module name -> the names it imports, for every module of the package."""
    return {name: imports_of(name, path) for name, path in modules()}


def test_every_import_points_down_the_layers_and_drift_stays_pure() -> None:
    assert violations(package_graph()) == []


def test_the_contract_fails_for_a_forbidden_import() -> None:
    graph = package_graph()
    graph["driftloop.models.gate"] = {*graph["driftloop.models.gate"], "driftloop.flows.tasks"}
    graph["driftloop.drift.ks"] = {*graph["driftloop.drift.ks"], "mlflow"}
    graph["driftloop.core.errors"] = {"models.registry"}
    assert violations(graph) == [
        "driftloop.core.errors imports 'models.registry': use driftloop.models.registry "
        "(one installed name)",
        "driftloop.drift.ks (drift) imports the library mlflow",
        "driftloop.models.gate (models) imports driftloop.flows.tasks (flows)",
    ]


def test_no_module_imports_another_that_imports_it_back() -> None:
    # A package's __init__ only hands names on; the circles that matter run between modules.
    packages = {name for name, path in modules() if path.name == "__init__.py"}
    graph = {m: n - packages for m, n in package_graph().items() if m not in packages}
    assert circles(graph) == []
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


@pytest.mark.parametrize("stage", ["drift", "models", "flows"])
def test_no_function_of_a_stage_is_longer_than_sixty_lines(stage: str) -> None:
    long = [f for path in sorted((REPO / stage).glob("*.py")) for f in _long_functions(path)]
    assert long == []

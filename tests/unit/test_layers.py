"""The flow runs one way: no module imports a higher layer, not even inside a function.

scenario -> model -> run and results -> experiments -> analysis -> calibration -> training
-> fronts.
Imports made only for type checking (under ``if TYPE_CHECKING:``) do not run and are
not counted; every other import is, wherever it is written. Modules also form no
import cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "salessim"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("words", ("salessim.formatting", "salessim.stats", "salessim.progress", "salessim.rng",
               "salessim.executors")),
    ("scenario", ("salessim.scenario",)),
    ("model", ("salessim.model",)),
    ("run and results", ("salessim.kpis", "salessim.after_kpis", "salessim.pay", "salessim.results",
                         "salessim.store", "salessim.replications", "salessim.footprint",
                         "salessim.runner", "salessim.intervals")),
    ("experiments", ("salessim.compare", "salessim.sweep", "salessim.sandbox",
                     "salessim.warmup", "salessim.territory", "salessim.optimise")),
    ("analysis", ("salessim.bottlenecks", "salessim.timeseries")),
    ("calibration", ("salessim.calibration",)),
    ("training", ("salessim.training",)),
    ("fronts", ("salessim.plots", "salessim.optimise.plots", "salessim.report", "salessim.briefing",
                "salessim.eventlog", "salessim.files", "salessim.fitplots", "salessim.fitreport",
                "salessim.cli", "salessim.training.page", "salessim.training.games", "salessim")),
)
"""Layers from the bottom up, each a set of module prefixes (the longest prefix wins)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best, level = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), i
    assert level >= 0, f"{module} is in no layer: add it to LAYERS"
    return level


def _type_checking_block(node: ast.AST) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Name)
            and node.test.id == "TYPE_CHECKING")


def runtime_imports(path: Path) -> set[str]:
    """salessim modules a file imports when it runs (function-level imports included)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking_block(node):
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("salessim"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("salessim"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


GRAPH = {module_name(p): runtime_imports(p) for p in sorted(ROOT.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_module_imports_a_higher_layer(module: str) -> None:
    mine = layer_of(module)
    higher = sorted(d for d in GRAPH[module] if layer_of(d) > mine)
    assert not higher, (f"{module} ({LAYERS[mine][0]}) imports {', '.join(higher)} "
                        f"from a higher layer")


def test_there_is_no_import_cycle() -> None:
    modules = set(GRAPH)

    def targets(module: str) -> set[str]:
        return {d for d in GRAPH[module] if d in modules and d != module}

    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(targets(module)):
            if state.get(target) == 1:
                cycle = [*path[path.index(target):], target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module)


def test_the_layer_table_knows_every_module() -> None:
    for module in GRAPH:
        layer_of(module)

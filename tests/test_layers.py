"""The package's layers, and that its imports respect them (issue 14).

Imports run one way, down: a module imports modules of its own layer or of a layer below,
never above, and no import, at the top of a file or inside a function, closes a cycle.  An
import inside a function is still an import here: it may put a cost off (start-up) or reach an
optional dependency, never dodge a cycle.  Imports under ``if TYPE_CHECKING:`` are for type
checkers only and are not counted.  A new module must be given a layer below.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top.  A reader finds what a module may use by looking one row down.
LAYERS: list[tuple[str, set[str]]] = [
    ("core: the C extension and process-wide settings",
     {"_lineprof", "environment", "_typing", "_types", "_version"}),
    ("engine: the clock, source lines and how code maps to rows, what add_class/add_module take,"
     " greenlet switches",
     {"clock", "sources", "codemap", "scoping", "callables", "greenlets"}),
    ("results model and its file formats", {"lprof_format", "json_format", "stats"}),
    ("renderers: text, HTML, %lprun display, diffs",
     {"report", "html", "lprun_display", "diff", "diff_html"}),
    ("the API that ties engine, model and renderers: LineProfiler, LineStats as users get it",
     {"results", "profiler"}),
    ("front doors: sessions, @profile, the command, IPython, pytest, children, config",
     {"autoprofile", "session", "runner", "config_line_profiler", "config", "cli_options",
      "cli_parsers", "children", "decorator", "child_process", "cli", "ipython", "pytest_plugin",
      "cprofile_mode", "line_profiler_alias",
      "__init__", "__main__"}),
]  # fmt: skip

BENCHMARK_LAYERS: list[tuple[str, set[str]]] = [
    (
        "shared",
        {
            "envs",
            "tables",
            "workloads",
            "profilers",
            "quick_overhead",
            "startup",
            "memory_mode",
            "greenlet_switch",
        },
    ),
    ("measurements", {"accuracy", "memory"}),
    ("entry points", {"child", "run"}),
]


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and (
        (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
    )


def _imports(path: Path, package: str | None, modules: set[str]) -> set[str]:
    """The modules of the same package that ``path`` imports (``package`` None: the folder's
    own modules, imported by their bare names as benchmarks/ does)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.update(_own(alias.name, package, modules))
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                if package is not None and child.module == package:
                    found.update(a.name for a in child.names if a.name in modules)
                else:
                    found.update(_own(child.module, package, modules))
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(path.stem)
    return found


def _own(name: str, package: str | None, modules: set[str]) -> set[str]:
    parts = name.split(".")
    if package is None:
        return {parts[0]} if parts[0] in modules else set()
    if parts[0] == package and len(parts) > 1 and parts[1] in modules:
        return {parts[1]}
    return set()


def _graph(folder: Path, package: str | None) -> dict[str, set[str]]:
    modules = {p.stem for p in folder.glob("*.py")} | ({"_lineprof"} if package else set())
    return {p.stem: _imports(p, package, modules) for p in sorted(folder.glob("*.py"))}


def _layer_of(layers: list[tuple[str, set[str]]]) -> dict[str, int]:
    return {module: i for i, (_, members) in enumerate(layers) for module in members}


def _upward(graph: dict[str, set[str]], layers: list[tuple[str, set[str]]]) -> set[tuple[str, str]]:
    level = _layer_of(layers)
    return {(a, b) for a, deps in graph.items() for b in deps if level[b] > level[a]}


def _cycle(graph: dict[str, set[str]], ignored: set[tuple[str, str]]) -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph.get(module, ())):
            if (module, dep) in ignored:
                continue
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state and (found := visit(dep)) is not None:
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)) is not None:
            return found
    return None


def test_every_module_has_a_layer() -> None:
    modules = {p.stem for p in (ROOT / "lineprof").glob("*.py")} | {"_lineprof"}
    assert modules == set().union(*(members for _, members in LAYERS))
    benchmarks = {p.stem for p in (ROOT / "benchmarks").glob("*.py")}
    assert benchmarks == set().union(*(members for _, members in BENCHMARK_LAYERS))


def test_package_imports_run_down() -> None:
    assert _upward(_graph(ROOT / "lineprof", "lineprof"), LAYERS) == set()


def test_package_has_no_import_cycle() -> None:
    assert _cycle(_graph(ROOT / "lineprof", "lineprof"), set()) is None


def test_benchmark_imports_run_down_without_cycles() -> None:
    graph = _graph(ROOT / "benchmarks", None)
    assert _upward(graph, BENCHMARK_LAYERS) == set()
    assert _cycle(graph, set()) is None


def test_the_checks_can_fail() -> None:
    graph = {"stats": {"report"}, "report": {"stats"}}
    assert _upward(graph, LAYERS) == {("stats", "report")}
    assert _cycle(graph, set()) == ["report", "stats", "report"]
    assert _cycle(graph, {("stats", "report")}) is None

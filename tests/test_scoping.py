"""line_profiler 5's add_class/add_module scoping policies, add_callable, LineStats.to_file
and the LineProfiler arguments it accepts: lineprof registers what line_profiler registers,
and refuses what it refuses with the same exception."""

from __future__ import annotations

import importlib
import os
import pickle
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lineprof import LineProfiler, ScopingPolicy, load_stats
from tests.scripts._run import environment, run_python

Make = Callable[..., LineProfiler]

# A package whose modules hold their own functions and classes, each other's, and a
# submodule; every kind of thing a policy decides on.
PACKAGE = {
    "__init__.py": """\
        from scopepkg import sub
        from scopepkg.sub import helper as imported_helper


        def top():
            return 1


        class Top:
            def method(self):
                return 2

            class Nested:
                def deep(self):
                    return 3

            borrowed = imported_helper
            also_top = staticmethod(top)


        Alias = sub.SubClass
        """,
    "sub.py": """\
        from scopepkg import leaf


        def helper():
            return 4


        class SubClass:
            def sub_method(self):
                return 5

            leaf_function = staticmethod(leaf.leaf_function)
        """,
    "leaf.py": """\
        def leaf_function():
            return 6


        class LeafClass:
            def leaf_method(self):
                return 7
        """,
}

POLICIES: list[Any] = [
    None,
    "exact",
    "children",
    "descendants",
    "siblings",
    "none",
    "NONE",
    ScopingPolicy.CHILDREN,
    {"func": "none", "class": "exact", "module": "children"},
    {"func": "children", "class": "descendants", "module": "descendants"},
    {"func": "siblings", "class": "none", "module": "exact"},
]


@pytest.fixture
def package(tmp_path: Path) -> Iterator[Callable[[], types.ModuleType]]:
    """A function that imports the package afresh (new function objects each time)."""
    root = tmp_path / "scopepkg"
    root.mkdir()
    for name, text in PACKAGE.items():
        (root / name).write_text(textwrap.dedent(text))
    sys.path.insert(0, str(tmp_path))

    def fresh() -> types.ModuleType:
        for name in [n for n in sys.modules if n == "scopepkg" or n.startswith("scopepkg.")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        return importlib.import_module("scopepkg")

    try:
        yield fresh
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "scopepkg" or n.startswith("scopepkg.")]:
            del sys.modules[name]


def names(functions: list[Any]) -> set[str]:
    return {f"{f.__module__}:{f.__qualname__}" for f in functions}


def line_profiler_registers(
    fresh: Callable[[], types.ModuleType], where: Callable[[types.ModuleType], Any], **kw: Any
) -> set[str]:
    lp_module = pytest.importorskip("line_profiler")
    profiler = lp_module.LineProfiler()
    target = where(fresh())
    add = profiler.add_class if isinstance(target, type) else profiler.add_module
    add(target, **kw)
    return names(profiler.functions)


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
@pytest.mark.parametrize("where", ["module", "submodule", "class"])
def test_policies_register_what_line_profiler_registers(
    package: Callable[[], types.ModuleType], policy: Any, where: str
) -> None:
    pick: Callable[[types.ModuleType], Any] = {
        "module": lambda pkg: pkg,
        "submodule": lambda pkg: pkg.sub,
        "class": lambda pkg: pkg.Top,
    }[where]
    expected = line_profiler_registers(package, pick, scoping_policy=policy)
    lp = LineProfiler()
    target = pick(package())
    add = lp.add_class if isinstance(target, type) else lp.add_module
    added = add(target, scoping_policy=policy)
    assert names(lp.functions) == expected
    assert added == len(expected)
    assert add(target, scoping_policy=policy) == 0  # what is registered already: not again


def test_default_and_children_policies_in_full(package: Callable[[], types.ModuleType]) -> None:
    """The sets the comparison above relies on, spelled out (they hold without
    line_profiler installed)."""
    pkg = package()
    lp = LineProfiler()
    # the default: anything of the class's module, nested classes too; not `borrowed`
    # (scopepkg.sub's helper)
    assert lp.add_class(pkg.Top) == 3
    assert names(lp.functions) == {
        "scopepkg:Top.method",
        "scopepkg:Top.Nested.deep",
        "scopepkg:top",  # also_top: of the same module
    }
    lp = LineProfiler()
    lp.add_class(pkg.Top, scoping_policy="children")
    assert names(lp.functions) == {"scopepkg:Top.method", "scopepkg:Top.Nested.deep"}
    lp = LineProfiler()
    # the default: what comes from the package, no module entered; in a class, only what
    # comes from the class's module (not SubClass.leaf_function, scopepkg.leaf's)
    lp.add_module(pkg.sub)
    assert names(lp.functions) == {"scopepkg.sub:helper", "scopepkg.sub:SubClass.sub_method"}
    lp = LineProfiler()
    lp.add_module(pkg, scoping_policy="descendants")
    assert "scopepkg.leaf:LeafClass.leaf_method" in names(lp.functions)


BAD_POLICIES: list[Any] = [
    "bogus",
    42,
    {},
    {"func": "children", "class": "x", "module": "exact"},
    ["children"],
    {"func": "children", "class": "children"},
]


@pytest.mark.parametrize("policy", BAD_POLICIES, ids=repr)
def test_bad_policies_raise_what_line_profiler_raises(policy: Any) -> None:
    with pytest.raises(Exception) as ours:
        LineProfiler().add_module(os, scoping_policy=policy)
    assert type(ours.value) in (ValueError, TypeError, KeyError)
    assert LineProfiler().functions == []
    lp_module = pytest.importorskip("line_profiler")
    with pytest.raises(Exception) as theirs:
        lp_module.LineProfiler().add_module(os, scoping_policy=policy)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_policy_values() -> None:
    assert [p.value for p in ScopingPolicy] == [
        "exact",
        "children",
        "descendants",
        "siblings",
        "none",
    ]
    assert ScopingPolicy("Children") is ScopingPolicy.CHILDREN
    assert ScopingPolicy.NONE == "none" and str(ScopingPolicy.SIBLINGS) == "siblings"
    assert ScopingPolicy.to_policies(None) == {
        "func": ScopingPolicy.SIBLINGS,
        "class": ScopingPolicy.SIBLINGS,
        "module": ScopingPolicy.EXACT,
    }


def test_wrap_replaces_what_is_registered(package: Callable[[], types.ModuleType]) -> None:
    pkg = package()
    before = dict(vars(pkg))
    lp = LineProfiler()
    own = {"func": "children", "class": "children", "module": "exact"}
    assert lp.add_module(pkg, scoping_policy=own, wrap=True) == 3
    assert pkg.top is not before["top"] and pkg.top.__wrapped__ is before["top"]
    assert pkg.Top is before["Top"]  # a class stays itself, its members are replaced
    assert pkg.imported_helper is before["imported_helper"]  # not registered: left alone
    assert pkg.sub.helper is pkg.imported_helper
    # no enable(): each replaced member switches profiling on while it runs
    assert (pkg.top(), pkg.Top().method(), pkg.Top.Nested().deep(), pkg.sub.helper()) == (
        1,
        2,
        3,
        4,
    )
    hits = {key[2]: sum(h for _, h, _ in rows) for key, rows in lp.get_stats().timings.items()}
    assert hits == {"top": 1, "Top.method": 1, "Top.Nested.deep": 1}
    assert lp.enable_count == 0
    # wrap=False (the default) replaces nothing
    pkg = package()
    before = dict(vars(pkg.Top))
    LineProfiler().add_class(pkg.Top)
    assert dict(vars(pkg.Top)) == before


def test_add_callable_returns_what_line_profiler_returns() -> None:
    def plain() -> int:
        return 1

    class K:
        def m(self) -> int:
            return 2

        prop = property(lambda self: 3)

    class Empty:
        x = 1

    objects: list[Any] = [plain, plain, K, K.prop, K().m, os.path.join, len, [].append, Empty]
    lp = LineProfiler()
    ours = [lp.add_callable(obj) for obj in objects]
    assert ours == [1, 1, 1, 1, 1, 1, 0, 0, 0]
    assert names(lp.functions) >= {
        f"{__name__}:{plain.__qualname__}",
        f"{__name__}:{K.m.__qualname__}",
    }
    with pytest.raises(TypeError):
        lp.add_callable(42)
    lp_module = pytest.importorskip("line_profiler")
    theirs = lp_module.LineProfiler()
    assert [theirs.add_callable(obj) for obj in objects] == ours
    with pytest.raises(TypeError):
        theirs.add_callable(42)


def test_to_file_writes_the_lprof_pickle_whatever_the_name(tmp_path: Path) -> None:
    def work() -> int:
        total = 0
        for i in range(3):
            total += i
        return total

    lp = LineProfiler(work)
    lp.runcall(work)
    stats = lp.get_stats()
    path = tmp_path / "results.json"  # not .lprof: to_file writes the pickle all the same
    stats.to_file(path)
    assert path.read_bytes()[:1] == b"\x80"
    assert load_stats(path).timings == stats.timings
    assert type(stats).from_files(path, path).timings == {
        key: [(line, 2 * hits, 2 * time) for line, hits, time in rows]
        for key, rows in stats.timings.items()
    }
    pytest.importorskip("line_profiler")
    # line_profiler reads it: run in a child, so that unpickling there is line_profiler's own
    script = (
        "import pickle, sys\n"
        "with open(sys.argv[1], 'rb') as f:\n"
        "    s = pickle.load(f)\n"
        "print(type(s).__module__, sorted((k[2], v) for k, v in s.timings.items()))\n"
    )
    done = run_python("-c", script, str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = sorted((key[2], rows) for key, rows in stats.timings.items())
    module, _, timings = done.stdout.strip().partition(" ")
    assert module.startswith("line_profiler.") and timings == str(expected)
    with open(path, "rb") as stream:
        assert pickle.load(stream).unit == stats.unit


def test_wrap_trace_and_set_frame_local_trace_are_accepted() -> None:
    lp = LineProfiler(wrap_trace=True, set_frame_local_trace=True)
    assert lp.wrap_trace is True
    # as line_profiler: only the legacy trace hook has frame-local trace functions
    assert lp.set_frame_local_trace is (sys.version_info < (3, 12))
    lp = LineProfiler(wrap_trace=False, set_frame_local_trace=False)
    assert (lp.wrap_trace, lp.set_frame_local_trace) == (False, False)


@pytest.mark.parametrize(("value", "expected"), [("YES", True), ("on", True), ("0", False)])
def test_line_profiler_environment_switches(value: str, expected: bool, tmp_path: Path) -> None:
    script = (
        "from lineprof import LineProfiler\n"
        "lp = LineProfiler()\n"
        "print(lp.wrap_trace, LineProfiler(wrap_trace=not lp.wrap_trace).wrap_trace)\n"
    )
    env = environment(LINE_PROFILER_WRAP_TRACE=value)
    done = run_python("-c", script, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(expected), str(not expected)]

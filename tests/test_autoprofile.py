"""-p/--prof-mod and --prof-imports: the target rules and the import hook in process, the
command line in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import lineprof
from lineprof import LineProfiler, _lineprof
from lineprof.autoprofile import (
    AutoProfiler,
    TargetError,
    _function_codes,
    imported_names,
    split_targets,
)
from tests.scripts._run import copy_script, functions, hits, load, run_lineprof, stderr_lines

Make = Callable[..., LineProfiler]

# ---- target rules -------------------------------------------------------------------------


def test_split_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a,b.py").write_text("")
    assert split_targets(["x,y", "z", "x"]) == ["x", "y", "z"]
    assert split_targets(["a,b.py", "c"]) == ["a,b.py", "c"]  # an existing path keeps its comma
    assert split_targets(["x", "", "y"]) == ["y"]  # an empty value drops what came before
    assert split_targets(["x, y ,"]) == ["x", "y"]


def test_imported_names() -> None:
    source = textwrap.dedent(
        """\
        import os, json.decoder
        from collections import OrderedDict
        from . import sibling
        from pkg.sub import *
        def f():
            import csv
        """
    ).encode()
    assert imported_names(source) == ["pkg.sub"]  # the standard library's are left out
    third_party = b"import os, lineprof.stats\nfrom pytest import raises\nimport csv\n"
    assert imported_names(third_party) == ["lineprof.stats", "pytest.raises"]
    assert imported_names(b"def (:") == []


NESTED = """\
class Outer:
    class Inner:
        def method(self):
            return [x for x in range(2)]

    def outer_method(self):
        def helper():
            return lambda: 1
        return helper

def top():
    async def coro():
        pass
    return (y for y in range(2))

square = lambda v: v * v
"""


def test_function_codes_names_every_function_like_python() -> None:
    code = compile(NESTED, "<nested>", "exec")
    names = [qualname for _, qualname in _function_codes(code, "")]
    assert names == [
        "Outer.Inner.method",
        "Outer.outer_method",
        "Outer.outer_method.<locals>.helper",
        "Outer.outer_method.<locals>.helper.<locals>.<lambda>",
        "top",
        "top.<locals>.coro",
        "<lambda>",
    ]
    namespace: dict[str, object] = {}
    exec(code, namespace)
    outer: Any = namespace["Outer"]
    helper = outer.outer_method(None)
    assert [outer.outer_method.__qualname__, helper.__qualname__, helper().__qualname__] == [
        "Outer.outer_method",
        "Outer.outer_method.<locals>.helper",
        "Outer.outer_method.<locals>.helper.<locals>.<lambda>",
    ]


# ---- the import hook, in process ----------------------------------------------------------


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """tests/scripts/pkgdemo, importable, and forgotten afterwards."""
    copy_script("pkgdemo", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    meta_path = list(sys.meta_path)
    yield tmp_path / "pkgdemo"
    sys.meta_path[:] = meta_path
    for name in [n for n in sys.modules if n == "pkgdemo" or n.startswith("pkgdemo.")]:
        del sys.modules[name]


def imported(name: str) -> types.ModuleType:
    __import__(name)
    return sys.modules[name]


def test_hook_profiles_a_package(package: Path, make: Make, fake_clock: None) -> None:
    lp = make()
    auto = AutoProfiler(lp)
    auto.add_targets(["pkgdemo"])
    auto.install()
    try:
        mod = imported("pkgdemo.sub.mod")
        top = imported("pkgdemo").top
    finally:
        auto.uninstall()
    registered = functions(lp.get_stats())
    assert registered == {
        "top",
        "Counter.__init__",
        "Counter.add",
        "Counter.add.<locals>.double",
        "total",
        "<lambda>",
    }
    with lp:
        mod.total(3)
        top(1)
    stats = lp.get_stats()
    assert hits(stats, "Counter.add.<locals>.double") == {"return i * 2": 3}
    assert hits(stats, "Counter.add")["self.count += double(i)"] == 3
    assert hits(stats, "top") == {"return x + 1": 1}


def test_init_only_and_attribute_targets(package: Path, make: Make) -> None:
    lp = make()
    auto = AutoProfiler(lp)
    auto.add_targets(["pkgdemo.__init__", "pkgdemo.sub.mod.Counter.add"])
    auto.install()
    try:
        imported("pkgdemo.sub.mod")
        imported("pkgdemo.other")
    finally:
        auto.uninstall()
    assert functions(lp.get_stats()) == {"top", "Counter.add"}
    assert auto.warnings == []


def test_modules_imported_before_are_registered(package: Path, make: Make) -> None:
    imported("pkgdemo.sub.mod")
    lp = make()
    auto = AutoProfiler(lp)
    auto.add_targets([str(package / "sub")])  # a directory
    auto.install()
    auto.uninstall()
    assert functions(lp.get_stats()) == {
        "Counter.__init__",
        "Counter.add",
        "Counter.add.<locals>.double",
        "total",
        "<lambda>",
    }


def test_path_target_and_missing_attribute(package: Path, make: Make) -> None:
    lp = make()
    auto = AutoProfiler(lp)
    auto.add_targets([str(package / "other.py"), "pkgdemo.sub.mod.nothing"])
    auto.install()
    try:
        imported("pkgdemo.other")
        imported("pkgdemo.sub.mod")
    finally:
        auto.uninstall()
    assert functions(lp.get_stats()) == {"helper"}
    assert auto.warnings == [
        "-p pkgdemo.sub.mod.nothing: module 'pkgdemo.sub.mod' has no 'nothing'"
    ]


def test_bad_targets(package: Path, make: Make) -> None:
    auto = AutoProfiler(make())
    for target in [
        "no_such_module_xyz",
        "pkgdemo..x",
        "nodir/x.py",
        "os.__init__",
        "pkgdemo.__init__.x",
    ]:
        with pytest.raises(TargetError, match=r"^-p "):
            auto.add_targets([target])
    auto.add_targets(["no_such_module_xyz"], strict=False)  # --prof-imports skips these
    assert auto.empty


def test_lineprof_itself_is_never_profiled(make: Make) -> None:
    auto = AutoProfiler(make())
    auto.add_targets(["lineprof"])
    assert not auto.wants("lineprof.cli", None)
    assert not auto.wants("lineprof", None)
    assert _lineprof.active_backend() is None


# ---- the command line ---------------------------------------------------------------------


def test_seed_prof_mod_script(tmp_path: Path) -> None:
    """python -m lineprof -lv -p script.py script.py: the whole script, no decorators."""
    script = copy_script("usepkg.py", tmp_path)
    copy_script("pkgdemo", tmp_path)
    result = run_lineprof("-lv", "-p", "usepkg.py", "usepkg.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "value 25 9" in result.stdout
    assert "Function: <module> at line 1" in result.stdout
    assert "Function: local at line" in result.stdout
    stats = load(tmp_path / "usepkg.py.lprof")
    assert functions(stats) == {"<module>", "local"}  # the package was not asked for
    assert hits(stats, "<module>", str(script)) == {
        "import sys": 1,
        "import pkgdemo.sub.mod": 1,
        "from pkgdemo import top": 1,
        "def local(x):": 1,
        "value = pkgdemo.sub.mod.total(4) + top(2) + local(1)": 1,
        'print("value", value, pkgdemo.sub.mod.square(3), file=sys.stdout)': 1,
    }
    assert hits(stats, "local") == {"return x * 10": 1}


@pytest.mark.parametrize("preimports", ["--preimports", "--no-preimports"])
@pytest.mark.parametrize("target", ["pkgdemo", "pkgdemo/", "pkgdemo.sub,pkgdemo.__init__"])
def test_prof_mod_package(tmp_path: Path, target: str, preimports: str) -> None:
    copy_script("usepkg.py", tmp_path)
    copy_script("pkgdemo", tmp_path)
    result = run_lineprof("-l", "-q", preimports, "-p", target, "usepkg.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "main" not in result.stdout  # pkgdemo/__main__.py is a program: never pre-imported
    stats = load(tmp_path / "usepkg.py.lprof")
    expected = {
        "top",
        "Counter.__init__",
        "Counter.add",
        "Counter.add.<locals>.double",
        "total",
        "<lambda>",
    }
    if preimports == "--preimports" and target != "pkgdemo.sub,pkgdemo.__init__":
        # as kernprof 5.1: the whole package is imported first, pkgdemo.other included,
        # which the program never imports (its function never runs)
        expected.add("helper")
        assert hits(stats, "helper") == {}
    assert functions(stats) == expected
    assert hits(stats, "Counter.add.<locals>.double") == {"return i * 2": 4}
    assert hits(stats, "<lambda>") == {"return x * x": 1} or hits(stats, "<lambda>") == {
        "square = lambda x: x * x  # noqa: E731": 1
    }


def test_prof_mod_repeated_and_cleared(tmp_path: Path) -> None:
    copy_script("usepkg.py", tmp_path)
    copy_script("pkgdemo", tmp_path)
    args = ["-lq", "-p", "pkgdemo", "-p", "", "-p", "pkgdemo.sub.mod.total", "-p", "usepkg.py"]
    result = run_lineprof(*args, "usepkg.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert functions(load(tmp_path / "usepkg.py.lprof")) == {"total", "<module>", "local"}


def test_prof_imports(tmp_path: Path) -> None:
    copy_script("usepkg.py", tmp_path)
    copy_script("pkgdemo", tmp_path)
    result = run_lineprof("-l", "-q", "--prof-imports", "usepkg.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = functions(load(tmp_path / "usepkg.py.lprof"))
    # import pkgdemo.sub.mod: the module; from pkgdemo import top: the function
    assert {"Counter.add", "total", "top"} <= found
    assert "local" not in found  # the script itself needs -p
    assert result.stderr == ""


def test_unknown_target_is_one_warning_and_the_program_runs(tmp_path: Path) -> None:
    """As kernprof 5.1: a target that names nothing is said once, before the program runs."""
    copy_script("usepkg.py", tmp_path)
    copy_script("pkgdemo", tmp_path)
    result = run_lineprof("-l", "-q", "-p", "pkgdemo_missing", "usepkg.py", cwd=tmp_path)
    assert result.returncode == 0
    assert stderr_lines(result)[0] == (
        "lineprof: warning: -p pkgdemo_missing: no such file, directory or module"
    )
    assert stderr_lines(result)[1].startswith("lineprof: nothing was profiled")
    assert len(stderr_lines(result)) == 2
    assert "value" in result.stdout  # the program ran


def test_two_watching_finders_find_a_module_through_each_other(tmp_path: Path) -> None:
    """Each watching finder asks the others (autoprofile's and line_profiler_alias's both watch
    ``-p line_profiler``): the one asked back while it is looking the name up stands aside,
    instead of asking again for ever."""
    import importlib

    from lineprof.autoprofile import WatchingFinder

    asked: list[str] = []

    class Watch(WatchingFinder):
        def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
            if fullname != "watched_mod" or self.looking_up(fullname):
                return None
            asked.append(type(self).__name__)
            return self.find_elsewhere(fullname, path, target)

    (tmp_path / "watched_mod.py").write_text("VALUE = 7\n")
    first, second = Watch(), Watch()
    sys.path.insert(0, str(tmp_path))
    sys.meta_path[:0] = [first, second]
    try:
        module = importlib.import_module("watched_mod")
    finally:
        sys.meta_path.remove(first)
        sys.meta_path.remove(second)
        sys.path.remove(str(tmp_path))
        sys.modules.pop("watched_mod", None)
    assert module.VALUE == 7
    assert asked == ["Watch", "Watch"]  # each asked once, the second through the first


def test_a_directory_target_holding_the_standard_library(tmp_path: Path) -> None:
    """`-p .` run from a home directory that holds the interpreter: the modules lineprof
    itself imports while it registers a target (weakref) load as usual, not as targets
    registering themselves half-imported."""
    stdlib = str(Path(textwrap.__file__).parent)
    code = "import colorsys; print(colorsys.rgb_to_hls(1.0, 0.0, 0.0))"
    result = run_lineprof("-l", "-q", "-o", "out.lprof", "-p", stdlib, "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(0.0, 0.5, 1.0)"
    assert "rgb_to_hls" in functions(load(tmp_path / "out.lprof"))


def test_a_target_failing_at_import_shows_the_traceback_python_shows(tmp_path: Path) -> None:
    """The import hook's frames, and the import machinery's that lead to them, are left out,
    as CPython leaves its own out without the hook."""
    (tmp_path / "failing.py").write_text("raise RuntimeError('at import')\n")
    (tmp_path / "imports_it.py").write_text("import failing\n")
    result = run_lineprof(
        "-l", "-q", "--no-preimports", "-p", "failing", "imports_it.py", cwd=tmp_path
    )
    assert result.returncode == 1
    files = [line.split('"')[1] for line in result.stderr.splitlines() if "  File " in line]
    assert [Path(name).name for name in files] == ["imports_it.py", "failing.py"], result.stderr


def test_a_target_that_lineprofs_own_imports_need(tmp_path: Path) -> None:
    """-p collections: registering a generator function imports dis, which needs collections
    (3.12+); lineprof imports what registering needs before any target can be imported, so
    collections is never registered half-imported."""
    (tmp_path / "counts.py").write_text("import collections\nprint(collections.Counter('aab'))\n")
    # -S, lineprof found through PYTHONPATH: an editable install's import hook would have
    # imported collections before the program starts (tests/test_startup_imports.py)
    result = subprocess.run(
        [sys.executable, "-S", "-m", "lineprof", "-l", "-q", "-o", "out.json", "-p",
         "collections", "counts.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(lineprof.__file__).parent.parent)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Counter({'a': 2, 'b': 1})"
    assert stderr_lines(result) == []
    assert "Counter.update" in functions(load(tmp_path / "out.json"))


def test_a_package_holding_a_c_extension_or_a_module_with_no_code(tmp_path: Path) -> None:
    """A module whose loader has no code (a C extension, six's lazy ``moves`` modules) runs
    as its loader runs it: -p on such a package raised ImportError into the program
    (SQLAlchemy's Cython modules, pip's vendored six), or made it fall back to pure Python
    (markupsafe's speedups)."""
    import _json  # a C extension of the standard library (lib-dynload), copied into a package

    if not getattr(_json, "__file__", None):
        pytest.skip("_json is built into this interpreter")
    package = tmp_path / "fastpkg"
    package.mkdir()
    (package / Path(_json.__file__).name).write_bytes(Path(_json.__file__).read_bytes())
    (package / "__init__.py").write_text(
        "from . import _json as fast\n\ndef quote(text):\n    return fast.encode_basestring(text)\n"
    )
    code = "import fastpkg; print(fastpkg.quote('a'), fastpkg.fast.__name__)"
    for preimports in ("--preimports", "--no-preimports"):
        result = run_lineprof("-l", "-q", preimports, "-p", "fastpkg", "-c", code, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout == '"a" fastpkg._json\n'
        assert stderr_lines(result) == []

"""What importing lineprof and starting a session import: start-up is part of what a profiled
program pays (issue 13, target 3), so the standard library modules lineprof keeps off its path
stay off it.  Each check runs a fresh interpreter (this one has them all loaded already)."""

from __future__ import annotations

import ast
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import lineprof
from lineprof._typing import NamedTuple

# The probes run with -S, lineprof found through PYTHONPATH: an editable install's import hook
# (which `pip install -e` puts in site-packages) loads re, enum, functools and collections into
# every process before the program starts, and a probe would never see lineprof import them.
LINEPROF_HOME = str(Path(lineprof.__file__).resolve().parent.parent)
PROBE_ENV = {**os.environ, "PYTHONPATH": LINEPROF_HOME}


def _python(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-S", *args],
        capture_output=True, text=True, cwd=cwd, env={**PROBE_ENV, **env},
    )  # fmt: skip


# Kept off every start-up path: lineprof needs nothing of them until it writes JSON, follows
# threads of multiprocessing's children, or registers a generator.
NEVER_AT_START = ["typing", "json", "threading", "ast", "dis", "platform", "inspect", "shutil"]


def _imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter imports running ``code``."""
    probe = f"import sys\nbefore = set(sys.modules)\n{code}\n"
    probe += "new = sorted(set(sys.modules) - before)\nimport json\nprint(json.dumps(new))"
    run = _python("-c", probe)
    assert run.returncode == 0, run.stderr
    return set(json.loads(run.stdout.strip().splitlines()[-1]))


def test_importing_lineprof_imports_almost_nothing() -> None:
    new = _imported_after("import lineprof")
    assert not new & {*NEVER_AT_START, "collections", "signal", "pickle", "lineprof.profiler"}
    # what a program keeping `from lineprof import profile` loads while profiling is off
    assert {name for name in new if name.startswith("lineprof")} == {
        "lineprof", "lineprof._typing", "lineprof._version", "lineprof.environment",
        "lineprof.decorator",
    }  # fmt: skip
    assert "__future__" not in new  # its import statement imports it: lineprof/__init__.py


def test_a_profiling_session_starts_without_the_slow_modules() -> None:
    code = (
        "import lineprof.profiler\n"
        "def f():\n    return 1\n"
        "lp = lineprof.profiler.LineProfiler(f)\nlp.enable()\nf()\nlp.disable()\n"
        "lp.get_stats()\n"
    )
    new = _imported_after(code)
    assert "lineprof._lineprof" in new  # the probe did start a session
    kept_off = set(NEVER_AT_START)
    if sys.version_info < (3, 12):
        kept_off.discard("threading")  # the legacy hooks follow new threads through it
    assert not new & kept_off
    assert "lineprof.html" not in new  # made on use, by few programs


# What a program run with LINE_PROFILE=1 and one @profile function has imported by the time
# lineprof has written its results at exit, that a program importing nothing would not have:
# none of these (re and enum, pickle, tokenize, collections and functools: 1-3 ms each).
NEVER_UNDER_LINE_PROFILE = {
    *NEVER_AT_START,
    "re", "enum", "pickle", "tokenize", "shlex", "signal", "contextlib", "collections",
    "functools", "lineprof.scoping", "types", "warnings", "math", "struct", "importlib",
    "_ast",  # a def whose lines codemap reads needs no syntax tree
    "encodings.ascii",  # the kernel's clocksource is read as bytes
    "linecache",  # sources.py: on 3.10-3.12 it imports tokenize, re, enum
    "datetime",  # its classes come from _datetime (3.10/3.11: datetime.py ~2 ms)
    "_datetime",  # only to read a start time, which a .lprof and the text report do not
}  # fmt: skip

# The probes print with repr, not json: importing json first would hide re, enum, functools and
# collections, which it imports.
PROGRAM = """\
import atexit, sys
before = set(sys.modules)
atexit.register(lambda: print(repr(sorted(set(sys.modules) - before)), file=sys.stderr))
from lineprof import profile
@profile
def f(n):
    return sum(range(n))
f(10)
"""


def test_a_line_profile_program_imports_only_what_it_needs(tmp_path: Path) -> None:
    script = tmp_path / "prog.py"
    script.write_text(PROGRAM)
    run = _python(str(script), cwd=tmp_path, LINE_PROFILE="1")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "profile_output.lprof").exists()  # results were written
    new = set(ast.literal_eval(run.stderr.strip().splitlines()[-1]))
    assert "lineprof.session" in new
    kept_off = set(NEVER_UNDER_LINE_PROFILE)
    if sys.version_info < (3, 12):
        kept_off.discard("threading")  # the legacy hooks follow new threads through it
    assert not new & kept_off, sorted(new & kept_off)


FORKING = """\
import os, sys
from lineprof import profile
@profile
def f(n):
    return sum(range(n))
f(10)
print("before", "_datetime" in sys.modules, flush=True)
pid = os.fork()
if pid == 0:
    print("child", "_datetime" in sys.modules, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
def test_a_program_that_forks_imports_datetime_once_before(tmp_path: Path) -> None:
    """Forked children write their results with a start time (and the program merges them):
    datetime's classes come in once, before the fork, not in each child at its exit."""
    script = tmp_path / "prog.py"
    script.write_text(FORKING)
    run = _python(str(script), cwd=tmp_path, LINE_PROFILE="1")
    assert run.returncode == 0, run.stderr
    assert "before False" in run.stdout and "child True" in run.stdout, run.stdout


COMMAND = """\
import runpy, sys
before = set(sys.modules)
sys.argv = ["lineprof", "-l", "-q", "prog.py"]
try:
    runpy.run_module("lineprof", run_name="__main__")
except SystemExit:
    pass
print("MODULES", repr(sorted(set(sys.modules) - before)), file=sys.stderr)
"""


def test_the_command_imports_only_what_it_needs(tmp_path: Path) -> None:
    """`lineprof -l -q prog.py` to the end (results written): nothing on the keep-off lists
    comes in, argparse (and its re, enum, gettext) included."""
    (tmp_path / "prog.py").write_text("@profile\ndef f(n):\n    return sum(range(n))\nf(10)\n")
    (tmp_path / "command.py").write_text(COMMAND)
    run = _python("command.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "prog.py.lprof").exists()  # results were written
    line = next(ln for ln in run.stderr.splitlines() if ln.startswith("MODULES "))
    new = set(ast.literal_eval(line.removeprefix("MODULES ")))
    assert "lineprof.session" in new
    # -l and -q are read without argparse (cli_options.read_common), and no pyproject.toml
    # is there to read: no argparse, and nothing of what it brings.
    kept_off = {*NEVER_UNDER_LINE_PROFILE, "argparse", "gettext", "locale", "pickle", "shlex"}
    if sys.version_info < (3, 12):
        kept_off.discard("threading")  # the legacy hooks follow new threads through it
    assert not new & kept_off, sorted(new & kept_off)


def test_the_command_imports_no_typing() -> None:
    assert "typing" not in _imported_after("import lineprof.cli")


# ---- lineprof._typing.NamedTuple: typing.NamedTuple's class syntax -------------------------


class Point(NamedTuple):
    """A point."""

    x: int
    y: int = 3

    def total(self) -> int:
        return self.x + self.y

    @classmethod
    def origin(cls) -> Point:
        return cls(0, 0)


def test_named_tuple_fields_defaults_and_methods() -> None:
    p = Point(1)
    assert p == (1, 3) and isinstance(p, tuple)
    assert (p.x, p.y, p.total()) == (1, 3, 4)
    assert Point._fields == ("x", "y") and Point._field_defaults == {"y": 3}
    assert p._replace(y=5) == Point(1, 5)
    assert Point.origin() == Point(0, 0)
    assert repr(p) == "Point(x=1, y=3)"
    assert Point.__doc__ == "A point."
    assert Point.__module__ == __name__ and Point.__qualname__ == "Point"
    assert pickle.loads(pickle.dumps(p)) == p
    assert type(pickle.loads(pickle.dumps(p, protocol=2))) is Point
    assert p._asdict() == {"x": 1, "y": 3}
    assert Point._make([4, 5]) == Point(x=4, y=5) == Point(4, y=5)
    x, y = Point(6, 7)
    assert (x, y) == (6, 7) and Point(1, 2) < Point(1, 3) and hash(Point(1)) == hash((1, 3))
    match Point(8, 9):
        case Point(a, b):
            assert (a, b) == (8, 9)
    with pytest.raises(AttributeError):
        p.z = 1  # type: ignore[attr-defined]  # no __dict__, as with collections.namedtuple


@pytest.mark.parametrize(
    "make",
    [
        lambda: Point(),  # type: ignore[call-arg]
        lambda: Point(1, 2, 3),  # type: ignore[call-arg]
        lambda: Point(1, z=2),  # type: ignore[call-arg]
        lambda: Point(1, x=2),  # type: ignore[misc]
        lambda: Point._make([1]),
    ],
)
def test_named_tuple_refuses_wrong_arguments(make: Any) -> None:
    with pytest.raises(TypeError):
        make()


def test_named_tuple_replace_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError):
        Point(1)._replace(z=2)  # type: ignore[call-arg]


def test_named_tuple_refuses_what_typing_refuses() -> None:
    with pytest.raises(TypeError):

        class Bad(NamedTuple):
            x: int = 0
            y: int

    with pytest.raises(AttributeError):

        class Clash(NamedTuple):
            x: int

            def _replace(self) -> None:  # type: ignore[override]
                pass


def test_named_tuple_without_readable_fields_is_built_by_typing() -> None:
    # What an interpreter that keeps no __annotations__ in the class namespace would give.
    meta = type(NamedTuple)
    namespace = {"__module__": __name__, "__qualname__": "Q", "__annotate__": None}
    cls = meta("Q", (NamedTuple,), namespace)
    assert cls._fields == ()  # typing.NamedTuple made it: no fields were declared

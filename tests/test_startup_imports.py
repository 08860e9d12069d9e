"""What importing lineprof and starting a session import: start-up is part of what a profiled
program pays (issue 13, target 3), so the standard library modules lineprof keeps off its path
stay off it.  Each check runs a fresh interpreter (this one has them all loaded already)."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import pytest

from lineprof._typing import NamedTuple

# Kept off every start-up path: lineprof needs nothing of them until it writes JSON, follows
# threads of multiprocessing's children, or registers a generator.
NEVER_AT_START = ["typing", "json", "threading", "ast", "dis", "platform", "inspect", "shutil"]


def _imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter imports running ``code``."""
    probe = f"import sys\nbefore = set(sys.modules)\n{code}\n"
    probe += "new = sorted(set(sys.modules) - before)\nimport json\nprint(json.dumps(new))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(run.stdout.strip().splitlines()[-1]))


def test_importing_lineprof_imports_almost_nothing() -> None:
    new = _imported_after("import lineprof")
    assert not new & {*NEVER_AT_START, "collections", "signal", "pickle", "lineprof.profiler"}


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

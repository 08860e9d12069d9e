"""Shared fixtures: run behaviour tests on every backend this interpreter has, with a fake
clock that moves only when profiled code calls ``tick(ns)``."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lineprof import LineProfiler, _lineprof

BACKENDS = list(_lineprof.BACKENDS)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make(backend: str) -> Callable[..., LineProfiler]:
    """Build a LineProfiler on the test's backend."""

    def factory(*functions: Any) -> LineProfiler:
        return LineProfiler(*functions, backend=backend)

    return factory


@pytest.fixture
def fake_clock() -> Iterator[None]:
    _lineprof.set_fake_clock(True, 1_000_000)
    try:
        yield
    finally:
        _lineprof.set_fake_clock(False)


STEP = 1000  # ns the stepping fake clock moves after every read


def pair_reads(backend: str) -> int:
    """Clock reads the setprofile backend adds at each profiled call and return: there its
    trace function reads once for the profile function to take the gap between the two
    callbacks out (csrc/hook_settrace.c, pair_frame); each adds STEP raw and STEP taken out."""
    return 1 if backend == "setprofile" else 0


def start_gap() -> int:
    """1 where the gap from a profiled frame's start callback to its first line callback is
    taken out as lineprof's own (nothing of the program can run there), 0 where it stays in
    the calling line (csrc/compat.h, LP_HAVE_QUIET_START): each is STEP with the stepping
    clock."""
    return 1 if _lineprof.HAVE_QUIET_START else 0


@pytest.fixture
def stepping_clock() -> Iterator[None]:
    """A fake clock that moves STEP ns after every read: each callback that reads it twice
    measures STEP of itself (tests/test_own_cost.py, tests/test_raw_times.py)."""
    _lineprof.set_fake_clock(True, 1_000_000, STEP)
    try:
        yield
    finally:
        _lineprof.set_fake_clock(False)


@pytest.fixture
def foreign_tools() -> Iterator[list[int]]:
    """sys.monitoring tool ids a test claims as 'another tool' (3.12+); freed afterwards."""
    claimed: list[int] = []
    yield claimed
    for tool in claimed:
        sys.monitoring.set_events(tool, 0)
        sys.monitoring.free_tool_id(tool)


@pytest.fixture(autouse=True)
def idle_after_test() -> Iterator[None]:
    """Every test must leave no profiling session behind."""
    yield
    assert _lineprof.active_backend() is None, "a test left profiling on"


def marks(func: Callable[..., Any]) -> dict[str, int]:
    """Line numbers of the ``# @name`` markers in ``func``'s source."""
    lines, first = inspect.getsourcelines(func)
    found = {}
    for offset, text in enumerate(lines):
        if "# @" in text:
            found[text.split("# @", 1)[1].split()[0]] = first + offset
    return found


def by_mark(lp: LineProfiler, func: Callable[..., Any]) -> dict[str, tuple[int, int]]:
    """{marker: (hits, time)} for ``func``'s marked lines that were hit or timed; an unmarked
    line that was hit or timed shows as its line number."""
    code = inspect.unwrap(func).__code__
    stats = lp.get_stats()
    rows = next(
        lines
        for (filename, first, _), lines in stats.timings.items()
        if filename == code.co_filename and first == code.co_firstlineno
    )
    names = {line: name for name, line in marks(func).items()}
    return {names.get(line, str(line)): (hits, time) for line, hits, time in rows}


ROOT = Path(__file__).resolve().parent.parent


def run_code(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run Python source in a fresh interpreter that imports lineprof from this tree."""
    environment = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )

"""The program takes lineprof's hook away inside a profiled function (CPython 3.10/3.11, where a
thread has one profile and one trace function): cProfile run inside it, ``sys.setprofile(None)``,
``sys.settrace(None)``, another tool's trace function set there (a breakpoint, coverage).
Lines must end where they do, or, where nothing tells lineprof when they ended, read only what
it saw and say the results are incomplete: never the rest of the session, nor what the frame
ran unseen (before, the ``return`` after such a line read everything the program ran until the
stop).  Under ``sys.monitoring`` nothing is taken, and every backend reads the same where it can
see.  Exact times with the fake clock."""

from __future__ import annotations

import cProfile
import os
import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from lineprof import LineProfiler, _lineprof
from lineprof.decorator import GlobalProfiler
from lineprof.session import Session
from tests import targets
from tests.conftest import by_mark

pytestmark = pytest.mark.usefixtures("fake_clock", "no_hooks_left")

Make = Callable[..., LineProfiler]


@pytest.fixture
def no_hooks_left() -> Iterator[None]:
    """Each test takes this thread's hooks away: none is left for the next."""
    yield
    sys.setprofile(None)
    sys.settrace(None)


def drops_profile() -> int:
    targets.tick(2)  # @before
    sys.setprofile(None)  # @drop
    targets.tick(5)  # @after
    return 1  # @ret


def caller_of_drops_profile() -> int:
    x = drops_profile()  # @call
    targets.tick(10)  # @next
    return x  # @cret


def test_profile_function_removed_in_a_profiled_line(make: Make) -> None:
    """setprofile: lineprof's trace function, on in the profiled frame, takes its calls and
    returns over."""
    lp = make(drops_profile, caller_of_drops_profile)
    with lp:
        caller_of_drops_profile()
        targets.tick(1000)  # after the profiled code: nobody's
    assert by_mark(lp, drops_profile) == {
        "before": (1, 2),
        "drop": (1, 0),
        "after": (1, 5),
        "ret": (1, 0),
    }
    assert by_mark(lp, caller_of_drops_profile) == {"call": (1, 7), "next": (1, 10), "cret": (1, 0)}


def runs_cprofile() -> None:
    targets.tick(2)  # @before
    profiler = cProfile.Profile()  # @make
    profiler.enable()  # @enable
    targets.tick(5)  # @inside
    profiler.disable()  # @disable
    targets.tick(3)  # @after


def test_cprofile_enabled_and_disabled_in_profiled_lines(make: Make) -> None:
    lp = make(runs_cprofile)
    with lp:
        runs_cprofile()
        targets.tick(1000)
    assert by_mark(lp, runs_cprofile) == {
        "before": (1, 2),
        "make": (1, 0),
        "enable": (1, 0),
        "inside": (1, 5),
        "disable": (1, 0),
        "after": (1, 3),
    }


def cprofile_run_inside() -> None:
    targets.tick(2)  # @before
    cProfile.runctx("targets.tick(5)", {"targets": targets}, {}, os.devnull)  # @run
    targets.tick(3)  # @after


def caller_of_cprofile_run() -> None:
    cprofile_run_inside()  # @call
    targets.tick(10)  # @next


def test_cprofile_run_from_a_profiled_line(make: Make, backend: str) -> None:
    """setprofile: cProfile's enable() and disable() run in its own (unprofiled) functions,
    where lineprof's trace function is off, so the thread is left with no hook of lineprof's:
    nothing tells when the lines in progress ended.  They keep only what lineprof saw, and the
    results say they are incomplete."""
    lp = make(cprofile_run_inside, caller_of_cprofile_run)
    if backend == "setprofile":
        with pytest.warns(RuntimeWarning, match="results are incomplete"), lp:
            caller_of_cprofile_run()
            targets.tick(1000)
        assert by_mark(lp, cprofile_run_inside) == {"before": (1, 2), "run": (1, 0)}
        assert by_mark(lp, caller_of_cprofile_run) == {"call": (1, 0)}
        return
    with lp:
        caller_of_cprofile_run()
        targets.tick(1000)
    # cProfile's own callbacks between the clock reads are the program's: the fake clock has
    # no cost, so the lines read exactly what they ticked.
    assert by_mark(lp, cprofile_run_inside) == {"before": (1, 2), "run": (1, 5), "after": (1, 3)}
    assert by_mark(lp, caller_of_cprofile_run) == {"call": (1, 10), "next": (1, 10)}


def drops_trace() -> None:
    targets.tick(2)  # @before
    sys.settrace(None)  # @drop
    targets.tick(5)  # @after


def caller_of_drops_trace() -> None:
    drops_trace()  # @call
    targets.tick(10)  # @next


@pytest.mark.skipif("settrace" not in _lineprof.BACKENDS, reason="needs the settrace backend")
def test_trace_function_removed_under_settrace() -> None:
    """The settrace backend's one hook gone: the lines in progress then keep what was seen."""
    lp = LineProfiler(drops_trace, caller_of_drops_trace, backend="settrace")
    with pytest.warns(RuntimeWarning, match="results are incomplete"), lp:
        caller_of_drops_trace()
        targets.tick(1000)
    assert by_mark(lp, drops_trace) == {"before": (1, 2), "drop": (1, 0)}
    assert by_mark(lp, caller_of_drops_trace) == {"call": (1, 0)}


@pytest.mark.skipif("setprofile" not in _lineprof.BACKENDS, reason="CPython 3.10/3.11's @profile")
def test_cprofile_run_inside_a_function_under_profile() -> None:
    """@profile's wrapper hooks the thread only during the call (tests/test_entry.py): the
    frames of a call that lost the hook go when it returns, not at the stop, which may come
    while the hook is in again (here, in a later profiled call)."""
    lp = LineProfiler(backend="setprofile")
    decorator = GlobalProfiler()
    decorator._use_session(Session(lp, lambda stats: None))
    with pytest.warns(RuntimeWarning, match="results are incomplete"):
        lp.enable()

        @decorator
        def entered() -> None:
            targets.tick(2)  # @before
            cProfile.runctx("targets.tick(5)", {"targets": targets}, {}, os.devnull)  # @run
            targets.tick(3)  # @after

        @decorator
        def stops() -> None:
            targets.tick(7)  # @work
            lp.disable()  # @stop

        assert isinstance(entered, _lineprof.EntryWrapper)
        assert isinstance(stops, _lineprof.EntryWrapper)
        entered()
        targets.tick(100)
        stops()
    assert by_mark(lp, entered) == {"before": (1, 2), "run": (1, 0)}
    assert by_mark(lp, stops) == {"work": (1, 7), "stop": (1, 0)}


def another_tools_tracer(frame: object, event: str, arg: object) -> None:
    return None


def installs_a_tracer() -> None:
    """Unprofiled, as pdb.set_trace() (breakpoint()) or coverage's start() would be."""
    sys.settrace(another_tools_tracer)


def removes_the_tracer() -> None:
    """Unprofiled, as pdb's continue or coverage's stop() would be."""
    sys.settrace(None)


def traced_meanwhile() -> None:
    targets.tick(2)  # @before
    installs_a_tracer()  # @install
    targets.tick(5)  # @unseen
    removes_the_tracer()  # @off
    targets.tick(3)  # @back
    targets.tick(7)  # @after


@pytest.mark.skipif("setprofile" not in _lineprof.BACKENDS, reason="CPython 3.10/3.11's default")
def test_another_tools_trace_function_set_inside_a_profiled_function() -> None:
    """setprofile: the frame's lines stop reaching lineprof when another tool's trace function
    takes the thread (a breakpoint, coverage started there).  The line that was running ends
    there, and what the frame runs until lineprof's trace function is back (at the next Python
    call or return once the tool's is gone) goes to no line, where it all went to that line
    before (here, @install read the 5 of @unseen)."""
    lp = LineProfiler(traced_meanwhile, backend="setprofile")
    with pytest.warns(RuntimeWarning, match="results are incomplete"), lp:
        traced_meanwhile()
        targets.tick(1000)
    assert by_mark(lp, traced_meanwhile) == {
        "before": (1, 2),
        "install": (1, 0),
        "back": (1, 3),
        "after": (1, 7),
    }


def returns_with_a_tracer() -> None:
    targets.tick(2)  # @work
    installs_a_tracer()  # @install


def caller_of_returns_with_a_tracer() -> None:
    returns_with_a_tracer()  # @call
    targets.tick(5)  # @unseen
    removes_the_tracer()  # @off
    targets.tick(3)  # @back
    targets.tick(7)  # @after


@pytest.mark.skipif("setprofile" not in _lineprof.BACKENDS, reason="CPython 3.10/3.11's default")
def test_another_tools_trace_function_in_place_when_returning_into_a_profiled_frame() -> None:
    lp = LineProfiler(returns_with_a_tracer, caller_of_returns_with_a_tracer, backend="setprofile")
    with pytest.warns(RuntimeWarning, match="results are incomplete"), lp:
        caller_of_returns_with_a_tracer()
        targets.tick(1000)
    assert by_mark(lp, returns_with_a_tracer) == {"work": (1, 2), "install": (1, 0)}
    assert by_mark(lp, caller_of_returns_with_a_tracer) == {
        "call": (1, 2),
        "back": (1, 3),
        "after": (1, 7),
    }


# ---- the hook taken outside profiled code ------------------------------------------------------


def ticks() -> None:
    targets.tick(3)  # @tick


LEGACY_BACKENDS = [b for b in ("setprofile", "settrace") if b in _lineprof.BACKENDS]


def take_and_clear(backend: str) -> None:
    """Outside profiled code, what cProfile's runcall does to the profile function, and a
    debugger run and stopped to the trace function: lineprof's hook in this thread is gone."""
    setter = sys.setprofile if backend == "setprofile" else sys.settrace
    setter(another_tools_tracer)
    setter(None)


@pytest.mark.parametrize("backend", LEGACY_BACKENDS)
@pytest.mark.parametrize("where", ["this thread", "a thread that ends", "threading's hook"])
def test_a_hook_taken_outside_profiled_code_is_said(backend: str, where: str) -> None:
    """The calls made after it are not recorded; the results say they are incomplete (they
    said nothing: only a hook another tool still held at the stop was counted)."""
    lp = LineProfiler(ticks, backend=backend)
    with pytest.warns(RuntimeWarning, match="results are incomplete"), lp:
        ticks()
        if where == "this thread":
            take_and_clear(backend)
            ticks()
        elif where == "a thread that ends":

            def worker() -> None:
                ticks()
                take_and_clear(backend)
                ticks()

            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
        else:
            setter = threading.setprofile if backend == "setprofile" else threading.settrace
            setter(another_tools_tracer)
            try:
                thread = threading.Thread(target=ticks)
                thread.start()
                thread.join()
            finally:
                setter(None)  # type: ignore[arg-type]
    recorded = 2 if where == "a thread that ends" else 1
    assert by_mark(lp, ticks) == {"tick": (recorded, 3 * recorded)}

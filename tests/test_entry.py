"""Hooking on entry (CPython 3.10/3.11, setprofile backend): ``@profile`` on a plain ``def``
returns an EntryWrapper (csrc/entry.c), and while every profiled function is entered through
one, a thread has the profile function only inside such a call, so the rest of the program
runs at full speed.  Anything that can be entered another way puts the hook in every thread.
"""

from __future__ import annotations

import inspect
import pickle
import sys
import threading
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lineprof import LineProfiler, _lineprof
from lineprof.decorator import GlobalProfiler
from lineprof.session import Session
from tests.conftest import STEP, by_mark, start_gap

pytestmark = pytest.mark.skipif(
    "setprofile" not in _lineprof.BACKENDS, reason="the setprofile backend is CPython 3.10/3.11's"
)


@pytest.fixture
def lp() -> Iterator[LineProfiler]:
    profiler = LineProfiler(backend="setprofile")
    profiler.enable()
    try:
        yield profiler
    finally:
        profiler.disable()


@pytest.fixture
def profile(lp: LineProfiler) -> GlobalProfiler:
    """``@profile`` as LINE_PROFILE=1 has it, registering into ``lp``."""
    decorator = GlobalProfiler()
    decorator._use_session(Session(lp, lambda stats: None))
    return decorator


def hook() -> object:
    return sys.getprofile()


def test_the_hook_is_in_only_while_a_profiled_function_runs(
    lp: LineProfiler, profile: GlobalProfiler
) -> None:
    seen: list[object] = []

    @profile
    def work(n: int) -> int:
        seen.append(hook())  # @inside
        return n + 1  # @ret

    assert isinstance(work, _lineprof.EntryWrapper)
    assert hook() is None  # recording, but nothing profiled runs
    assert work(1) == 2 and work(2) == 3
    assert hook() is None
    assert seen == [_lineprof, _lineprof]
    assert by_mark(lp, work.__wrapped__).keys() == {"inside", "ret"}
    assert {mark: hits for mark, (hits, _) in by_mark(lp, work.__wrapped__).items()} == {
        "inside": 2,
        "ret": 2,
    }


def test_nested_calls_keep_the_hook_until_the_outermost_returns(
    lp: LineProfiler, profile: GlobalProfiler
) -> None:
    @profile
    def inner(n: int) -> int:
        return n + 1  # @in

    @profile
    def outer() -> int:
        seen = [hook()]  # @seen
        total = inner(1) + inner(2)  # @call
        seen.append(hook())  # @after
        return total  # @ret

    assert isinstance(inner, _lineprof.EntryWrapper) and isinstance(outer, _lineprof.EntryWrapper)
    assert outer() == 5
    assert hook() is None
    assert by_mark(lp, inner.__wrapped__)["in"][0] == 2
    assert {mark: h for mark, (h, _) in by_mark(lp, outer.__wrapped__).items()} == {
        "seen": 1,
        "call": 1,
        "after": 1,
        "ret": 1,
    }


def test_a_function_that_may_recurse_is_returned_itself(
    lp: LineProfiler, profile: GlobalProfiler
) -> None:
    """Each call through the wrapper is a C call: deep recursion through it would exhaust the C
    stack (3.11 crashed at 20,000 levels where the function alone ran 200,000)."""

    @profile
    def fib(n: int) -> int:
        if n < 2:  # @test
            return n  # @base
        return fib(n - 1) + fib(n - 2)  # @rec

    assert not isinstance(fib, _lineprof.EntryWrapper)
    assert hook() is _lineprof  # every thread has the hook from now on
    assert fib(6) == 8
    hits = {mark: h for mark, (h, _) in by_mark(lp, fib).items()}
    assert hits == {"test": 25, "base": 13, "rec": 12}


def test_a_high_recursion_limit_keeps_functions_unwrapped(
    lp: LineProfiler, profile: GlobalProfiler
) -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)
    try:

        @profile
        def work() -> int:
            return 1

    finally:
        sys.setrecursionlimit(limit)
    assert not isinstance(work, _lineprof.EntryWrapper)
    assert hook() is _lineprof


def test_deep_recursion_runs_as_without_lineprof(tmp_path: Any) -> None:
    """A program that recurses 100,000 deep (recursion limit raised) runs to the end under
    LINE_PROFILE=1, as it does alone."""
    script = tmp_path / "deep.py"
    script.write_text(
        "import sys\n"
        "sys.setrecursionlimit(10**6)\n"
        "from lineprof import profile\n"
        "@profile\n"
        "def down(n):\n"
        "    return 0 if n == 0 else 1 + down(n - 1)\n"
        "print(down(100_000))\n"
    )
    import os
    import subprocess

    def run(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, **env},
        )

    if run().returncode != 0:
        pytest.skip("this interpreter cannot recurse 100,000 deep on its own (3.10)")
    profiled = run(LINE_PROFILE="1")
    assert profiled.returncode == 0, profiled.stderr[-2000:]
    assert profiled.stdout.splitlines()[0] == "100000"


def test_an_exception_passes_unchanged_and_the_hook_goes(
    lp: LineProfiler, profile: GlobalProfiler
) -> None:
    @profile
    def fails() -> None:
        raise KeyError("x")  # @raise

    with pytest.raises(KeyError) as info:
        fails()
    assert hook() is None
    assert by_mark(lp, fails.__wrapped__)["raise"][0] == 1
    # No frame of lineprof's between the test and the function: the wrapper is C.
    names = [entry.name for entry in traceback.extract_tb(info.value.__traceback__)]
    assert names == ["test_an_exception_passes_unchanged_and_the_hook_goes", "fails"]


def test_a_thread_is_hooked_only_inside(lp: LineProfiler, profile: GlobalProfiler) -> None:
    @profile
    def work() -> object:
        return hook()  # @w

    seen: dict[str, object] = {}

    def thread_main() -> None:
        seen["before"] = hook()
        seen["inside"] = work()
        seen["after"] = hook()

    thread = threading.Thread(target=thread_main)
    thread.start()
    thread.join()
    assert seen == {"before": None, "inside": _lineprof, "after": None}
    assert by_mark(lp, work.__wrapped__)["w"][0] == 1


def test_the_wrapper_is_the_function_to_the_program(profile: GlobalProfiler) -> None:
    @profile
    def work(a: int, b: int = 2, *, c: int = 3) -> int:
        """Doc."""
        return a + b + c

    function = work.__wrapped__
    assert work.__name__ == "work" and work.__qualname__ == function.__qualname__
    assert work.__doc__ == "Doc." and work.__module__ == __name__
    assert work.__code__ is function.__code__ and work.__defaults__ == (2,)
    assert inspect.signature(work) == inspect.signature(function)
    assert inspect.unwrap(work) is function
    assert repr(work) == repr(function)
    work.tag = "x"  # type: ignore[attr-defined]
    assert function.tag == "x" and work.__dict__ is function.__dict__  # type: ignore[attr-defined]
    del work.tag  # type: ignore[attr-defined]
    assert not hasattr(function, "tag")
    assert weakref.ref(work)() is work
    assert work(1, c=0) == 3


class Box:
    def __init__(self, value: int) -> None:
        self.value = value


def test_methods_bind_as_functions_do(lp: LineProfiler, profile: GlobalProfiler) -> None:
    class Counter(Box):
        @profile
        def add(self, n: int) -> int:
            return self.value + n  # @add

        @staticmethod
        @profile
        def double(n: int) -> int:
            return 2 * n  # @double

        @classmethod
        @profile
        def name(cls) -> str:
            return cls.__name__  # @name

    counter = Counter(1)
    bound = counter.add
    assert bound(2) == 3 and counter.add(3) == 4 and Counter.add(counter, 4) == 5
    assert bound.__self__ is counter
    assert Counter.double(2) == 4 and counter.name() == "Counter"
    assert by_mark(lp, Counter.__dict__["add"].__wrapped__)["add"][0] == 3
    assert hook() is None


def test_the_wrapper_pickles_by_name(tmp_path: Any, lp: LineProfiler) -> None:
    profile = GlobalProfiler()
    profile._use_session(Session(lp, lambda stats: None))
    module = type(sys)("lineprof_test_entry_pickled")
    module.__dict__["profile"] = profile
    exec("@profile\ndef work(n):\n    return n\n", module.__dict__)
    sys.modules[module.__name__] = module
    try:
        assert isinstance(module.work, _lineprof.EntryWrapper)
        assert pickle.loads(pickle.dumps(module.work)) is module.work
    finally:
        del sys.modules[module.__name__]


def registered(func: Callable[..., Any]) -> Callable[..., Any]:
    """A decorator that keeps the function (as Flask's @app.route does) and returns it."""
    REGISTRY.append(func)
    return func


REGISTRY: list[Callable[..., Any]] = []


def test_a_function_held_elsewhere_is_returned_itself_and_every_thread_is_hooked(
    lp: LineProfiler, profile: GlobalProfiler
) -> None:
    @profile
    @registered
    def handler() -> int:
        return 1  # @h

    try:
        assert handler is REGISTRY[-1]  # not wrapped: the registry calls it directly
        assert hook() is _lineprof  # every thread has the hook from now on
        assert REGISTRY[-1]() == 1
        assert by_mark(lp, handler)["h"][0] == 1
    finally:
        REGISTRY.clear()


def test_profile_of_a_defined_function_returns_it(
    lp: LineProfiler, profile: GlobalProfiler
) -> None:
    def work() -> int:
        return 1  # @w

    assert profile(work) is work  # the program may go on calling `work` itself
    assert hook() is _lineprof
    work()
    assert by_mark(lp, work)["w"][0] == 1


def test_a_generator_function_is_returned_itself(lp: LineProfiler, profile: GlobalProfiler) -> None:
    @profile
    def gen() -> Iterator[int]:
        yield 1  # @y

    assert inspect.isgeneratorfunction(gen)  # its frames outlive a call: no wrapper
    assert hook() is _lineprof
    assert list(gen()) == [1]


def test_add_function_later_hooks_every_thread(lp: LineProfiler, profile: GlobalProfiler) -> None:
    @profile
    def wrapped() -> int:
        return 1

    def direct() -> int:
        return 2  # @d

    assert hook() is None
    lp.add_function(direct)
    assert hook() is _lineprof
    assert wrapped() == 1 and hook() is _lineprof  # leaving the wrapper keeps it in now
    direct()
    assert by_mark(lp, direct)["d"][0] == 1


def test_after_the_session_the_wrapper_just_calls(
    profile: GlobalProfiler, lp: LineProfiler
) -> None:
    @profile
    def work() -> int:
        return 7

    lp.disable()
    assert work() == 7 and hook() is None
    lp.enable()
    assert work() == 7 and hook() is None


def callee() -> int:
    a = 1  # @c1
    return a  # @c2


def caller(target: Callable[[], int]) -> None:
    target()  # @call


def switches_profiling(lp: LineProfiler) -> None:
    _lineprof.advance_fake_clock(1)  # @before
    lp.disable()  # @disable
    _lineprof.advance_fake_clock(2)  # @off
    lp.enable()  # @enable
    _lineprof.advance_fake_clock(4)  # @after
    _lineprof.advance_fake_clock(8)  # @last


@pytest.mark.usefixtures("fake_clock")
def test_profiling_switched_off_and_on_inside_a_wrapped_function(lp: LineProfiler) -> None:
    """The session that starts inside the call hooks the thread there (it cannot count on
    the wrapper, entered in the session before): the function is recorded from its next line,
    and the thread keeps the hook to the session's end."""
    wrapper = lp._add_entered_through_wrapper(switches_profiling)
    wrapper(lp)
    assert hook() is _lineprof
    wrapper(lp)
    lp.disable()
    assert hook() is None
    lp.enable()
    assert by_mark(lp, switches_profiling) == {
        "before": (2, 2),
        "disable": (2, 0),
        "after": (2, 8),
        "last": (2, 16),
    }


@pytest.mark.usefixtures("stepping_clock")
def test_the_wrapper_adds_no_event_to_the_calling_line() -> None:
    """The calling line reads the same, to the ns of a clock that moves at every read,
    whether it calls the function or its wrapper: the wrapper reads no clock and sends no
    event (a Python wrapper would: its call and return pass through the profile hook)."""
    times = {}
    for how in ("direct", "wrapper"):
        lp = LineProfiler(backend="setprofile")
        lp.add_function(caller)
        wrapper = lp._add_entered_through_wrapper(callee)
        lp.runcall(caller, callee if how == "direct" else wrapper)
        times[how] = by_mark(lp, caller)["call"]
    assert times["direct"] == times["wrapper"] == (1, (5 - start_gap()) * STEP)


def test_another_tools_profile_function_comes_back_after_hooking_every_thread() -> None:
    """Leaving entry mode replaces this thread's profile function like a session hooking every
    thread from its start does, and puts it back when the session ends."""
    calls: list[str] = []

    def tool(frame: Any, event: str, arg: Any) -> None:
        calls.append(event)

    profiler = LineProfiler(backend="setprofile")
    profiler.enable()
    try:
        sys.setprofile(tool)  # another tool, started after lineprof (entry mode: no hook here)

        def direct() -> int:
            return 2

        profiler.add_function(direct)  # every thread hooked from now on: the tool is set aside
        assert hook() is _lineprof
    finally:
        profiler.disable()
    try:
        assert sys.getprofile() is tool
    finally:
        sys.setprofile(None)


def test_callees_bounded_by_the_clock_read_their_wall_time(
    lp: LineProfiler, profile: GlobalProfiler
) -> None:
    """Through entry wrappers, with the hook put in and taken out around each call, a line
    whose callee sleeps 20 ms or busy-waits 20 ms on the clock reads 18-26 ms (the profiled
    callee's own line too)."""
    import time

    def busy_wait(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            pass

    @profile
    def inner() -> None:
        time.sleep(0.02)  # @sleep

    @profile
    def outer() -> None:
        inner()  # @call
        busy_wait(0.02)  # @wait

    assert isinstance(outer, _lineprof.EntryWrapper) and isinstance(inner, _lineprof.EntryWrapper)
    outer()
    ms = {mark: ns / 1e6 for mark, (_, ns) in by_mark(lp, outer.__wrapped__).items()}
    ms["sleep"] = by_mark(lp, inner.__wrapped__)["sleep"][1] / 1e6
    assert all(18 <= value <= 26 for value in ms.values()), ms

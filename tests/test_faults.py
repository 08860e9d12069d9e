"""What the profiled program may throw at the profiler: it must not change the program's
behaviour, crash, or lose data, on every backend."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

from lineprof import LineProfiler, _lineprof
from tests import targets
from tests.conftest import by_mark, run_code

pytestmark = pytest.mark.usefixtures("fake_clock")

Make = Callable[..., LineProfiler]
tick = targets.tick


# ---- exceptions ---------------------------------------------------------------------------


def reraiser() -> None:
    try:  # @try
        targets.raiser()  # @call
    except ValueError as exc:  # @except
        tick(5)  # @handle
        raise KeyError("again") from exc  # @reraise


def test_raise_catch_and_reraise(make: Make) -> None:
    lp = make(reraiser, targets.raiser)
    for _ in range(3):
        with pytest.raises(KeyError, match="again"):
            lp.runcall(reraiser)
    assert by_mark(lp, reraiser) == {
        "try": (3, 0),
        "call": (3, 3),
        "except": (3, 0),
        "handle": (3, 15),
        "reraise": (3, 0),
    }


def recurse_forever(n: int) -> int:
    return recurse_forever(n + 1) + 1


def test_recursion_error_deep_in_profiled_frames(make: Make) -> None:
    lp = make(recurse_forever, targets.basic)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(2000)
    try:
        with lp:
            with pytest.raises(RecursionError):
                recurse_forever(0)
            targets.basic(1)  # the stack unwound cleanly: the next call is seen normally
    finally:
        sys.setrecursionlimit(limit)
    ((_, rows),) = [
        (key, rows) for key, rows in lp.get_stats().timings.items() if key[2] == "recurse_forever"
    ]
    assert rows[0][1] > 500  # one hit per frame that started
    assert by_mark(lp, targets.basic)["ret"][0] == 1


def test_sys_exit_from_a_profiled_function(make: Make) -> None:
    def leave() -> None:
        tick(1)
        sys.exit(3)

    lp = make(leave)
    with pytest.raises(SystemExit) as info:
        lp.runcall(leave)
    assert info.value.code == 3
    assert lp.backend is None
    ((_, rows),) = lp.get_stats().timings.items()
    assert [hits for _, hits, _ in rows] == [1, 1]


def test_keyboard_interrupt_in_the_middle_of_a_line(make: Make) -> None:
    def interrupted() -> None:
        tick(2)  # @before
        os.kill(os.getpid(), signal.SIGINT)  # @interrupt
        tick(100)  # @never

    lp = make(interrupted, targets.basic)
    # Python leaves SIGINT ignored when it starts ignored (a background job of a shell)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with lp:
            with pytest.raises(KeyboardInterrupt):
                interrupted()
            targets.basic(1)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert by_mark(lp, interrupted) == {"before": (1, 2), "interrupt": (1, 0)}
    assert by_mark(lp, targets.basic)["tick5"] == (1, 5)


# ---- generators ---------------------------------------------------------------------------


def test_abandoned_generators_and_throw_and_close(make: Make) -> None:
    lp = make(targets.gen, targets.basic)
    with lp:
        abandoned = targets.gen(5)
        next(abandoned)
        del abandoned  # never exhausted nor closed
        gc.collect()
        thrown = targets.gen(5)
        next(thrown)
        with pytest.raises(ZeroDivisionError):
            thrown.throw(ZeroDivisionError)
        closed = targets.gen(5)
        next(closed)
        closed.close()
        unstarted = targets.gen(5)
        with pytest.raises(KeyError):
            unstarted.throw(KeyError)
        targets.basic(1)
    assert by_mark(lp, targets.gen) == {"loop": (3, 0), "tick1": (3, 3), "yield": (3, 0)}
    assert by_mark(lp, targets.basic)["tick5"] == (1, 5)


# ---- threads ------------------------------------------------------------------------------


def test_many_threads_started_and_finished_while_profiling(make: Make) -> None:
    lp = make(targets.basic)
    with lp:
        for _ in range(5):
            threads = [threading.Thread(target=targets.basic, args=(2,)) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    hits = by_mark(lp, targets.basic)
    assert hits["tick5"][0] == 20 and hits["body"][0] == 40


def test_a_thread_setup_that_fails_is_reported_never_raised(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What each thread does for itself at its first event of a session (greenlet's tracing
    function, lineprof/greenlets.py) runs inside lineprof's hook: a failure there is reported
    as unraisable, and the thread's program and its lines go on as if nothing happened."""
    reported: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: reported.append(info.exc_value))
    setup_ran: list[int] = []

    def failing_setup() -> None:
        setup_ran.append(threading.get_ident())
        raise RuntimeError("setup failed")

    lp = make(targets.basic)
    with lp:
        results, ident = _basic_in_a_thread_with_setup(failing_setup)
    assert results == [targets.basic(2)]
    assert ident in setup_ran
    assert any(isinstance(exc, RuntimeError) for exc in reported)
    assert by_mark(lp, targets.basic)["body"][0] == 2


def test_a_thread_setup_that_frees_the_profiler(make: Make) -> None:
    """The thread's setup is Python code run from inside the thread's first event (a signal
    handler, another thread or a finalizer could run there too): it switches the profiler off
    and frees it.  The event is dropped, never recorded into the freed tables (the sanitizer
    build reports a use after free otherwise)."""
    holder = [make(targets.basic)]

    def setup() -> None:
        profiler = holder.pop()
        profiler.disable()
        del profiler
        gc.collect()

    holder[0].enable()
    results, _ = _basic_in_a_thread_with_setup(setup)
    assert results == [targets.basic(2)]
    assert holder == [] and _lineprof.active_backend() is None


def test_a_finalizer_registering_code_while_results_are_read() -> None:
    """get_stats() makes Python objects; a collection they start may run a finalizer that
    registers more code on the same profiler.  Reading must not walk a table that moved (the
    sanitizer build reports a heap overflow otherwise, on 3.10)."""
    lp = LineProfiler()

    def made(name: str) -> Callable[[int], int]:
        namespace: dict[str, Any] = {}
        exec(compile(f"def {name}(x):\n" + "    x += 1\n" * 10 + "    return x\n", name, "exec"),
             namespace)  # fmt: skip
        return namespace[name]  # type: ignore[no-any-return]

    for k in range(10):
        function = made(f"f{k}")
        lp.add_function(function)
        lp.runcall(function, 1)

    class Registers:
        def __init__(self) -> None:
            self.cycle = self

        def __del__(self) -> None:
            for n in range(20):
                lp.add_function(made(f"g{n}"))

    threshold = gc.get_threshold()
    gc.collect()
    gc.set_threshold(1)
    try:
        Registers()
        stats = lp.get_stats()
    finally:
        gc.set_threshold(*threshold)
    assert len(stats.timings) >= 10


@pytest.mark.skipif(
    bool(os.environ.get("LINEPROF_UNDER_VALGRIND")), reason="valgrind delivers signals late"
)
def test_a_decorated_function_called_from_a_signal_handler_too(make: Make) -> None:
    """The program and a signal handler, every 0.3 ms, call the same decorated function: the
    handler's call can come between any two bytecodes of the wrapper's enable() or disable().
    Nothing is raised into the program, and every session ends."""
    lp = make()
    wrapped = lp(targets.rec)
    handled: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda *_: handled.append(wrapped(1)))
    signal.setitimer(signal.ITIMER_REAL, 0.0003, 0.0003)
    try:
        results = [wrapped(2) for _ in range(30_000)]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)  # one sent before the timer stopped
        signal.signal(signal.SIGALRM, previous)
    assert results == [targets.rec(2)] * 30_000
    assert handled and set(handled) == {targets.rec(1)}
    assert lp.enable_count == 0 and _lineprof.active_backend() is None
    assert (sys.gettrace(), sys.getprofile()) == (None, None)


def _basic_in_a_thread_with_setup(setup: Callable[[], None]) -> tuple[list[int], int | None]:
    """targets.basic(2) in a new thread, with ``setup`` as each thread's setup meanwhile: what
    it returned, and the thread's ident."""
    results: list[int] = []
    _lineprof.set_thread_setup(setup)
    try:
        thread = threading.Thread(target=lambda: results.append(targets.basic(2)))
        thread.start()
        thread.join()
    finally:
        _lineprof.set_thread_setup(None)
    return results, thread.ident


def test_thread_setup_takes_a_callable_or_none() -> None:
    with pytest.raises(TypeError, match="callable or None"):
        _lineprof.set_thread_setup(42)  # type: ignore[arg-type]


def test_enable_and_disable_from_another_thread(make: Make) -> None:
    stop = threading.Event()
    counted = {"calls": 0}

    def worker() -> None:
        while not stop.is_set():
            targets_loop()
            counted["calls"] += 1

    lp = make(targets_loop)
    thread = threading.Thread(target=worker)
    thread.start()
    try:
        for _ in range(20):
            switcher = threading.Thread(target=lp.enable)
            switcher.start()
            switcher.join()
            wait_calls(counted, 2)
            switcher = threading.Thread(target=lp.disable)
            switcher.start()
            switcher.join()
            wait_calls(counted, 2)
    finally:
        stop.set()
        thread.join()
        lp.disable()
    ((_, rows),) = lp.get_stats().timings.items()
    assert rows, "the worker's calls while enabled were recorded"
    assert counted["calls"] > 40


def targets_loop() -> int:
    total = 0
    for i in range(50):
        total += i
    return total


def wait_calls(counted: dict[str, int], more: int) -> None:
    start = counted["calls"]
    while counted["calls"] < start + more:
        threading.Event().wait(0.0005)


def test_disable_from_inside_a_profiled_function(make: Make) -> None:
    lp = make()

    def stops_itself() -> int:
        a = 1
        lp.disable()
        return a + 1

    lp.add_function(stops_itself)
    lp.enable()
    assert stops_itself() == 2
    assert lp.backend is None
    ((_, rows),) = lp.get_stats().timings.items()
    assert [line - stops_itself.__code__.co_firstlineno for line, _, _ in rows] == [1, 2]


# ---- objects going away -------------------------------------------------------------------


def test_registered_functions_collected_while_profiling(make: Make) -> None:
    namespace: dict[str, Any] = {}
    exec("def doomed(x):\n    return x + 1\n", namespace)
    lp = make(namespace["doomed"])
    with lp:
        assert namespace["doomed"](1) == 2
        namespace.clear()
        gc.collect()
        targets_loop()
    ((_, rows),) = lp.get_stats().timings.items()
    assert rows[0][1] == 1


def test_profiler_collected_while_enabled_inside_profiled_code(make: Make) -> None:
    def body() -> int:
        holder["lp"] = None  # drops the last reference: the profiler goes away mid-frame
        gc.collect()
        x = 1
        return x + 1

    holder: dict[str, Any] = {"lp": make(body)}
    holder["lp"].enable()
    assert body() == 2
    assert _lineprof.active_backend() is None


# ---- fork ---------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_profiling(backend: str) -> None:
    result = run_code(
        f"""
        import os, sys
        from lineprof import LineProfiler
        def work(n):
            total = 0
            for i in range(n):
                total += i
            return total
        lp = LineProfiler(work, backend={backend!r})
        with lp:
            work(3)
            pid = os.fork()
            if pid == 0:
                work(5)
                lp.disable()
                rows = list(lp.get_stats().timings.values())[0]
                print("child", [h for _, h, _ in rows], flush=True)
                os._exit(0)
            work(3)
            _, status = os.waitpid(pid, 0)
        rows = list(lp.get_stats().timings.values())[0]
        print("parent", [h for _, h, _ in rows], os.waitstatus_to_exitcode(status))
        """
    )
    assert result.returncode == 0, result.stderr
    lines = sorted(result.stdout.splitlines())
    # The child inherits what was recorded before the fork and adds its own call; the parent
    # sees only its own two calls.
    assert lines == ["child [2, 10, 8, 2]", "parent [2, 8, 6, 2] 0"]


# ---- other tools --------------------------------------------------------------------------


def test_python_tracer_running_at_the_same_time(backend: str) -> None:
    # A pure-Python sys.settrace user (a debugger or coverage tool) active while profiling.
    result = run_code(
        f"""
        import sys, warnings
        from lineprof import LineProfiler
        seen = []
        def tracer(frame, event, arg):
            if frame.f_code.co_name == "work":
                seen.append(event)
            return tracer
        def work(n):
            total = 0
            for i in range(n):
                total += i
            return total
        lp = LineProfiler(work, backend={backend!r})
        sys.settrace(tracer)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lp:
                assert work(3) == 3
        during = len(seen)
        work(1)
        restored = len(seen) > during
        sys.settrace(None)
        hits = [h for _, h, _ in list(lp.get_stats().timings.values())[0]]
        print(repr((hits, during > 0, restored, [str(w.message)[:40] for w in caught])))
        """
    )
    assert result.returncode == 0, result.stderr
    hits, tracer_saw, restored, warned = eval(result.stdout)  # noqa: S307 - our own output
    assert restored, "the other tool's tracer is in place after profiling"
    if backend == "monitoring":
        # sys.monitoring and sys.settrace are independent: both see everything, no warning.
        assert (hits, tracer_saw, warned) == ([1, 4, 3, 1], True, [])
    elif backend == "setprofile":
        # The other tool keeps its trace function; lineprof says it cannot record lines.
        assert (hits, tracer_saw) == ([], True)
        assert warned == ["lineprof: this thread's trace function i"]
    else:
        # lineprof takes the thread's trace function while profiling, and says so.
        assert (hits, tracer_saw) == ([1, 4, 3, 1], False)
        assert warned == ["lineprof: replacing this thread's trace "]


def test_cprofile_running_at_the_same_time(backend: str) -> None:
    result = run_code(
        f"""
        import cProfile, warnings
        from lineprof import LineProfiler
        def work(n):
            total = 0
            for i in range(n):
                total += i
            return total
        def after():
            return 1
        prof = cProfile.Profile()
        prof.enable()
        lp = LineProfiler(work, backend={backend!r})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lp:
                work(3)
        after()
        prof.disable()
        hits = [h for _, h, _ in list(lp.get_stats().timings.values())[0]]
        seen = sorted(getattr(e.code, "co_name", "") for e in prof.getstats())
        print(repr((hits, "work" in seen, "after" in seen, [str(w.message)[:50] for w in caught])))
        """
    )
    assert result.returncode == 0, result.stderr
    hits, cprofile_saw_work, cprofile_saw_after, warned = eval(result.stdout)  # noqa: S307
    assert hits == [1, 4, 3, 1]
    assert cprofile_saw_after, "cProfile is back in place after profiling"
    if backend == "setprofile":
        # Both need the thread's one profile hook before 3.12: lineprof takes it while it
        # profiles, and says so.
        assert not cprofile_saw_work
        assert warned == ["lineprof: replacing this thread's profile function"]
    else:
        assert cprofile_saw_work and warned == []

"""Greenlets are timed as threads are (lineprof/greenlets.py): exact hits and times with the fake
clock, on every backend.  Without the switches followed, each of these reads wrong: a line of
the greenlet switched out goes on timing inside the other's lines, and lines read more than
the program ran."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from lineprof import LineProfiler, _lineprof
from tests import targets
from tests.conftest import by_mark, run_code
from tests.test_memory import SLACK, MiB, memory_by_mark

greenlet = pytest.importorskip("greenlet")

pytestmark = pytest.mark.usefixtures("fake_clock")

Make = Callable[..., LineProfiler]


def worker(main: greenlet.greenlet, n: int) -> None:
    for _ in range(n):  # @wfor
        targets.tick(2)  # @wtick
        main.switch()  # @wswitch


def driver() -> None:
    g = greenlet.greenlet(worker)  # @make
    g.switch(greenlet.getcurrent(), 3)  # @first
    while not g.dead:  # @while
        targets.tick(3)  # @dtick
        g.switch()  # @dswitch


def test_two_greenlets_switching_back_and_forth(make: Make) -> None:
    lp = make(worker, driver)
    with lp:
        driver()
    # A line that switches out waits until its greenlet runs on: the other one's work.
    assert by_mark(lp, worker) == {"wfor": (4, 0), "wtick": (3, 6), "wswitch": (3, 9)}
    assert by_mark(lp, driver) == {
        "make": (1, 0),
        "first": (1, 2),
        "while": (4, 0),
        "dtick": (3, 9),
        "dswitch": (3, 4),  # the last one: the worker ends at once
    }


WORKER = {"wfor": (4, 0), "wtick": (3, 6), "wswitch": (3, 9)}
DRIVER = {"make": (1, 0), "first": (1, 2), "while": (4, 0), "dtick": (3, 9), "dswitch": (3, 4)}


def test_greenlets_of_a_thread_started_while_profiling(make: Make) -> None:
    """greenlet's tracing function is per thread: a thread other than the one that started
    profiling puts lineprof's in itself at its first profiled event."""
    lp = make(worker, driver)
    with lp:
        thread = threading.Thread(target=driver)
        thread.start()
        thread.join()
    assert by_mark(lp, worker) == WORKER
    assert by_mark(lp, driver) == DRIVER


def test_greenlets_of_a_thread_running_before_profiling_began(make: Make) -> None:
    go = threading.Event()
    tracers: list[object] = []

    def later() -> None:
        go.wait()
        driver()
        tracers.append(greenlet.gettrace())

    thread = threading.Thread(target=later)
    thread.start()
    lp = make(worker, driver)
    with lp:
        go.set()
        thread.join()
    assert by_mark(lp, worker) == WORKER
    assert by_mark(lp, driver) == DRIVER
    assert tracers == [_lineprof.greenlet_switched]


def handler(main: greenlet.greenlet, k: int) -> None:
    targets.tick(k)  # @work
    if k == 1:  # @if
        main.switch()  # @wait1
    else:
        main.switch()  # @wait2
    targets.tick(10 * k)  # @after


def test_greenlets_in_the_same_function(make: Make) -> None:
    """gevent's many handlers of one function: each greenlet's frame has its own line (under
    sys.monitoring nothing but the switches tells two frames of one code apart)."""
    lp = make(handler)
    main = greenlet.getcurrent()
    with lp:
        handlers = [greenlet.greenlet(handler) for _ in range(2)]
        for k, g in enumerate(handlers, 1):
            g.switch(main, k)  # work: 1, 2 (clock at 1, 3 when each starts to wait)
        targets.tick(100)  # clock at 103
        for g in handlers:
            g.switch()  # each waited until here; after: 10, 20
    assert by_mark(lp, handler) == {
        "work": (2, 3),
        "if": (2, 0),
        "wait1": (1, 103 - 1),
        "wait2": (1, 113 - 3),
        "after": (2, 30),
    }


def waiter(main: greenlet.greenlet) -> None:
    targets.tick(1)  # @before
    main.switch()  # @out
    targets.tick(1000)  # @never


def test_a_greenlet_switched_out_when_profiling_stops(make: Make) -> None:
    """Its line in progress is charged up to the stop, as a thread's is."""
    lp = make(waiter)
    g = greenlet.greenlet(waiter)
    with lp:
        g.switch(greenlet.getcurrent())
        targets.tick(5)
    assert by_mark(lp, waiter) == {"before": (1, 1), "out": (1, 5)}
    del g  # killed outside the session: GreenletExit unwinds it, unrecorded
    assert by_mark(lp, waiter) == {"before": (1, 1), "out": (1, 5)}


def test_a_greenlet_killed_while_switched_out(make: Make) -> None:
    """GreenletExit thrown into it (gevent's kill, a greenlet collected while suspended): the
    line it waited in ends there, and its frames leave its stack."""
    lp = make(waiter)
    g = greenlet.greenlet(waiter)
    with lp:
        g.switch(greenlet.getcurrent())
        targets.tick(5)
        g.throw()
        assert g.dead
        targets.tick(7)  # the main greenlet's, not the waiter's
    assert by_mark(lp, waiter) == {"before": (1, 1), "out": (1, 5)}


def test_the_programs_greenlet_tracer_still_runs_and_comes_back(make: Make) -> None:
    seen: list[str] = []

    def tracer(event: str, args: object) -> None:
        seen.append(event)

    previous = greenlet.settrace(tracer)
    try:
        lp = make(worker, driver)
        with lp:
            assert greenlet.gettrace() is not tracer  # lineprof's in front of it
            driver()
        assert greenlet.gettrace() is tracer
        assert seen.count("switch") == 8  # 4 each way
        assert by_mark(lp, worker)["wswitch"] == (3, 9)
    finally:
        greenlet.settrace(previous)


def test_a_tool_that_chains_to_lineprofs_tracer(make: Make) -> None:
    """A tool that puts its greenlet tracer in front of lineprof's and calls it (gevent's
    monitor thread does) keeps lineprof's inside its chain after a session: the next session
    puts lineprof's in front again, and each switch then reaches lineprof twice.  The second
    report of the same switch changes nothing."""
    lp = make(worker, driver)
    with lp:
        pass
    with lp:
        inner = greenlet.gettrace()

        def tool(event: str, args: object) -> object:
            return inner(event, args)

        greenlet.settrace(tool)
    try:
        with lp:
            assert greenlet.gettrace() is not tool  # lineprof's again, in front of the tool
            driver()
    finally:
        greenlet.settrace(None)
    assert by_mark(lp, worker) == WORKER
    assert by_mark(lp, driver) == DRIVER


def test_no_tracer_left_behind(make: Make) -> None:
    lp = make(worker, driver)
    with lp:
        assert greenlet.gettrace() is _lineprof.greenlet_switched
        driver()
    assert greenlet.gettrace() is None


def test_greenlet_imported_after_profiling_began() -> None:
    """A script run by the command (or under LINE_PROFILE=1) imports gevent after the session
    started: functions registered from then on have their greenlets followed."""
    result = run_code(
        """
        import os, tempfile
        from lineprof import _lineprof, profile
        _lineprof.set_fake_clock(True, 0)
        tick = _lineprof.advance_fake_clock
        profile.enable(output_prefix=os.path.join(tempfile.mkdtemp(), "out"))

        @profile
        def first():
            pass

        first()  # the session runs, greenlet not imported yet
        import greenlet

        @profile
        def ping(main):
            for _ in range(2):
                tick(2)
                main.switch()

        @profile
        def pong():
            g = greenlet.greenlet(ping)
            g.switch(greenlet.getcurrent())
            while not g.dead:
                tick(3)
                g.switch()

        pong()
        stats = profile.profiler.get_stats()
        for name in ("ping", "pong"):
            rows = [r for (f, l, n), r in stats.timings.items() if n == name][0]
            print([(hits, t) for _, hits, t in rows])
        """,
    )
    assert result.returncode == 0, result.stderr
    # ping: its loop, tick, and switch waiting 3 each time while pong ticked; pong: making the
    # greenlet, the first switch waiting for ping's tick, the loop, tick, and the switches
    # (the last one returns at once: ping ends).
    assert result.stdout.splitlines()[:2] == [
        "[(3, 0), (2, 4), (2, 6)]",
        "[(1, 0), (1, 2), (3, 0), (2, 6), (2, 2)]",
    ]


def allocating_worker(main: greenlet.greenlet, kept: list[bytearray]) -> None:
    kept.append(bytearray(2**20))  # @alloc
    main.switch()  # @out


def allocating_driver(kept: list[bytearray]) -> None:
    g = greenlet.greenlet(allocating_worker)  # @make
    g.switch(greenlet.getcurrent(), kept)  # @first
    kept.append(bytearray(3 * 2**20))  # @alloc
    g.switch()  # @last


def test_memory_mode_follows_greenlets_too(backend: str) -> None:
    """Alloc is inclusive like time: the worker's allocation is its line's and, since the
    driver's switch line waited for it, that line's too; the driver's own is its own line's,
    and the worker's line switched out meanwhile is charged it (docs/limitations.md)."""
    kept: list[bytearray] = []
    lp = LineProfiler(allocating_worker, allocating_driver, backend=backend, memory=True)
    lp.runcall(allocating_driver, kept)
    worker = memory_by_mark(lp, allocating_worker)
    driver = memory_by_mark(lp, allocating_driver)
    assert MiB <= worker["alloc"][0] <= MiB + SLACK
    assert MiB <= driver["first"][0] <= MiB + SLACK
    assert 3 * MiB <= driver["alloc"][0] <= 3 * MiB + SLACK
    assert 3 * MiB <= worker["out"][0] <= 3 * MiB + SLACK

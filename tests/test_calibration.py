"""Taking lineprof's own cost out of the reported times: what the C core counts per line, and
the arithmetic get_stats applies.  Exact, with the fake clock and injected constants."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lineprof import LineProfiler, _lineprof, calibration
from tests import targets

tick = targets.tick


def callee() -> int:
    tick(5)
    return 1


def calls_profiled() -> None:
    callee()  # @call


def unprofiled_helper() -> int:
    return 2


def calls_unprofiled() -> None:
    unprofiled_helper()  # @call


def raw_row(lp: LineProfiler, func: Callable[..., Any], offset: int) -> tuple[int, ...]:
    line = func.__code__.co_firstlineno + offset
    for code, rows in lp._tracer.stats():
        if code is func.__code__:
            return next(tuple(row) for row in rows if row[0] == line)
    raise AssertionError("not registered")


@pytest.fixture
def injected(backend: str) -> Iterator[calibration.Overhead]:
    """Known costs for this backend under the fake clock, as if calibration had measured
    them (it never measures with the fake clock)."""
    overhead = calibration.Overhead(
        interval_ns=1.0, event_ns=2.0, hook_ns=3.0, frame_ns=5.0, frame_end_ns=11.0, c_hook_ns=7.0
    )
    calibration._measured[(backend, "fake")] = [overhead]
    try:
        yield overhead
    finally:
        del calibration._measured[(backend, "fake")]


@pytest.mark.usefixtures("fake_clock")
def test_events_inside_a_line_calling_a_profiled_function(backend: str) -> None:
    lp = LineProfiler(calls_profiled, callee, backend=backend, calibrate=False)
    for _ in range(3):
        lp.runcall(calls_profiled)
    line, hits, ns, intervals, events, hooks, frames, *_ = raw_row(lp, calls_profiled, 1)
    # Each call: the callee starts, runs its two lines and returns inside the calling line.
    assert (hits, ns, intervals) == (3, 15, 3)
    assert events == 3 * 4
    assert frames == 3 * 2  # the start and the return
    # setprofile: tick's C call and return, both C hooks.  The trace function's 'call' and
    # 'return' for the callee and the caller's own 'return' (CPython calls it before the profile
    # function) are part of those frames' starts and ends, not hooks.
    assert hooks == (3 * 2 if backend == "setprofile" else 0)
    c_hooks = raw_row(lp, calls_profiled, 1)[10]
    assert c_hooks == hooks
    # The calling line is the caller's last: each of its intervals ends with the frame.
    frame_ends = raw_row(lp, calls_profiled, 1)[9]
    assert frame_ends == 3


@pytest.mark.usefixtures("fake_clock")
def test_hooks_inside_a_line_calling_an_unprofiled_function(backend: str) -> None:
    lp = LineProfiler(calls_unprofiled, backend=backend, calibrate=False)
    for _ in range(2):
        lp.runcall(calls_unprofiled)
    line, hits, ns, intervals, events, hooks, frames, *_ = raw_row(lp, calls_unprofiled, 1)
    assert (hits, intervals, events, frames) == (2, 2, 0, 0)
    # sys.monitoring never sees unprofiled code; the legacy hooks see its call and return
    # (setprofile: the call through both functions, the return through the profile function).
    assert hooks == {"monitoring": 0, "settrace": 2 * 2, "setprofile": 2 * 3}[backend]
    assert raw_row(lp, calls_unprofiled, 1)[10] == 0  # no C function ran


def slow_callee() -> None:
    tick(100)


def calls_slow() -> None:
    slow_callee()  # @call


@pytest.mark.usefixtures("fake_clock")
def test_get_stats_takes_the_measured_cost_out(
    backend: str, injected: calibration.Overhead
) -> None:
    lp = LineProfiler(calls_slow, slow_callee, backend=backend)
    for _ in range(4):
        lp.runcall(calls_slow)
    row = raw_row(lp, calls_slow, 1)
    line, hits, ns, intervals, events, hooks, frames, _, _, frame_ends, c_hooks = row
    assert (ns, intervals, events, frames, frame_ends) == (400, 4, 4 * 3, 4 * 2, 4)
    # setprofile: tick's call and return; the other backends see no C function.
    assert hooks == c_hooks == (4 * 2 if backend == "setprofile" else 0)
    stats = lp.get_stats()
    key = next(k for k in stats.timings if k[2].endswith("calls_slow"))
    reported = {ln: t for ln, _, t in stats.timings[key]}
    # 400 ns measured, less 1 ns per interval, 2 per line event, 5 per frame event, 7 per C
    # hook and 11 per interval ended by the frame's end.
    assert reported[line] == 400 - 4 * 1 - 4 * 2 - 8 * 5 - c_hooks * 7 - 4 * 11
    assert stats.metadata.overhead == {
        "interval_ns": 1.0,
        "event_ns": 2.0,
        "hook_ns": 3.0,
        "frame_ns": 5.0,
        "back_start_ns": 0.0,
        "back_end_ns": 0.0,
        "big_line_ns": 0.0,
        "frame_end_ns": 11.0,
        "c_hook_ns": 7.0,
        "pace_ns": 0.0,
    }


def test_correction_arithmetic() -> None:
    overhead = calibration.Overhead(interval_ns=10.5, event_ns=20.0, hook_ns=1.0)
    assert overhead.correct(1000, intervals=4, events=10, hooks=6) == 1000 - 42 - 200 - 6
    assert overhead.correct(50, intervals=4, events=10, hooks=6) == 0  # never negative
    assert calibration.NONE.correct(1234, 9, 9, 9) == 1234
    both = calibration.Overhead(interval_ns=1.0, event_ns=2.0, hook_ns=0.0, frame_ns=7.0)
    # 10 events of which 4 frame events: 6 line events at 2 and 4 frame events at 7
    assert both.correct(1000, intervals=1, events=10, hooks=0, frame_events=4) == 1000 - 1 - 12 - 28
    kinds = calibration.Overhead(hook_ns=3.0, c_hook_ns=1.0, frame_end_ns=100.0)
    # 5 hooks of which 2 for C functions; 2 intervals ended with their frame
    assert kinds.correct(10**6, 0, 0, hooks=5, frame_ends=2, c_hooks=2) == 10**6 - 9 - 2 - 200


@pytest.mark.usefixtures("fake_clock")
def test_calibration_off_leaves_times_as_measured(
    backend: str, injected: calibration.Overhead
) -> None:
    lp = LineProfiler(calls_profiled, callee, backend=backend, calibrate=False)
    lp.runcall(calls_profiled)
    stats = lp.get_stats()
    assert stats.metadata.overhead is None
    line, hits, ns, *_ = raw_row(lp, calls_profiled, 1)
    key = next(k for k in stats.timings if k[2].endswith("calls_profiled"))
    assert dict((ln, t) for ln, _, t in stats.timings[key])[line] == ns


def test_nothing_is_measured_or_kept_with_the_fake_clock(backend: str) -> None:
    _lineprof.set_fake_clock(True)
    try:
        assert calibration.measure(backend) is None
        calibration.prepare([backend])
        assert calibration.cached(calibration.session_key(backend)) is None
    finally:
        _lineprof.set_fake_clock(False)


def test_real_costs_never_reach_fake_clock_sessions(backend: str, fake_clock: None) -> None:
    real = (backend, _lineprof.clock_name())
    calibration._measured[real] = [calibration.Overhead(1e6, 1e6, 1e6)]
    try:
        lp = LineProfiler(calls_slow, slow_callee, backend=backend)
        lp.runcall(calls_slow)
        key = next(k for k in lp.get_stats().timings if k[2].endswith("calls_slow"))
        assert [t for _, _, t in lp.get_stats().timings[key]] == [100]
    finally:
        del calibration._measured[real]


def test_measured_costs_are_plausible(backend: str) -> None:
    overhead = calibration.measure(backend)
    assert overhead is not None
    # Each cost is a few CPU instructions to a few microseconds, never negative.
    for value in vars(overhead).values():
        assert 0.0 <= value < 100_000.0
    assert overhead.event_ns > 0.0
    # sys.monitoring sees no C calls and no unprofiled code, and its frame end is not priced.
    if backend == "monitoring":
        assert (overhead.frame_end_ns, overhead.c_hook_ns, overhead.hook_ns) == (0.0, 0.0, 0.0)


def test_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEPROF_CALIBRATE", "0")
    assert LineProfiler()._calibrate is False
    monkeypatch.setenv("LINEPROF_CALIBRATE", "1")
    assert LineProfiler()._calibrate is True
    monkeypatch.delenv("LINEPROF_CALIBRATE")
    assert LineProfiler()._calibrate is True


def loop3() -> None:
    for _ in range(3):  # @head
        tick(2)  # @a
        tick(3)  # @b


@pytest.mark.usefixtures("fake_clock")
def test_lines_reached_by_going_back_are_counted_apart(backend: str) -> None:
    lp = LineProfiler(loop3, backend=backend, calibrate=False)
    lp.runcall(loop3)
    head, a, b = (raw_row(lp, loop3, k) for k in (1, 2, 3))
    # The head starts the first round going forward and each later check (3, the last one
    # ending the loop) going back from the last line, which ends its interval going back.
    assert head[1] == 4 and head[7:9] == (3, 0)
    assert a[1] == 3 and a[7:9] == (0, 0)
    assert b[1] == 3 and b[7:9] == (0, 3)
    assert (a[2], b[2]) == (3 * 2, 3 * 3)


@pytest.mark.usefixtures("fake_clock")
def test_going_back_is_priced_apart(backend: str) -> None:
    calibration._measured[(backend, "fake")] = [
        calibration.Overhead(back_start_ns=1.0, back_end_ns=2.0)
    ]
    try:
        lp = LineProfiler(loop3, backend=backend)
        lp.runcall(loop3)
        ((_, rows),) = lp.get_stats().timings.items()
        reported = {ln - loop3.__code__.co_firstlineno: t for ln, _, t in rows}
    finally:
        del calibration._measured[(backend, "fake")]
    assert reported[2] == 3 * 2
    assert reported[3] == 3 * 3 - 3 * 2.0


def two_lines() -> None:
    tick(2)  # @first
    tick(3)  # @last


def yields_twice() -> Iterator[int]:
    yield 1  # @y1
    tick(4)  # @t
    yield 2  # @y2


@pytest.mark.usefixtures("fake_clock")
def test_intervals_ended_by_the_frame_are_counted_apart(backend: str) -> None:
    lp = LineProfiler(two_lines, yields_twice, backend=backend, calibrate=False)
    for _ in range(3):
        lp.runcall(two_lines)
    first, last = (raw_row(lp, two_lines, k) for k in (1, 2))
    assert (first[1], first[9], last[1], last[9]) == (3, 0, 3, 3)
    assert lp.runcall(lambda: list(yields_twice())) == [1, 2]
    y1, t, y2 = (raw_row(lp, yields_twice, k) for k in (1, 2, 3))
    # Each yield ends its line's interval (the frame is suspended); the second one's line
    # resumes after it and ends with the return.
    assert (y1[9], t[9], y2[9]) == (1, 0, 2)


@pytest.mark.usefixtures("fake_clock")
def test_the_frames_end_is_priced_apart(backend: str) -> None:
    calibration._measured[(backend, "fake")] = [calibration.Overhead(frame_end_ns=1.0)]
    try:
        lp = LineProfiler(two_lines, backend=backend)
        for _ in range(3):
            lp.runcall(two_lines)
        ((_, rows),) = lp.get_stats().timings.items()
    finally:
        del calibration._measured[(backend, "fake")]
    assert [t for _, _, t in rows] == [3 * 2, 3 * 3 - 3 * 1]


def _far_and_near() -> tuple[Callable[[], None], Callable[[], None]]:
    """The same function numbered under and past the ints CPython keeps one object for."""
    source = "def f():\n    tick(10)\n    tick(10)\n"
    out = []
    for pad in (0, calibration.SMALL_INT_MAX):
        namespace: dict[str, Any] = {"tick": tick}
        exec(compile("\n" * pad + source, "<far>", "exec"), namespace)
        out.append(namespace["f"])
    return out[0], out[1]


@pytest.mark.usefixtures("fake_clock")
def test_lines_past_the_small_ints_are_priced_apart(backend: str) -> None:
    near, far = _far_and_near()
    assert far.__code__.co_firstlineno > calibration.SMALL_INT_MAX
    calibration._measured[(backend, "fake")] = [calibration.Overhead(big_line_ns=4.0)]
    try:
        totals = []
        for func in (near, far):
            lp = LineProfiler(func, backend=backend)
            lp.runcall(func)
            ((_, rows),) = lp.get_stats().timings.items()
            totals.append([t for _, _, t in rows])
    finally:
        del calibration._measured[(backend, "fake")]
    assert totals == [[10, 10], [10 - 4, 10 - 4]]


def test_correction_of_going_back_and_of_far_lines() -> None:
    overhead = calibration.Overhead(
        interval_ns=1.0, back_start_ns=10.0, back_end_ns=100.0, big_line_ns=1000.0
    )
    assert overhead.correct(10**6, 2, 0, 0, 0, 3, 4) == 10**6 - 2 - 30 - 400
    assert overhead.correct(10**6, 2, 0, 0, 0, 3, 4, line=256) == 10**6 - 2 - 30 - 400
    assert overhead.correct(10**6, 2, 0, 0, 0, 3, 4, line=257) == 10**6 - 2 - 30 - 400 - 2000


def test_the_measuring_functions_sit_under_the_small_ints() -> None:
    # Their line events must not pay for an int object: that extra is measured apart.
    for func in (calibration._loop1, calibration._loop4, calibration._calls, calibration._callee6):
        last = max(line for *_, line in func.__code__.co_lines() if line is not None)
        assert last <= calibration.SMALL_INT_MAX
    far = calibration._far_loop4()
    assert min(ln for *_, ln in far.__code__.co_lines() if ln) > calibration.SMALL_INT_MAX

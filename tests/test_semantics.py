"""What a line's hits and time mean, asserted exactly with the fake clock, on every backend."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from lineprof import LineProfiler, _lineprof
from tests import targets
from tests.conftest import by_mark, marks, run_code

pytestmark = pytest.mark.usefixtures("fake_clock")

Make = Callable[..., LineProfiler]


def test_hits_and_time_per_line(make: Make) -> None:
    lp = make(targets.basic)
    assert lp.runcall(targets.basic, 3) == 3
    assert by_mark(lp, targets.basic) == {
        "zero": (1, 0),
        "tick5": (1, 5),
        "loop": (4, 0),
        "body": (3, 6),
        "add": (3, 0),
        "ret": (1, 0),
    }


def test_recursion_charges_the_calling_line_the_whole_call(make: Make) -> None:
    lp = make(targets.rec)
    lp.runcall(targets.rec, 3)
    # rec(0) takes 1; rec(k) takes 1 + rec(k-1) + 10: 12, 23, 34.  The calling line of
    # frames 1..3 is charged rec(0) + rec(1) + rec(2) = 1 + 12 + 23.
    assert by_mark(lp, targets.rec) == {
        "tick1": (4, 4),
        "test": (4, 0),
        "call": (3, 36),
        "tick10": (3, 30),
    }


def resumes_inside_a_line() -> Iterator[None]:
    targets.tick((yield))  # @resume
    targets.tick(1)  # @next


def test_a_line_with_time_and_no_start_of_its_own_reads_one_hit(make: Make, tmp_path: Path) -> None:
    """The generator started before profiling and was suspended inside its 'resume' line:
    resumed, the line runs on (5) with no start of its own in the session.  It reads one hit,
    and line_profiler's viewer, which divides by the hits, shows the saved .lprof."""
    generator = resumes_inside_a_line()
    next(generator)
    lp = make(resumes_inside_a_line)
    with lp, contextlib.suppress(StopIteration):
        generator.send(5)
    assert by_mark(lp, resumes_inside_a_line) == {"resume": (1, 5), "next": (1, 1)}
    line_profiler = pytest.importorskip("line_profiler")
    path = str(tmp_path / "out.lprof")
    lp.dump_stats(path)
    saved = line_profiler.load_stats(path)
    shown = io.StringIO()
    line_profiler.show_text(saved.timings, saved.unit, stream=shown)
    assert "targets.tick((yield))" in shown.getvalue()


def test_generator_suspension_is_not_charged(make: Make) -> None:
    lp = make(targets.gen)
    with lp:
        g1, g2 = targets.gen(2), targets.gen(2)
        # Interleave two live instances, moving the clock while both are suspended.
        assert next(g1) == 0
        targets.tick(100)
        assert next(g2) == 0
        targets.tick(100)
        assert next(g1) == 1
        assert next(g2) == 1
        targets.tick(100)
        assert list(g1) == [] and list(g2) == []
    assert by_mark(lp, targets.gen) == {
        "loop": (6, 0),
        "tick1": (4, 4),
        "yield": (4, 0),
        "tick3": (4, 12),
    }


def test_work_after_resuming_is_charged_to_the_resuming_line(make: Make) -> None:
    lp = make(targets.gen_resume_work)
    with lp:
        g = targets.gen_resume_work()
        assert next(g) == 1
        targets.tick(50)
        with pytest.raises(StopIteration):
            g.send(None)
    # The resuming line runs tick(4) after the resume; it started once.
    assert by_mark(lp, targets.gen_resume_work) == {"resume": (1, 4), "after": (1, 2)}


def handling_inner() -> Iterator[int]:
    while True:  # @loop
        try:  # @try
            yield 1  # @yield
        except KeyError:  # @except
            targets.tick(5)  # @handle


def delegating_middle() -> Iterator[int]:
    yield from handling_inner()  # @delegate


def delegating_outer() -> Iterator[int]:
    yield from delegating_middle()  # @delegate


def test_a_throw_runs_the_lines_of_the_generators_it_passes_through(make: Make) -> None:
    """g.throw() on a generator in `yield from` is handed straight to the generator it
    delegates to, through every level, and none of the levels is resumed by an event of its
    own: each level's `yield from` line runs while the innermost handles it (5), as it would
    had next() resumed them, and time while all are suspended is nobody's."""
    lp = make(handling_inner, delegating_middle, delegating_outer)
    with lp:
        g = delegating_outer()
        assert next(g) == 1
        targets.tick(100)
        assert g.throw(KeyError) == 1
        targets.tick(100)
        assert g.throw(KeyError) == 1
        g.close()
    assert by_mark(lp, delegating_outer) == {"delegate": (1, 10)}
    assert by_mark(lp, delegating_middle) == {"delegate": (1, 10)}
    assert by_mark(lp, handling_inner) == {
        "loop": (3, 0),
        "try": (3, 0),
        "yield": (3, 0),
        "except": (3, 0),  # the close()'s GeneratorExit is matched there too
        "handle": (2, 10),
    }


def delegating_chain(n: int) -> Iterator[int]:
    if n == 0:  # @bottom
        yield from handling_inner()  # @inner
    else:
        yield from delegating_chain(n - 1)  # @delegate


def test_a_throw_through_a_deep_chain_runs_every_level(make: Make) -> None:
    """Every level of a chain of any depth (a task cancelled through 100 awaits): the levels
    past the 32nd read nothing of what the innermost ran (a buffer of 32 levels)."""
    lp = make(handling_inner, delegating_chain)
    with lp:
        g = delegating_chain(100)
        assert next(g) == 1
        assert g.throw(KeyError) == 1
        g.close()
    assert by_mark(lp, delegating_chain) == {
        "bottom": (101, 0),
        "inner": (1, 5),
        "delegate": (100, 100 * 5),  # one hit per level, each running the 5 of the innermost
    }


def walking(n: int, victim: Generator[int, None, None] | None = None) -> Generator[int, None, None]:
    if victim is not None:  # @check
        victim.throw(KeyError)  # @throw
        yield 0  # @done
    elif n == 0:  # @bottom
        yield from handling_inner()  # @inner
    else:
        yield from walking(n - 1)  # @delegate


def test_a_throw_into_another_instance_of_the_throwing_generator(make: Make) -> None:
    """The levels a throw passes through have the thrower's code: under sys.monitoring, which
    knows frames by their code, the first of them was taken for the thrower, and no level read
    the 5 its innermost ran."""
    lp = make(handling_inner, walking)
    with lp:
        victim = walking(3)
        assert next(victim) == 1
        thrower = walking(0, victim)
        assert next(thrower) == 0
    assert by_mark(lp, walking) == {
        "check": (5, 0),
        "throw": (1, 5),
        "done": (1, 0),
        "bottom": (4, 0),
        "inner": (1, 5),
        "delegate": (3, 15),
    }


def cleaning_inner() -> Iterator[int]:
    try:  # @try
        yield 1  # @yield
    finally:
        targets.tick(5)  # @cleanup


def catching_outer() -> Iterator[int]:
    try:  # @try
        yield from cleaning_inner()  # @delegate
    except KeyError:  # @except
        targets.tick(7)  # @caught
    yield 2  # @after


def test_a_throw_the_generator_it_passes_to_does_not_handle(make: Make) -> None:
    """The innermost runs its cleanup (5) and the exception goes on out: CPython resumes the
    level it passes through next, with an event, and its line carries on from there."""
    lp = make(cleaning_inner, catching_outer)
    with lp:
        g = catching_outer()
        assert next(g) == 1
        assert g.throw(KeyError) == 2
        g.close()
    assert by_mark(lp, catching_outer) == {
        "try": (1, 0),
        "delegate": (1, 5),
        "except": (1, 0),
        "caught": (1, 7),
        "after": (1, 0),
    }
    assert by_mark(lp, cleaning_inner) == {"try": (1, 0), "yield": (1, 0), "cleanup": (1, 5)}


def test_coroutine_await_that_suspends(make: Make) -> None:
    lp = make(targets.coro)
    with lp:
        c = targets.coro()
        c.send(None)  # runs to the await, suspends
        targets.tick(1000)
        with pytest.raises(StopIteration) as stop:
            c.send(None)
    assert stop.value.value == 7
    assert by_mark(lp, targets.coro) == {
        "tick1": (1, 1),
        "await": (1, 0),
        "tick2": (1, 2),
        "ret": (1, 0),
    }


def test_async_generator(make: Make) -> None:
    lp = make(targets.agen)

    def drive() -> list[int]:
        out = []
        it = targets.agen(2).__aiter__()
        while True:
            step = it.__anext__()
            try:
                step.send(None)
            except StopIteration as stop:
                out.append(stop.value)
                targets.tick(500)  # consumer time while the generator is suspended
            except StopAsyncIteration:
                return out

    with lp:
        assert drive() == [0, 1]
    assert by_mark(lp, targets.agen) == {
        "loop": (3, 0),
        "tick1": (2, 2),
        "yield": (2, 0),
        "tick2": (2, 4),
    }


def test_exceptions_raise_catch_finally(make: Make) -> None:
    lp = make(targets.raiser, targets.catcher)
    assert lp.runcall(targets.catcher) == "ok"
    assert by_mark(lp, targets.raiser) == {"tick1": (1, 1), "raise": (1, 0)}
    assert by_mark(lp, targets.catcher) == {
        "try": (1, 0),
        "call": (1, 1),
        "except": (1, 0),
        "handler": (1, 2),
        "finally": (1, 3),
        "ret": (1, 0),
    }


def test_frame_left_by_exception_closes_its_line(make: Make) -> None:
    lp = make(targets.leaks_exception, targets.basic)
    with lp:
        with pytest.raises(KeyError):
            targets.leaks_exception()
        targets.tick(1000)  # must not land on the unwound frame's line
        targets.basic(1)
    assert by_mark(lp, targets.leaks_exception) == {"tick1": (1, 1), "fail": (1, 5)}
    assert by_mark(lp, targets.basic)["tick5"] == (1, 5)


def test_unprofiled_helpers_time_lands_on_the_calling_line(make: Make) -> None:
    lp = make(targets.calls_unprofiled)
    lp.runcall(targets.calls_unprofiled)
    assert by_mark(lp, targets.calls_unprofiled) == {"tick1": (1, 1), "helper": (1, 20)}


def test_multi_line_statement_counts_once_on_its_first_line(make: Make) -> None:
    lp = make(targets.multi_line)
    for _ in range(2):
        lp.runcall(targets.multi_line)
    assert by_mark(lp, targets.multi_line) == {
        "stmt": (2, 6),
        "comp": (2, 6),
        "ret": (2, 0),
    }


# fmt: off
def header_and_block_on_a_line(n: int) -> int:
    for i in range(n):  # @for
        if (i > 5 or  # @if
                targets.tick(3) is None and False): targets.tick(1000)  # noqa: E701
    while (n > 0 and  # @while
           targets.tick(2) is None): n -= 1  # noqa: E701
    return n  # @ret
# fmt: on


def test_a_header_over_several_lines_with_its_block_on_its_last(make: Make) -> None:
    """``if (a or\n b): body``: the header's last line is also its block's.  It counted as a line
    of its own, so the header's time (the ticks) and hits went to it, the block never run."""
    lp = make(header_and_block_on_a_line)
    assert lp.runcall(header_and_block_on_a_line, 3) == 0
    assert by_mark(lp, header_and_block_on_a_line) == {
        "for": (4, 0),
        "if": (3, 9),
        "while": (1, 6),  # one line from then on: a loop on one line, one hit per entry
        "ret": (1, 0),
    }


def _same(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn


# fmt: off
def defines_one_liners(a: int = 1) -> int:
    @_same  # @deco
    def decorated(x: int) -> int: return x  # noqa: E704  # @def
    def spread(x: int,  # @spread
               y: int = a) -> int: return x + y  # noqa: E704  # @spread_end
    return decorated(1) + spread(1)  # @ret


@_same  # @deco
def one_liner(x: int) -> int: return x  # noqa: E704  # @body


def spread_one_liner(x: int,  # @head
                     y: int = 1) -> int: return x + y  # noqa: E704  # @body


def sorts_with_a_lambda_on_a_continuation_line(data: list[tuple[int, int]]) -> list[Any]:
    return sorted(data,  # @call
                  key=lambda p: (p[0] +  # @lambda
                                 p[1]))  # @lambda_end
# fmt: on


def test_one_line_definitions_count_once_where_defined_and_on_their_line_when_run(
    make: Make,
) -> None:
    """``@deco`` / ``def h(x): return x``, and a def whose header spans lines with its body on
    its last line: one statement where it is defined (CPython goes between the decorator, or
    default argument, line and the def line: each counted twice), and in its own frame the
    body counts on the line it is written on.  A lambda (or a 3.10/3.11 comprehension) that
    starts on a continuation line of its statement: one row, not one per line."""
    lp = make(defines_one_liners, one_liner, spread_one_liner)
    with lp:
        assert defines_one_liners() == 3
        assert one_liner(1) + one_liner(2) + spread_one_liner(3) == 7
    assert {mark: hits for mark, (hits, _) in by_mark(lp, defines_one_liners).items()} == {
        "deco": 1,
        "spread": 1,
        "ret": 1,
    }
    assert {mark: hits for mark, (hits, _) in by_mark(lp, one_liner).items()} == {"body": 2}
    assert {mark: hits for mark, (hits, _) in by_mark(lp, spread_one_liner).items()} == {"body": 1}
    code = sorts_with_a_lambda_on_a_continuation_line.__code__
    (lam,) = [c for c in code.co_consts if hasattr(c, "co_code")]
    lp = make()
    lp.add_code(lam)
    with lp:
        sorts_with_a_lambda_on_a_continuation_line([(1, 2), (3, 4), (0, 1)])
    (rows,) = lp.get_stats().timings.values()
    assert [(line - lam.co_firstlineno, hits) for line, hits, _ in rows if hits] == [(0, 3)]


def test_match_cases_count_on_their_own_lines(make: Make) -> None:
    """Each case's lines are their own; a case's pattern over several lines counts on its
    first (they were all counted on the ``match`` line)."""
    lp = make(targets.matcher)
    with lp:
        for x in (1, [1, 2], 3, 1):
            targets.matcher(x)
    got = by_mark(lp, targets.matcher)
    assert {mark: got.get(mark) for mark in ("one", "two", "other", "ret")} == {
        "one": (2, 2),
        "two": (1, 2),
        "other": (1, 3),
        "ret": (4, 0),
    }
    assert "case2" not in got  # the pattern's second line counts on its first


def test_loop_on_its_own_line_counts_once_per_entry(make: Make) -> None:
    lp = make(targets.same_line_loop)
    assert lp.runcall(targets.same_line_loop, 5) == 5
    assert by_mark(lp, targets.same_line_loop) == {"init": (1, 0), "loop": (1, 0), "ret": (1, 0)}


@pytest.mark.parametrize("func", [targets.one_liner, targets.one_line_def])
def test_one_line_functions_and_lambdas(make: Make, func: Callable[[int], None]) -> None:
    lp = make(func)
    with lp:
        func(3)
        func(4)
    (line,) = lp.get_stats().timings.values()
    assert line == [(func.__code__.co_firstlineno, 2, 7)]


def test_threads_record_separately(make: Make) -> None:
    started, go = threading.Event(), threading.Event()

    def worker() -> None:
        targets.tick(1)  # @w1
        started.set()  # @wset
        go.wait()  # @wwait
        targets.tick(2)  # @w2

    def main_fn() -> None:
        targets.tick(10)  # @m1
        targets.tick(20)  # @m2

    lp = make(worker, main_fn)
    with lp:
        thread = threading.Thread(target=worker)
        thread.start()
        started.wait()
        main_fn()
        go.set()
        thread.join()
    assert by_mark(lp, main_fn) == {"m1": (1, 10), "m2": (1, 20)}
    w = by_mark(lp, worker)
    assert w["w1"] == (1, 1) and w["w2"] == (1, 2)
    assert w["wset"][0] == w["wwait"][0] == 1
    # The worker's waiting lines take the wall time main_fn ran meanwhile; where the thread
    # switch fell between them is up to the GIL.
    assert w["wset"][1] + w["wwait"][1] == 30


def test_threads_started_before_profiling(make: Make) -> None:
    ready, go, done = threading.Event(), threading.Event(), threading.Event()

    def body() -> None:
        targets.tick(7)  # @t

    def runner() -> None:
        ready.set()
        go.wait()
        body()
        done.set()

    thread = threading.Thread(target=runner)
    thread.start()
    ready.wait()
    lp = make(body)
    with lp:
        go.set()
        done.wait()
    thread.join()
    assert by_mark(lp, body) == {"t": (1, 7)}


def blocked(started: threading.Event, go: threading.Event) -> None:
    """Unprofiled: say so, then wait for ``go`` (the calling line is in progress meanwhile)."""
    started.set()
    go.wait()


def loops_blocking(started: threading.Event, gates: list[threading.Event]) -> None:
    for gate in gates:  # @for
        blocked(started, gate)  # @wait


def returns_blocking(started: threading.Event, go: threading.Event) -> None:
    return blocked(started, go)  # @wait


def inside(started: threading.Event, go: threading.Event) -> None:
    blocked(started, go)  # @wait
    targets.tick(4)  # @tick
    targets.tick(1)  # @tick1


class Blocked:
    """Another thread running a function until it blocks in its 'wait' line (blocked())."""

    def __init__(self, func: Callable[..., None], gates: int) -> None:
        self.started = threading.Event()
        self.gates = [threading.Event() for _ in range(gates)]
        args = (self.started, self.gates) if gates > 1 else (self.started, self.gates[0])
        self.thread = threading.Thread(target=func, args=args)

    def release(self, gate: int = 0) -> None:
        """Let it go on past gate ``gate``; return once it blocks again or ends."""
        self.started.clear()
        self.gates[gate].set()
        while self.thread.is_alive() and not self.started.wait(0.001):
            pass


@contextlib.contextmanager
def a_thread_blocked_in(func: Callable[..., None], gates: int = 1) -> Iterator[Blocked]:
    """The thread is blocked when the block starts; at its end it is let go and joined."""
    blocked_thread = Blocked(func, gates)
    blocked_thread.thread.start()
    try:
        blocked_thread.started.wait()
        yield blocked_thread
    finally:
        for gate in blocked_thread.gates:
            gate.set()
        blocked_thread.thread.join()


def test_a_thread_blocked_in_a_profiled_line_when_profiling_starts(make: Make) -> None:
    """Its line in progress is timed from the start, on every backend, and reads one hit (it
    has time; profiler.py); before, the thread was recorded only from its next line."""
    lp = make(inside)
    with a_thread_blocked_in(inside) as other:
        with lp:
            targets.tick(6)
            other.release()  # it ends
    assert by_mark(lp, inside) == {"wait": (1, 6), "tick": (1, 4), "tick1": (1, 1)}


def test_a_line_blocked_from_start_to_stop_reads_the_whole_session(make: Make) -> None:
    lp = make(inside)
    with a_thread_blocked_in(inside):
        with lp:
            targets.tick(6)
        # the thread goes on once profiling has stopped: unrecorded
    assert by_mark(lp, inside) == {"wait": (1, 6)}


def test_results_read_meanwhile_show_a_blocked_lines_time_so_far(make: Make) -> None:
    lp = make(inside)
    with a_thread_blocked_in(inside):
        with lp:
            targets.tick(3)
            assert by_mark(lp, inside) == {"wait": (1, 3)}
            targets.tick(4)
    assert by_mark(lp, inside) == {"wait": (1, 7)}


def test_a_blocked_line_run_again_is_not_counted_twice(make: Make) -> None:
    """The line in progress at the start ends; the loop comes back to it and blocks again: one
    start in the session, both runs' time."""
    lp = make(loops_blocking)
    with a_thread_blocked_in(loops_blocking, gates=2) as other:
        with lp:
            targets.tick(5)
            other.release(0)  # blocked again, at the second gate
            targets.tick(3)
    assert by_mark(lp, loops_blocking) == {"for": (1, 0), "wait": (1, 8)}


def test_a_blocked_line_that_returns(make: Make) -> None:
    """The thread's first event after the start is its frame's return."""
    lp = make(returns_blocking)
    with a_thread_blocked_in(returns_blocking) as other:
        with lp:
            targets.tick(5)
            other.release()  # it returns and ends
            targets.tick(100)  # not the line's
    assert by_mark(lp, returns_blocking) == {"wait": (1, 5)}


def test_two_profilers_on_one_function(make: Make) -> None:
    lp1, lp2 = make(targets.basic), make(targets.basic)
    with lp1:
        targets.basic(1)
        with lp2:
            targets.basic(2)
    whole = {"zero": (2, 0), "tick5": (2, 10), "loop": (5, 0), "body": (3, 6), "add": (3, 0)}
    whole["ret"] = (2, 0)
    assert by_mark(lp1, targets.basic) == whole
    assert by_mark(lp2, targets.basic) == {
        "zero": (1, 0),
        "tick5": (1, 5),
        "loop": (3, 0),
        "body": (2, 4),
        "add": (2, 0),
        "ret": (1, 0),
    }


def _enable_then_tick(lp: LineProfiler) -> None:
    targets.tick(3)
    lp.enable()
    targets.tick(2)


def _add_then_tick(lp: LineProfiler, function: Callable[..., object]) -> None:
    targets.tick(3)
    lp.add_function(function)
    targets.tick(2)


def joins_a_running_line(join: Callable[[], None]) -> None:
    join()  # @join
    targets.tick(5)  # @after


def test_a_profiler_enabled_inside_a_line_another_times_is_charged_from_then_on(
    make: Make,
) -> None:
    """lp2 is enabled in the middle of a line lp1 is timing: lp2 is charged what the line
    runs from then on (2), never what it ran before (3)."""
    lp1, lp2 = make(joins_a_running_line), make(joins_a_running_line)
    with lp1:
        joins_a_running_line(lambda: _enable_then_tick(lp2))
    lp2.disable()
    assert by_mark(lp1, joins_a_running_line) == {"join": (1, 5), "after": (1, 5)}
    assert by_mark(lp2, joins_a_running_line) == {"join": (1, 2), "after": (1, 5)}


def test_a_function_registered_inside_a_line_another_profiler_times(make: Make) -> None:
    """The same when the function joins an enabled profiler (add_function) mid-line."""
    lp1, lp2 = make(joins_a_running_line), make()
    with lp1, lp2:
        joins_a_running_line(lambda: _add_then_tick(lp2, joins_a_running_line))
    assert by_mark(lp1, joins_a_running_line) == {"join": (1, 5), "after": (1, 5)}
    assert by_mark(lp2, joins_a_running_line) == {"join": (1, 2), "after": (1, 5)}


def becomes_profiled(join: Callable[[], None]) -> None:
    targets.tick(1)  # @before
    join()  # @join
    targets.tick(2)  # @next
    targets.tick(4)  # @last


@pytest.mark.parametrize("how", ["enable", "add_function"])
def test_a_running_function_another_profiler_starts_recording(
    make: Make, backend: str, how: str
) -> None:
    """While lp1 records, the running function becomes lp2's (lp2 enabled, or given it):
    recorded from its next line on."""
    if backend == "setprofile":
        pytest.skip("recorded from its next call there (docs/limitations.md)")
    lp1 = make(targets.basic)
    lp2 = make(becomes_profiled) if how == "enable" else make()

    def join() -> None:
        if how == "enable":
            lp2.enable()
        else:
            lp2.add_function(becomes_profiled)

    with lp1:
        if how == "add_function":
            lp2.enable()
        becomes_profiled(join)
    lp2.disable()
    assert by_mark(lp2, becomes_profiled) == {"next": (1, 2), "last": (1, 4)}


def test_profiling_again_accumulates_and_clear_resets(make: Make) -> None:
    lp = make(targets.basic)
    lp.runcall(targets.basic, 1)
    targets.basic(1)  # not profiled
    lp.runcall(targets.basic, 1)
    assert by_mark(lp, targets.basic)["tick5"] == (2, 10)
    lp.clear()
    assert lp.get_stats().timings == {next(iter(lp.get_stats().timings)): []}
    lp.runcall(targets.basic, 1)
    assert by_mark(lp, targets.basic)["tick5"] == (1, 5)


def test_enable_inside_a_running_profiled_frame(make: Make) -> None:
    def f() -> None:
        targets.tick(1)  # @before
        lp.enable()  # @enable
        targets.tick(2)  # @after
        lp.disable()  # @disable
        targets.tick(4)  # @off

    lp = make()
    lp.add_function(f)
    f()
    # Lines run before enable() are unseen; the line that calls disable() is cut there.
    assert by_mark(lp, f) == {"after": (1, 2), "disable": (1, 0)}


def test_internal_error_stops_profiling_and_surfaces_at_disable(make: Make) -> None:
    limit = 100
    _lineprof._set_stack_limit(limit)
    try:
        lp = make(targets.deep)
        lp.enable()
        assert targets.deep(limit + 50) == limit + 50  # the program is unaffected
        with pytest.raises(RuntimeError, match="nested profiled frames"):
            lp.disable()
        timings = by_mark(lp, targets.deep)
        assert timings  # what was recorded before the error is kept
        lp.runcall(targets.deep, 3)  # and the next session works
    finally:
        _lineprof._set_stack_limit(1 << 20)


def test_internal_error_surfaces_at_get_stats_while_enabled(make: Make) -> None:
    _lineprof._set_stack_limit(70)
    try:
        lp = make(targets.deep)
        lp.enable()
        targets.deep(100)
        with pytest.raises(RuntimeError, match="nested profiled frames"):
            lp.get_stats()
        with pytest.raises(RuntimeError):
            lp.disable()
        lp.get_stats()  # once disabled and reported, the data is readable
    finally:
        _lineprof._set_stack_limit(1 << 20)


def test_settrace_leaves_unprofiled_frames_without_line_events() -> None:
    seen = {}

    def unprofiled() -> None:
        seen["lines"] = sys._getframe().f_trace_lines

    def profiled() -> None:
        unprofiled()

    lp = LineProfiler(profiled, backend="settrace")
    lp.runcall(profiled)
    assert seen["lines"] is False


@pytest.mark.skipif("setprofile" not in _lineprof.BACKENDS, reason="setprofile is <= 3.11")
def test_setprofile_traces_profiled_frames_only() -> None:
    seen = {}

    def unprofiled() -> None:
        seen["inside helper"] = sys.gettrace()

    def profiled() -> None:
        seen["inside profiled"] = sys.gettrace()
        unprofiled()
        seen["back in profiled"] = sys.gettrace()

    lp = LineProfiler(profiled, backend="setprofile")
    with lp:
        seen["outside"] = sys.gettrace()
        profiled()
        seen["after"] = sys.gettrace()
    assert sys.getprofile() is None
    assert seen == {
        "outside": None,
        "inside profiled": _lineprof,  # the object our C trace function was installed with
        "inside helper": None,
        "back in profiled": _lineprof,
        "after": None,
    }


@pytest.mark.skipif(not _lineprof.HAVE_SYS_MONITORING, reason="sys.monitoring is 3.12+")
def test_monitoring_sets_events_on_registered_code_only() -> None:
    def profiled() -> None:
        pass

    def unprofiled() -> None:
        pass

    lp = LineProfiler(profiled, backend="monitoring")
    with lp:
        tool = _lineprof.tool_id()
        assert tool is not None
        mon = sys.monitoring
        assert mon.get_local_events(tool, profiled.__code__) != 0
        assert mon.get_local_events(tool, unprofiled.__code__) == 0
        assert mon.get_events(tool) == mon.events.PY_UNWIND | mon.events.PY_THROW
    assert mon.get_tool(tool) is None
    assert mon.get_local_events(tool, profiled.__code__) == 0


def test_marks_helper_sees_markers() -> None:
    assert set(marks(targets.basic)) == {"zero", "tick5", "loop", "body", "add", "ret"}


@pytest.mark.usefixtures("fake_clock")
def test_freeing_another_profiler_keeps_the_lines_in_progress(make: Make) -> None:
    """A disabled profiler freed while another records (the cyclic GC may free one at any
    allocation) takes its code's entries with it; the recording profiler's running lines keep
    their time."""

    def lonely() -> None:
        pass

    holder = [make(lonely)]
    holder[0].enable()
    holder[0].disable()

    def drop() -> None:
        holder.clear()  # the other profiler is freed here, and lonely's entry with it
        targets.tick(300)

    def work() -> None:
        drop()  # @drop
        targets.tick(500)  # @tick

    lp = make(work)
    lp.runcall(work)
    assert not holder
    assert by_mark(lp, work) == {"drop": (1, 300), "tick": (1, 500)}


def test_another_profiler_stopping_inside_a_line_takes_nothing_from_it(make: Make) -> None:
    """A second profiler that starts and stops while a profiled line runs (a nested
    ``runcall``, ``%lprun`` inside a profiled program): the line keeps its whole time and the
    frame goes on, though the second profiler's code no longer has a profiler listening."""
    inner = make(targets.briefly_profiled)

    def nested() -> None:
        inner.runcall(targets.briefly_profiled)
        targets.tick(4)

    lp = make(targets.around_another_profiler)
    assert lp.runcall(targets.around_another_profiler, nested) == 1
    assert by_mark(inner, targets.briefly_profiled) == {"tick7": (1, 7)}
    assert by_mark(lp, targets.around_another_profiler) == {
        "before": (1, 3),
        "nested": (1, 11),
        "after": (1, 2),
        "done": (1, 0),
    }


def test_a_profiler_stopping_in_its_own_function_leaves_the_frames_around_it(make: Make) -> None:
    """The stopping profiler's frame is in the middle of the stack: the frames below and above
    it (another profiler's) keep their lines."""
    inner = make(targets.stops_its_profiler)

    def nested() -> None:
        inner.enable()
        targets.stops_its_profiler(inner.disable, targets.briefly_profiled)
        targets.tick(4)

    lp = make(targets.around_another_profiler, targets.briefly_profiled)
    assert lp.runcall(targets.around_another_profiler, nested) == 1
    assert by_mark(inner, targets.stops_its_profiler) == {"tick1": (1, 1), "stop": (1, 0)}
    assert by_mark(lp, targets.briefly_profiled) == {"tick7": (1, 7)}
    assert by_mark(lp, targets.around_another_profiler) == {
        "before": (1, 3),
        "nested": (1, 1 + 7 + 2 + 4),
        "after": (1, 2),
        "done": (1, 0),
    }


@contextlib.contextmanager
def a_thread_waiting_in_nested() -> Iterator[None]:
    """Another thread runs targets.around_another_profiler and waits in its 'nested' line
    ('before' has ticked 3) for as long as the block runs; then it finishes and is joined."""
    started, go = threading.Event(), threading.Event()

    def waits() -> None:
        started.set()
        go.wait()

    thread = threading.Thread(target=targets.around_another_profiler, args=(waits,))
    thread.start()
    try:
        started.wait()
        yield
    finally:
        go.set()
        thread.join()


def test_a_profiler_stopping_leaves_other_threads_lines_in_progress(make: Make) -> None:
    lp = make(targets.around_another_profiler)
    lp.enable()
    try:
        with a_thread_waiting_in_nested():
            inner = make(targets.briefly_profiled)
            inner.runcall(targets.briefly_profiled)  # the fake clock moves 7 for both threads
    finally:
        lp.disable()
    assert by_mark(lp, targets.around_another_profiler) == {
        "before": (1, 3),
        "nested": (1, 7),
        "after": (1, 2),
        "done": (1, 0),
    }


def test_stopping_charges_other_threads_lines_in_progress_up_to_the_stop(make: Make) -> None:
    """Profiling stops while another thread is inside a profiled line (a worker waiting, a
    daemon thread at exit): that line keeps the time it ran until the stop, as the stopping
    thread's own lines in progress do, instead of reading its hit with no time."""
    lp = make(targets.around_another_profiler)
    lp.enable()
    with a_thread_waiting_in_nested():
        try:
            targets.tick(5)  # the thread has been in 'nested' for 5 when profiling stops
        finally:
            lp.disable()
    assert by_mark(lp, targets.around_another_profiler) == {"before": (1, 3), "nested": (1, 5)}


def test_results_read_while_profiling_count_lines_in_progress_so_far(make: Make) -> None:
    """get_stats() while a thread is inside a profiled line (a server loop, a blocking read,
    what ``lineprof -i`` saves): the line shows the time it has run so far, and reading takes
    nothing away from what it reads at the end."""
    lp = make(targets.around_another_profiler)
    lp.enable()
    try:
        with a_thread_waiting_in_nested():
            targets.tick(5)
            assert by_mark(lp, targets.around_another_profiler) == {
                "before": (1, 3),
                "nested": (1, 5),
            }
            targets.tick(4)
            assert by_mark(lp, targets.around_another_profiler)["nested"] == (1, 9)
    finally:
        lp.disable()
    assert by_mark(lp, targets.around_another_profiler) == {
        "before": (1, 3),
        "nested": (1, 9),
        "after": (1, 2),
        "done": (1, 0),
    }


def test_a_profiler_of_many_functions_stopping_leaves_other_threads_lines_whole(
    make: Make,
) -> None:
    """Each function whose last profiler stops is taken off every thread's stack at once: a
    profiler of 100 functions stopping takes nothing from another profiler's line in progress
    on another thread (it did when threads caught up later, from a record of the last 64)."""
    namespace: dict[str, object] = {}
    exec("\n".join(f"def f{i}(): pass" for i in range(100)), namespace)
    many = make(*(namespace[f"f{i}"] for i in range(100)))
    lp = make(targets.around_another_profiler)
    lp.enable()
    try:
        with a_thread_waiting_in_nested():
            many.enable()
            many.disable()
            targets.tick(5)
    finally:
        lp.disable()
    assert by_mark(lp, targets.around_another_profiler) == {
        "before": (1, 3),
        "nested": (1, 5),
        "after": (1, 2),
        "done": (1, 0),
    }


# A process forked while another thread is inside a profiled line: that thread does not exist in
# the child, and its line must not be charged there when the child stops profiling.
FORKED_WITH_A_THREAD_IN_A_LINE = """
import os, sys, threading, warnings
warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads, 3.12+
from lineprof import LineProfiler, _lineprof
from tests import targets
from tests.conftest import by_mark
_lineprof.set_fake_clock(True, 1_000_000)
started, go = threading.Event(), threading.Event()
def waits():
    started.set()
    go.wait()
lp = LineProfiler(targets.around_another_profiler, backend=sys.argv[1])
lp.enable()
thread = threading.Thread(target=targets.around_another_profiler, args=(waits,))
thread.start()
started.wait()
targets.tick(5)
pid = os.fork()
if pid == 0:
    targets.tick(100)
    lp.disable()
    print("child", sorted(by_mark(lp, targets.around_another_profiler).items()), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
targets.tick(1)
lp.disable()
go.set()
thread.join()
print("parent", sorted(by_mark(lp, targets.around_another_profiler).items()), flush=True)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork")
def test_a_forked_child_does_not_charge_threads_fork_did_not_copy(backend: str) -> None:
    result = run_code(FORKED_WITH_A_THREAD_IN_A_LINE.replace("sys.argv[1]", repr(backend)))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # The child's copy of the tables has the thread's 'nested' hit from before the fork, and
    # no time: the thread never ran in the child (whose clock moved 100).  The parent's line
    # has the 5 + 1 its own clock moved.
    assert "child [('before', (1, 3)), ('nested', (1, 0))]" in lines, result.stdout
    assert "parent [('before', (1, 3)), ('nested', (1, 6))]" in lines, result.stdout


def test_a_profiler_stopping_under_another_s_frames(make: Make) -> None:
    """The stopping profiler's frame is the bottom of the stack, another's above it: that
    one's lines, and its later calls, are whole."""
    inner = make(targets.calls_through)
    lp = make(targets.briefly_profiled, targets.around_another_profiler)

    def then() -> None:
        inner.disable()
        targets.briefly_profiled()

    inner.enable()
    lp.enable()
    try:
        targets.calls_through(then)
        targets.around_another_profiler(lambda: targets.tick(4))
    finally:
        lp.disable()
    assert by_mark(inner, targets.calls_through) == {"tick1": (1, 1), "then": (1, 0)}
    assert by_mark(lp, targets.briefly_profiled) == {"tick7": (1, 7)}
    assert by_mark(lp, targets.around_another_profiler) == {
        "before": (1, 3),
        "nested": (1, 4),
        "after": (1, 2),
        "done": (1, 0),
    }

"""What lineprof takes out of a line's time: exactly what its own callbacks for profiled
events measured of themselves inside it, and nothing else.

The fake clock here moves STEP ns after every read, so each callback that reads the clock
twice (first and last thing) measures STEP of itself, and every interval between two
callbacks lasts STEP plus whatever the program advanced the clock by.  Every number below is
exact, on every backend.
"""

from __future__ import annotations

import pytest

from lineprof import LineProfiler, _lineprof
from tests.conftest import STEP, by_mark, pair_reads, start_gap

tick = _lineprof.advance_fake_clock


def callee() -> int:
    a = 1  # @c1
    return a  # @c2


def unprofiled(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def caller() -> None:
    callee()  # @call
    tick(500)  # @tick
    unprofiled(50)  # @plain


def run(backend: str, calibrate: bool) -> LineProfiler:
    lp = LineProfiler(callee, caller, backend=backend, calibrate=calibrate)
    lp.runcall(caller)
    return lp


@pytest.mark.usefixtures("stepping_clock")
def test_nested_callbacks_are_taken_out_of_the_calling_line(backend: str) -> None:
    # The callee's start, its two line events and its return each measured STEP of
    # themselves inside the calling line, and so did the gap from the callee's start to its
    # first line where nothing of the program can run there (3.11); the other four gaps stay,
    # and that one too where a signal handler, another thread or another tool's callbacks may
    # run in it (csrc/compat.h, LP_HAVE_QUIET_START).
    lp = run(backend, calibrate=True)
    assert by_mark(lp, caller) == {
        "call": (1, (5 - start_gap()) * STEP),
        "tick": (1, STEP + 500),
        "plain": (1, STEP),
    }
    assert by_mark(lp, callee) == {"c1": (1, STEP), "c2": (1, STEP)}


@pytest.mark.usefixtures("stepping_clock")
def test_raw_times_keep_what_was_measured(backend: str) -> None:
    lp = run(backend, calibrate=False)
    pair = pair_reads(backend)  # the callee's call and return; the caller's return ends "plain"
    assert by_mark(lp, caller) == {
        "call": (1, (9 + 2 * pair) * STEP),
        "tick": (1, STEP + 500),
        "plain": (1, (1 + pair) * STEP),
    }
    assert by_mark(lp, callee) == {"c1": (1, STEP), "c2": (1, (1 + pair) * STEP)}


@pytest.mark.usefixtures("stepping_clock")
def test_unprofiled_callees_cost_nothing_taken_out(backend: str) -> None:
    # The helper's calls, lines and C calls are not lineprof's measured events: under the
    # legacy hooks they do pass through lineprof, but untimed, and nothing is subtracted for
    # them (a helper that waits on the clock takes the same time with them).
    lp = run(backend, calibrate=True)
    raw = run(backend, calibrate=False)
    # Raw, "plain" also holds the caller's own return under setprofile (its pair read).
    pair = pair_reads(backend)
    assert by_mark(lp, caller)["plain"] == (1, STEP)
    assert by_mark(raw, caller)["plain"] == (1, (1 + pair) * STEP)


def statement() -> None:
    value = (  # @stmt
        1,
        tick(300),
    )
    del value  # @after


@pytest.mark.usefixtures("stepping_clock")
def test_other_lines_of_a_statement_are_lineprofs_own(backend: str) -> None:
    lp = LineProfiler(statement, backend=backend)
    lp.runcall(statement)
    result = by_mark(lp, statement)
    # However many line events the statement's other lines raise (it differs by version),
    # each of them measures STEP of itself and leaves STEP between callbacks: the statement
    # reads STEP + 300 per event boundary it crossed, never more than raw.
    raw = LineProfiler(statement, backend=backend, calibrate=False)
    raw.runcall(statement)
    hits, time = result["stmt"]
    raw_hits, raw_time = by_mark(raw, statement)["stmt"]
    assert hits == raw_hits == 1
    events = (raw_time - time) // STEP  # the statement's extra line events
    assert raw_time - time == events * STEP
    assert time == 300 + (events + 1) * STEP


def starts_profiling(lp: LineProfiler) -> None:
    lp.enable()  # @enable
    a = 1  # @after
    del a  # @del
    lp.disable()  # @disable


@pytest.mark.usefixtures("stepping_clock")
def test_the_line_that_starts_profiling_reads_nothing_of_it(backend: str) -> None:
    """The function is recorded from its next line on, on every backend: the line that called
    enable() is not charged lineprof's start (nor counted)."""
    lp = LineProfiler(backend=backend)
    lp.add_function(starts_profiling)
    starts_profiling(lp)
    assert by_mark(lp, starts_profiling).keys() == {"after", "del", "disable"}

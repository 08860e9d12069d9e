"""Take lineprof's own cost back out of the times it reports.

Every time lineprof reports for a line is a timed interval: from the clock read at the end of
the event that started the line to the clock read at the start of the next event.  Four
kinds of cost that are not the line's own land inside it, and three refinements:

* ``interval_ns``, once per interval: the rest of the starting event's callback after its
  clock read, and the interpreter's work to reach the next callback before its clock read;
* ``event_ns`` per profiled line event and ``frame_ns`` per profiled frame event (a call,
  return, yield or resumption) handled inside the interval: a profiled callee's events each
  cost a whole callback, and the two kinds differ (CPython 3.11, setprofile: ~80 ns a line
  event, ~105 a frame event), so one average would take too much out of a line calling a
  callee with many lines, and too little from one calling a callee with few;
* ``hook_ns``, per other hook call inside the interval: under the legacy hooks, every call and
  return of unprofiled Python code goes through lineprof (``setprofile`` switches the trace
  function off and on around it); ``c_hook_ns`` per call or return of a C function, which
  ``setprofile`` also sees and which costs it less (3.10: 8-14 vs 26-42 ns; 3.11: 46-50 vs
  74-86 ns, measured);
* ``back_start_ns`` and ``back_end_ns``, extra per interval begun or ended by a line event that
  goes back to a lower line (a loop's next round): it costs the interpreter more than a step
  forward, and the extra lands on both sides of the clock reads (measured: a loop's last line
  came out 8-30 ns too expensive per round without it);
* ``frame_end_ns``, extra per interval ended by the frame's return, yield or unwind: under
  the legacy hooks CPython calls the trace function with 'return' before the profile function
  that ends the frame, inside the frame's last interval (a function's last line came out
  45-60 ns too expensive on 3.10/3.11, measured; not priced under sys.monitoring);
* ``big_line_ns``, extra per interval of a line numbered past SMALL_INT_MAX (sys.monitoring).

The C core counts intervals, events, frame events, hooks, C hooks, and intervals begun or ended
going back or ended by the frame's end per line; this module measures the costs per backend
and clock (the TSC clock costs less to read than CLOCK_MONOTONIC: lineprof/clock.py), by
profiling tiny functions whose unprofiled cost it measures first, and
``LineProfiler.get_stats`` subtracts them.  Switch off with ``LineProfiler(calibrate=False)``
or LINEPROF_CALIBRATE=0.

The machine's pace moves under the costs: on a shared virtual machine the same code runs
1.5-1.8 times slower for spells of a fraction of a second (measured: the interval cost 18-24 ns
in a fast spell, 33-37 in a slow one, 3.11 and 3.12), and costs measured in a slow spell take
far too much out of a program that then runs in a fast one (every line of a benchmark case read
0 ns in two of five processes).  So each measurement notes the pace it ran at: the time line
events spend between their callback's two clock reads (``_lineprof.inside()``: the same work on
every event, 16-19 ns a line in a fast spell, 21-24 in a slow one).  A session that ran at a
pace none of the measurements saw (beyond ``PACE_TOLERANCE``) measures again when it ends, and
the costs a session's times lose are interpolated from the measurements at the paces on either
side of its own: a session that ran part fast, part slow sits between them by as much as it
was one or the other.
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import types
from collections.abc import Callable, Sequence
from typing import Any

from lineprof import _lineprof

__all__ = ["Overhead", "cached", "measure", "pace", "prepare", "recheck"]

ROUNDS = 7  # measurements per constant; the median is kept
ITERATIONS = 4000  # loop iterations per measurement
PACE_TOLERANCE = 0.1  # a session's pace this close to a measurement's needs no new one
PACE_MIN_EVENTS = 1000  # line events a session needs for its pace to count
REMEASURES = 3  # at most, per backend and clock: each costs 50-130 ms


# CPython keeps one object for each int up to 256, so a sys.monitoring LINE event for a line
# past it makes a new int for the line number before calling us and frees it after: a cost
# inside the intervals of such lines that smaller line numbers do not pay.
SMALL_INT_MAX = 256


@dataclasses.dataclass(frozen=True)
class Overhead:
    """lineprof's own cost that lands inside the times it measures, in nanoseconds."""

    interval_ns: float = 0.0
    event_ns: float = 0.0  # per line event
    hook_ns: float = 0.0
    frame_ns: float = 0.0  # per frame event
    back_start_ns: float = 0.0  # extra, per interval begun by a line event back to a lower line
    back_end_ns: float = 0.0  # extra, per interval ended by one
    big_line_ns: float = 0.0  # extra, per interval of a line numbered past SMALL_INT_MAX
    frame_end_ns: float = 0.0  # extra, per interval ended by the frame's end
    c_hook_ns: float = 0.0  # per hook call for a C function's call or return
    pace_ns: float = 0.0  # the machine's pace as these were measured (inside(), per event)

    def correct(
        self,
        ns: int,
        intervals: int,
        events: int,
        hooks: int,
        frame_events: int = 0,
        back_starts: int = 0,
        back_ends: int = 0,
        frame_ends: int = 0,
        c_hooks: int = 0,
        *,
        line: int = 0,
    ) -> int:
        """``ns`` without lineprof's own cost; ``events`` counts every profiled event,
        ``frame_events`` the frame events among them, ``hooks`` every other hook call,
        ``c_hooks`` the C function calls and returns among them; ``line`` is the row's line
        number."""
        lines = events - frame_events
        per_interval = self.interval_ns + (self.big_line_ns if line > SMALL_INT_MAX else 0.0)
        own = (
            intervals * per_interval
            + lines * self.event_ns
            + frame_events * self.frame_ns
            + (hooks - c_hooks) * self.hook_ns
            + c_hooks * self.c_hook_ns
            + back_starts * self.back_start_ns
            + back_ends * self.back_end_ns
            + frame_ends * self.frame_end_ns
        )
        return max(0, round(ns - own))

    def to_json(self) -> dict[str, float]:
        return {name: round(float(value), 1) for name, value in vars(self).items()}

    def toward(self, other: Overhead, share: float) -> Overhead:
        """These costs moved ``share`` (0..1) of the way to ``other``'s."""
        mine, theirs = vars(self), vars(other)
        return Overhead(**{k: v + (theirs[k] - v) * share for k, v in mine.items()})


NONE = Overhead()
# (backend, clock) -> the costs measured for it in this process, at one pace or more; the clock
# is 'tsc', 'monotonic' or 'fake'.  Nothing is ever measured with the fake clock; tests put
# known costs there.
_measured: dict[tuple[str, str], list[Overhead]] = {}
_remeasured: dict[tuple[str, str], int] = {}  # how often recheck() measured again


def session_key(backend: str | None) -> tuple[str, str] | None:
    """What the costs of a session on ``backend`` starting now are filed under: the backend
    and the clock it will read."""
    if not backend:
        return None
    return (backend, "fake" if _lineprof.clock_is_fake() else _lineprof.clock_name())


def prepare(candidates: Sequence[str]) -> list[str]:
    """Before a profiling session starts: measure the costs for the first backend in
    ``candidates`` that can start (unless measured already), and return the candidates from
    that one on.  Nothing else may be profiling now: the measurement is a session of its own.
    When the costs cannot be measured (another tool's trace function hides the lines, say),
    that session's times stay as measured; a later session tries again."""
    for index, backend in enumerate(candidates):
        key = session_key(backend)
        if key in _measured:
            return list(candidates[index:])
        try:
            overhead = measure(backend)
        except RecursionError:
            return list(candidates[index:])
        except RuntimeError:
            continue  # the hook is taken: the session will not use this backend either
        except Exception:  # noqa: BLE001 - calibrating must never break the program
            return list(candidates[index:])
        if overhead is not None and key is not None:
            _measured[key] = [overhead]
        return list(candidates[index:])
    return list(candidates)


# ---- the measurement -----------------------------------------------------------------------
# Each function runs a loop of ITERATIONS; its cost is measured unprofiled first.


def _loop1(n: int) -> None:  # a loop head and one line, which jumps back
    for i in range(n):
        i  # noqa: B018


def _loop4(n: int) -> None:  # a loop head and four like lines: the last one jumps back
    for i in range(n):
        i  # noqa: B018
        i  # noqa: B018
        i  # noqa: B018
        i  # noqa: B018


def _callee() -> None:
    return None


def _calls(n: int) -> None:  # a profiled callee: 2 frame events and 1 line event per call
    for _ in range(n):
        _callee()


def _callee6() -> None:  # six like lines: the difference from _callee is five line events
    a = 1  # noqa: F841
    a = 1  # noqa: F841
    a = 1  # noqa: F841
    a = 1  # noqa: F841
    a = 1  # noqa: F841
    a = 1  # noqa: F841


def _calls6(n: int) -> None:  # a profiled callee: 2 frame events and 6 line events per call
    for _ in range(n):
        _callee6()


def _unprofiled() -> None:
    return None


def _hooks(n: int) -> None:  # an unprofiled callee: hooks only (legacy)
    for _ in range(n):
        _unprofiled()


def _c_hooks(n: int) -> None:  # a C function: a C call and return (setprofile)
    for _ in range(n):
        len(())


def _far_loop4() -> Callable[[int], Any]:
    """_loop4 again, numbered past SMALL_INT_MAX (its line table is relative to its first line,
    so moving the first line moves them all; no source needed)."""
    code = _loop4.__code__
    far = code.replace(co_firstlineno=code.co_firstlineno + SMALL_INT_MAX)
    return types.FunctionType(far, _loop4.__globals__, "_loop4")


@dataclasses.dataclass
class _Sample:
    """One case, once: its unprofiled cost per iteration and, profiled, the raw rows."""

    plain: float
    rows: list[tuple[int, ...]]
    callee_rows: list[tuple[int, ...]]

    def total(self, column: int) -> float:
        """A column of the rows (tracer.stats() order), summed, per iteration."""
        return sum(row[column] for row in self.rows) / ITERATIONS

    def per_hit(self, index: int, *, callee: bool = False) -> float:
        """The ns per hit of the index-th row (of the callee's rows) in line order."""
        row = sorted(self.callee_rows if callee else self.rows)[index]
        return row[2] / row[1] if row[1] else 0.0


NS, INTERVALS, EVENTS, HOOKS, FRAMES, BACK_STARTS, BACK_ENDS, FRAME_ENDS, C_HOOKS = range(2, 11)


def measure(backend: str) -> Overhead | None:
    """Measure the costs for ``backend``: None when there is nothing to measure (the fake clock
    is on) or the measurement saw no lines (raises RuntimeError when the backend cannot
    start)."""
    if _lineprof.clock_is_fake():
        return None  # tests: the fake clock does not see lineprof's cost; nothing to take out
    from lineprof.profiler import LineProfiler

    cases: dict[str, Callable[[int], Any]] = {
        "loop1": _loop1,
        "loop4": _loop4,
        "calls": _calls,
        "calls6": _calls6,
    }
    if backend == "monitoring":
        cases["far4"] = _far_loop4()  # line numbers are objects only for sys.monitoring
    else:
        cases["hooks"] = _hooks  # sys.monitoring never sees unprofiled code
        cases["c_hooks"] = _c_hooks
    profiler = LineProfiler(*cases.values(), _callee, _callee6, backend=backend, calibrate=False)
    tracer = profiler._tracer  # registration through LineProfiler, recording on the tracer
    samples: dict[str, list[_Sample]] = {k: [] for k in cases}
    for func in cases.values():
        func(ITERATIONS)  # warm up
    inside_ns, inside_events = _lineprof.inside()
    for _ in range(ROUNDS):
        for name, func in cases.items():
            start = _lineprof.now()
            func(ITERATIONS)
            plain = (_lineprof.now() - start) / ITERATIONS
            tracer.clear()
            tracer.enable(backend)  # the bare tracer: no warnings, no metadata
            try:
                func(ITERATIONS)
            finally:
                tracer.disable()
            callee = _rows(tracer, _callee6) if func is _calls6 else []
            samples[name].append(_Sample(plain, _rows(tracer, func), callee))
    overhead = _solve(samples, legacy=backend != "monitoring")
    ns, events = _lineprof.inside()
    at_pace = pace(ns - inside_ns, events - inside_events)
    if overhead is None or at_pace is None:
        return overhead
    return dataclasses.replace(overhead, pace_ns=at_pace)


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _middle(sample: _Sample) -> float:
    """ns per hit of the middle lines of _loop4: the line's own cost plus one interval."""
    return statistics.median(sample.per_hit(i) for i in (1, 2, 3))


def _loop_costs(ones: list[_Sample], fours: list[_Sample]) -> tuple[float, float, float] | None:
    """(interval, back start, back end) from a loop head with one line and with four like
    lines.  Per iteration, unprofiled: head + k * line.  Profiled, per hit: a middle line is
    line + interval, the last line that plus the back end, the head head + interval + the back
    start."""
    rounds = [(one, four) for one, four in zip(ones, fours, strict=True) if len(four.rows) == 5]
    if not rounds:
        return None
    line = max(0.0, statistics.median((f.plain - o.plain) / 3 for o, f in rounds))
    head = max(0.0, statistics.median(o.plain for o, _ in rounds) - line)
    middle = statistics.median(_middle(f) for _, f in rounds)
    interval = max(0.0, middle - line)
    back_end = max(0.0, statistics.median(f.per_hit(4) for _, f in rounds) - middle)
    back_start = max(0.0, statistics.median(f.per_hit(0) for _, f in rounds) - head - interval)
    return interval, back_start, back_end


def _solve(samples: dict[str, list[_Sample]], *, legacy: bool) -> Overhead | None:
    loop = _loop_costs(samples["loop1"], samples["loop4"])
    if loop is None:
        return None  # the lines were hidden (another tool's trace function, say)
    interval, back_start, back_end = loop
    big_line = 0.0
    far = [_middle(s) for s in samples.get("far4", []) if len(s.rows) == 5]
    near = [_middle(s) for s in samples["loop4"] if len(s.rows) == 5]
    if far and near:
        big_line = max(0.0, statistics.median(far) - statistics.median(near))

    def known(sample: _Sample) -> float:
        """The sample's profiled ns per iteration less its unprofiled cost and the costs
        already measured."""
        return (
            sample.total(NS)
            - sample.plain
            - sample.total(INTERVALS) * interval
            - sample.total(BACK_STARTS) * back_start
            - sample.total(BACK_ENDS) * back_end
        )

    # Per call of a callee with one line and of one with six: 2F + L and 2F + 6L (as counted),
    # so the line event's cost L is a fifth of the difference.  (From one and three lines it
    # moved 2-3 times more between calibrations, and callees of 5 and 8 lines came out 30-170 ns
    # too cheap on 3.11.)  Both callees end once per call, so F takes in the frame's end.
    usable = {k: [s for s in samples[k] if s.total(EVENTS) > 0] for k in ("calls", "calls6")}
    one, six = (_median([known(s) for s in usable[k]]) for k in ("calls", "calls6"))
    if one is None or six is None:
        return None
    lines_one, frames_one = _counts(usable["calls"])
    lines_six, _ = _counts(usable["calls6"])
    if lines_six <= lines_one or frames_one <= 0:
        return None
    event = max(0.0, (six - one) / (lines_six - lines_one))
    frame = max(0.0, (one - lines_one * event) / frames_one)

    # The callee's own rows: its last line is a middle one that ends with the frame.  Priced
    # under the legacy hooks only: under sys.monitoring the difference is 7-10 ns and taking it
    # out overshot (the accuracy benchmark's callee's last line, ns per hit against its truth:
    # +0.5..+12.4 in five runs without it, -2.7..-12.2 in four with it; 3.12.1, 3.13.0).
    ends = [
        s.per_hit(5, callee=True)
        - statistics.median(s.per_hit(i, callee=True) for i in (1, 2, 3, 4))
        for s in usable["calls6"]
        if legacy and len(s.callee_rows) == 6
    ]
    frame_end = max(0.0, _median(ends) or 0.0)

    def per_hook(case: str, hooks: Callable[[_Sample], float], other: float) -> float:
        """The cost of one hook call of ``case``'s kind, less ``other`` per C hook (none
        under sys.monitoring, which sees no other code)."""
        costs = [
            (
                known(s)
                - (s.total(EVENTS) - s.total(FRAMES)) * event
                - s.total(FRAMES) * frame
                - s.total(C_HOOKS) * other
            )
            / hooks(s)
            for s in samples.get(case, [])
            if hooks(s) > 0
        ]
        return max(0.0, _median(costs) or 0.0)

    c_hook = per_hook("c_hooks", lambda s: s.total(C_HOOKS), 0.0)
    hook = per_hook("hooks", lambda s: s.total(HOOKS) - s.total(C_HOOKS), c_hook)
    return Overhead(
        interval_ns=interval,
        event_ns=event,
        hook_ns=hook,
        frame_ns=frame,
        back_start_ns=back_start,
        back_end_ns=back_end,
        big_line_ns=big_line,
        frame_end_ns=frame_end,
        c_hook_ns=c_hook,
    )


def _counts(samples: Sequence[_Sample]) -> tuple[float, float]:
    """The line events and frame events per iteration the rounds of a case counted."""
    lines = statistics.median(s.total(EVENTS) - s.total(FRAMES) for s in samples)
    frames = statistics.median(s.total(FRAMES) for s in samples)
    return lines, frames


def _rows(tracer: Any, func: Callable[..., Any]) -> list[tuple[int, ...]]:
    code = func.__code__
    for registered, rows in tracer.stats():
        if registered is code:
            return [tuple(row) for row in rows]
    return []


# ---- the costs at a session's pace ---------------------------------------------------------


def pace(inside_ns: float, events: int) -> float | None:
    """The pace a session ran at, from what ``_lineprof.inside()`` gained during it: None
    when too few line events for it to say (PACE_MIN_EVENTS) or the clock is fake."""
    if events < PACE_MIN_EVENTS or inside_ns <= 0:
        return None
    return inside_ns / events


def cached(key: tuple[str, str] | None, at_pace: float | None = None) -> Overhead | None:
    """The costs for a session (``session_key``) that ran at ``at_pace``, if any were measured:
    interpolated between the measurements at the paces either side of it (the nearest one past
    either end; the first one when the pace is unknown)."""
    found = _measured.get(key) if key is not None else None
    if not found:
        return None
    if at_pace is None or len(found) == 1:
        return found[0]
    ordered = sorted(found, key=lambda o: o.pace_ns)
    if at_pace <= ordered[0].pace_ns:
        return ordered[0]
    for below, above in itertools.pairwise(ordered):
        if at_pace <= above.pace_ns:
            span = above.pace_ns - below.pace_ns
            share = (at_pace - below.pace_ns) / span if span > 0 else 0.0
            return below.toward(above, share)
    return ordered[-1]


def recheck(key: tuple[str, str] | None, at_pace: float | None) -> None:
    """After a session that ran at ``at_pace`` ends, with nothing else recording: measure the
    costs again if none of the measurements was taken at a pace near it (the machine's pace
    changed since), at most REMEASURES times per backend and clock.  A new measurement at a
    pace measured already is not kept: the session's pace differed because its code did (a
    program's line events do not all cost alike: its pace was measured 8% below to 22% above
    the measurement's in one speed spell, 3.12.1), not because the machine did."""
    found = _measured.get(key) if key is not None else None
    if not found or at_pace is None or key is None or _remeasured.get(key, 0) >= REMEASURES:
        return
    if _near(at_pace, found):
        return
    if _lineprof.active_backend() is not None or session_key(key[0]) != key:
        return  # something records, or the clock changed: not now
    _remeasured[key] = _remeasured.get(key, 0) + 1
    try:
        overhead = measure(key[0])
    except Exception:  # noqa: BLE001 - calibrating must never break the program
        return
    if overhead is not None and overhead.pace_ns > 0 and not _near(overhead.pace_ns, found):
        found.append(overhead)


def _near(at_pace: float, found: Sequence[Overhead]) -> bool:
    return any(abs(at_pace - o.pace_ns) <= PACE_TOLERANCE * o.pace_ns for o in found)

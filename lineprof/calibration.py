"""Take lineprof's own cost back out of the times it reports.

Every time lineprof reports for a line is a timed interval: from the clock read at the end of
the event that started the line to the clock read at the start of the next event.  Four
kinds of cost that are not the line's own land inside it:

* ``interval_ns``, once per interval: the rest of the starting event's callback after its
  clock read, and the interpreter's work to reach the next callback before its clock read;
* ``event_ns`` per profiled line event and ``frame_ns`` per profiled frame event (a call,
  return, yield or resumption) handled inside the interval: a profiled callee's events each
  cost a whole callback, and the two kinds differ (CPython 3.11, setprofile: ~80 ns a line
  event, ~105 a frame event), so one average would take too much out of a line calling a
  callee with many lines, and too little from one calling a callee with few;
* ``hook_ns``, per other hook call inside the interval: under the legacy hooks, every call and
  return of unprofiled code (and C call under ``setprofile``) goes through lineprof.

The C core counts intervals, events, frame events and hooks per line; this module measures
the four costs once per backend and clock per process (the TSC clock costs less to read than
CLOCK_MONOTONIC: lineprof/clock.py), by profiling tiny functions whose unprofiled cost it
measures first, and ``LineProfiler.get_stats`` subtracts them.  Switch off with
``LineProfiler(calibrate=False)`` or LINEPROF_CALIBRATE=0.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lineprof import _lineprof

__all__ = ["Overhead", "cached", "measure", "prepare"]

ROUNDS = 7  # measurements per constant; the median is kept
ITERATIONS = 4000  # loop iterations per measurement


@dataclass(frozen=True)
class Overhead:
    """lineprof's own cost that lands inside the times it measures, in nanoseconds."""

    interval_ns: float = 0.0
    event_ns: float = 0.0  # per line event
    hook_ns: float = 0.0
    frame_ns: float = 0.0  # per frame event

    def correct(
        self, ns: int, intervals: int, events: int, hooks: int, frame_events: int = 0
    ) -> int:
        """``ns`` without lineprof's own cost; ``events`` counts every profiled event,
        ``frame_events`` the frame events among them."""
        lines = events - frame_events
        own = (
            intervals * self.interval_ns
            + lines * self.event_ns
            + frame_events * self.frame_ns
            + hooks * self.hook_ns
        )
        return max(0, round(ns - own))


NONE = Overhead()
# (backend, clock) -> the costs measured for it in this process; the clock is 'tsc',
# 'monotonic' or 'fake'.  Nothing is ever measured with the fake clock; tests put known costs
# there.
_measured: dict[tuple[str, str], Overhead] = {}


def session_key(backend: str | None) -> tuple[str, str] | None:
    """What the costs of a session on ``backend`` starting now are filed under: the backend
    and the clock it will read."""
    if not backend:
        return None
    return (backend, "fake" if _lineprof.clock_is_fake() else _lineprof.clock_name())


def cached(key: tuple[str, str] | None) -> Overhead | None:
    """The costs measured for a session (``session_key``), if any."""
    return _measured.get(key) if key is not None else None


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
            _measured[key] = overhead
        return list(candidates[index:])
    return list(candidates)


# ---- the measurement -----------------------------------------------------------------------
# Each function runs a loop of ITERATIONS; the line costs are measured unprofiled first.


def _lines(n: int) -> None:  # two intervals per iteration
    for i in range(n):
        i  # noqa: B018


def _callee() -> None:
    return None


def _calls(n: int) -> None:  # a profiled callee: 2 frame events and 1 line event per call
    for _ in range(n):
        _callee()


def _callee3() -> None:
    a = 1
    a += 1
    return None


def _calls3(n: int) -> None:  # a profiled callee: 2 frame events and 3 line events per call
    for _ in range(n):
        _callee3()


def _unprofiled() -> None:
    return None


def _hooks(n: int) -> None:  # an unprofiled callee: hooks only (legacy)
    for _ in range(n):
        _unprofiled()


def measure(backend: str) -> Overhead | None:
    """Measure the three costs for ``backend``: None when there is nothing to measure (the
    fake clock is on) or the measurement saw no lines (raises RuntimeError when the backend
    cannot start)."""
    if _lineprof.clock_is_fake():
        return None  # tests: the fake clock does not see lineprof's cost; nothing to take out
    from lineprof.profiler import LineProfiler

    profiler = LineProfiler(
        _lines, _calls, _callee, _calls3, _callee3, _hooks, backend=backend, calibrate=False
    )
    tracer = profiler._tracer  # registration through LineProfiler, recording on the tracer
    cases: dict[str, Callable[[int], Any]] = {
        "lines": _lines,
        "calls": _calls,
        "calls3": _calls3,
        "hooks": _hooks,
    }
    Sample = tuple[float, float, float, float, float, float]
    samples: dict[str, list[Sample]] = {k: [] for k in cases}
    for func in cases.values():
        func(ITERATIONS)  # warm up
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
            rows = _rows(tracer, func)
            ns, intervals, events, hooks, frames = (
                sum(r[i] for r in rows) / ITERATIONS for i in (2, 3, 4, 5, 6)
            )
            samples[name].append((plain, ns, intervals, events, hooks, frames))

    def per_round(name: str, count: int, solve: Callable[..., float]) -> float | None:
        # Rounds where the counted thing did not happen (lines hidden by another tool's
        # trace function, no hooks under sys.monitoring) say nothing about its cost.
        usable = [solve(*sample) for sample in samples[name] if sample[count] > 0]
        return max(0.0, statistics.median(usable)) if usable else None

    interval = per_round("lines", 2, lambda plain, ns, iv, ev, hk, fr: (ns - plain) / iv)
    if interval is None:
        return None
    # Per call of a callee with one line and of one with three: 2F + L and 2F + 3L (as
    # counted), so the line event's cost L is half the difference.
    one = per_round("calls", 3, lambda plain, ns, iv, ev, hk, fr: ns - plain - iv * interval)
    three = per_round("calls3", 3, lambda plain, ns, iv, ev, hk, fr: ns - plain - iv * interval)
    if one is None or three is None:
        return None
    lines_one, frames_one = _counts(samples["calls"])
    lines_three, frames_three = _counts(samples["calls3"])
    if lines_three <= lines_one or frames_one <= 0:
        return None
    event = max(0.0, (three - one) / (lines_three - lines_one))
    frame = max(0.0, (one - lines_one * event) / frames_one)

    def unprofiled(plain: float, ns: float, iv: float, ev: float, hk: float, fr: float) -> float:
        return (ns - plain - iv * interval - (ev - fr) * event - fr * frame) / hk

    hook = per_round("hooks", 4, unprofiled)
    return Overhead(interval, event, hook or 0.0, frame)


def _counts(samples: Sequence[tuple[float, ...]]) -> tuple[float, float]:
    """The line events and frame events per iteration the rounds of a case counted."""
    lines = statistics.median(s[3] - s[5] for s in samples)
    frames = statistics.median(s[5] for s in samples)
    return lines, frames


def _rows(tracer: Any, func: Callable[..., Any]) -> list[tuple[int, ...]]:
    code = func.__code__
    for registered, rows in tracer.stats():
        if registered is code:
            return [tuple(row) for row in rows]
    return []

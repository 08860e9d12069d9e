"""Take lineprof's own cost back out of the times it reports.

Every time lineprof reports for a line is a timed interval: from the clock read at the end of
the event that started the line to the clock read at the start of the next event.  Three
kinds of cost that are not the line's own land inside it:

* ``interval_ns``, once per interval: the rest of the starting event's callback after its
  clock read, and the interpreter's work to reach the next callback before its clock read;
* ``event_ns``, per profiled event handled inside the interval: a profiled callee's calls,
  lines and returns each cost a whole callback;
* ``hook_ns``, per other hook call inside the interval: under the legacy hooks, every call and
  return of unprofiled code (and C call under ``setprofile``) goes through lineprof.

The C core counts intervals, events and hooks per line; this module measures the three costs
once per backend and clock per process (the TSC clock costs less to read than
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
    event_ns: float = 0.0
    hook_ns: float = 0.0

    def correct(self, ns: int, intervals: int, events: int, hooks: int) -> int:
        own = intervals * self.interval_ns + events * self.event_ns + hooks * self.hook_ns
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


def _calls(n: int) -> None:  # a profiled callee: 3 events per call
    for _ in range(n):
        _callee()


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

    profiler = LineProfiler(_lines, _calls, _callee, _hooks, backend=backend, calibrate=False)
    tracer = profiler._tracer  # registration through LineProfiler, recording on the tracer
    cases: dict[str, Callable[[int], Any]] = {"lines": _lines, "calls": _calls, "hooks": _hooks}
    samples: dict[str, list[tuple[float, float, float, float, float]]] = {k: [] for k in cases}
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
            ns, intervals, events, hooks = (
                sum(r[i] for r in rows) / ITERATIONS for i in (2, 3, 4, 5)
            )
            samples[name].append((plain, ns, intervals, events, hooks))

    def per_round(name: str, count: int, solve: Callable[..., float]) -> float | None:
        # Rounds where the counted thing did not happen (lines hidden by another tool's
        # trace function, no hooks under sys.monitoring) say nothing about its cost.
        usable = [solve(*sample) for sample in samples[name] if sample[count] > 0]
        return max(0.0, statistics.median(usable)) if usable else None

    interval = per_round("lines", 2, lambda plain, ns, iv, ev, hk: (ns - plain) / iv)
    if interval is None:
        return None
    event = per_round("calls", 3, lambda plain, ns, iv, ev, hk: (ns - plain - iv * interval) / ev)
    if event is None:
        return None
    hook = per_round(
        "hooks", 4, lambda plain, ns, iv, ev, hk: (ns - plain - iv * interval - ev * event) / hk
    )
    return Overhead(interval, event, hook or 0.0)


def _rows(tracer: Any, func: Callable[..., Any]) -> list[tuple[int, ...]]:
    code = func.__code__
    for registered, rows in tracer.stats():
        if registered is code:
            return [tuple(row) for row in rows]
    return []

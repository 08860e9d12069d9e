"""Which clock lineprof times lines with: the CPU's timestamp counter or CLOCK_MONOTONIC.

The C core reads its clock twice per line event.  CLOCK_MONOTONIC costs ~25 ns a read even
through the vDSO (a fenced counter read inside a seqlock loop); one ``rdtsc`` costs a few.  The
C core only reads the counter (``_lineprof.use_tsc``) and keeps ticks; this module decides
whether the counter can be trusted, and turns ticks into nanoseconds when results are read
(``ns_per_unit``).

The counter is trusted only where the Linux kernel itself keeps time with it (its clocksource
is ``tsc``): the kernel has then checked that the counter runs at a constant rate, does not
stop in idle states and agrees across CPUs, and it stops using it (switching clocksource) if it
ever sees otherwise.  How many nanoseconds a tick is is measured against CLOCK_MONOTONIC from
the moment the counter was chosen to the moment results are read: the longest window there is,
so the rate is as exact as it gets, and no program waits for a calibration before its first
line.  Results read less than ``MIN_WINDOW_S`` after the choice wait for the rest of it.
LINEPROF_CLOCK (``auto``, ``tsc``, ``monotonic``) overrides the choice (``environment.clock``).

The choice is made once per process, before the first profiling session starts (``ensure``,
called by ``LineProfiler``): a session never mixes clocks, and the C core refuses to switch
while one is running.  A process forked later keeps the choice and the start of the window.
"""

from __future__ import annotations

import _thread
import os
import sys
import time

from lineprof import _lineprof, environment

__all__ = ["choose", "current", "ensure", "ns_per_unit", "tsc_unusable"]

CLOCKSOURCE = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
# The shortest window the rate is measured over.  Each end is read to within half the tightest
# bracket of a few paired readings (~100 ns wide here, 3.13), so 0.5 ms gives the rate to ~2e-4;
# a session that short waits at most that long, once (the two 0.25 ms windows this replaced
# cost every first session as much).
MIN_WINDOW_S = 0.0005
# ns per tick for any plausible TSC: 10 GHz .. 10 MHz.
MIN_NS_PER_TICK, MAX_NS_PER_TICK = 0.1, 100.0

_chosen: str | None = None  # the clock chosen for this process, once ensure() has run
# (counter, CLOCK_MONOTONIC ns) read when the counter was chosen: where the rate's window starts.
_origin: tuple[int, int] | None = None


def current() -> str:
    """The clock in use now: 'tsc' or 'monotonic' (the tests' fake clock aside)."""
    return _lineprof.clock_name()


# Two threads starting the first session at once: the second waits for the first's choice, which
# may release the GIL (it reads files), instead of choosing again once the first's session has
# started and the clock can no longer change.
_choosing = _thread.allocate_lock()


def ensure() -> str:
    """Choose the clock if this process has not yet (LINEPROF_CLOCK decides); return it.
    Call only while no profiler is enabled."""
    global _chosen
    if _chosen is None:
        with _choosing:
            if _chosen is None:
                _chosen = choose(environment.clock())
    return _chosen


def choose(setting: str = "auto") -> str:
    """Switch the C core to the clock ``setting`` asks for ('auto', 'tsc' or 'monotonic'),
    starting the window its rate is measured over when it is the counter; return the clock now
    in use.  Raises
    RuntimeError while a profiler is enabled."""
    global _chosen, _origin
    if setting not in ("auto", "tsc", "monotonic"):
        _warn(f"LINEPROF_CLOCK={setting!r} is not one of auto, tsc, monotonic; using auto")
        setting = "auto"
    reason = "LINEPROF_CLOCK=monotonic" if setting == "monotonic" else tsc_unusable()
    if reason is None:
        _lineprof.use_tsc()
        _origin = _paired_reading()
    else:
        if setting == "tsc":
            _warn(f"the TSC clock cannot be used ({reason}); using CLOCK_MONOTONIC")
        _lineprof.use_monotonic()
    _chosen = current()
    return _chosen


def ns_per_unit() -> float:
    """Nanoseconds per unit of what the C core records now: 1 for CLOCK_MONOTONIC and the
    tests' fake clock, the counter's measured rate for the TSC."""
    if _lineprof.clock_is_fake() or current() != "tsc":
        return 1.0
    global _origin
    if _origin is None:  # the counter was switched on without choose(): the window starts now
        _origin = _paired_reading()
    origin_tsc, origin_ns = _origin
    tsc, ns = _paired_reading()
    short = MIN_WINDOW_S * 1e9 - (ns - origin_ns)
    if short > 0:
        time.sleep(short / 1e9)
        tsc, ns = _paired_reading()
    rate = (ns - origin_ns) / (tsc - origin_tsc) if tsc > origin_tsc else 0.0
    if not MIN_NS_PER_TICK <= rate <= MAX_NS_PER_TICK:
        # Not a constant-rate counter after all (the kernel would have stopped using it by
        # now); LINEPROF_CLOCK=monotonic is the way out.
        _warn(f"the TSC ran at {rate:.4g} ns per tick, not a TSC's rate: these times are off")
    return rate


def tsc_unusable() -> str | None:
    """Why the timestamp counter must not be used here, or None if it may be."""
    if not sys.platform.startswith("linux"):
        return "not Linux: no kernel clocksource to vouch for the counter"
    machine = os.uname().machine  # platform.machine() without platform's import (~1 ms)
    if machine.lower() not in ("x86_64", "amd64"):
        return f"not x86-64 ({machine})"
    if not _lineprof.tsc_available():
        return "this build of lineprof has no TSC clock"
    try:
        with open(CLOCKSOURCE, "rb") as file:  # bytes: a text file imports encodings.ascii
            source = file.read().strip().decode("ascii", "replace")
    except OSError as exc:
        return f"cannot read the kernel's clocksource ({exc.strerror})"
    if source != "tsc":
        return f"the kernel keeps time with {source!r}, not the TSC"
    return None


def _paired_reading(tries: int = 7) -> tuple[int, int]:
    """A (counter, CLOCK_MONOTONIC ns) pair taken as nearly together as Python can: the
    monotonic read between two counter reads, the tightest bracket of a few tries (an
    interrupt or a preemption widens one), the counter taken at the bracket's middle."""
    best: tuple[int, int, int] | None = None
    for _ in range(tries):
        before = _lineprof.read_tsc()
        ns = _lineprof.monotonic_ns()
        after = _lineprof.read_tsc()
        if best is None or after - before < best[0]:
            best = (after - before, (before + after) // 2, ns)
    assert best is not None
    return best[1], best[2]


def _warn(message: str) -> None:
    import warnings  # noqa: PLC0415 (only to warn: ~0.4 ms of start-up)

    warnings.warn(f"lineprof: {message}", RuntimeWarning, stacklevel=3)

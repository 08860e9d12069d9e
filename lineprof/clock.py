"""Which clock lineprof times lines with: the CPU's timestamp counter or CLOCK_MONOTONIC.

The C core reads its clock twice per line event.  CLOCK_MONOTONIC costs ~25 ns a read even
through the vDSO (a fenced counter read inside a seqlock loop); one ``rdtsc`` scaled by a
multiply and a shift costs a few.  The C core only reads the counter and applies the constants
it is given (``_lineprof.use_tsc``); this module decides whether the counter can be trusted and
measures how many nanoseconds a tick is.

The counter is trusted only where the Linux kernel itself keeps time with it (its clocksource
is ``tsc``): the kernel has then checked that the counter runs at a constant rate, does not
stop in idle states and agrees across CPUs, and it stops using it (switching clocksource) if it
ever sees otherwise.  Ticks are converted against CLOCK_MONOTONIC over two short windows that
must agree; if anything looks wrong, lineprof stays on CLOCK_MONOTONIC.  LINEPROF_CLOCK
(``auto``, ``tsc``, ``monotonic``) overrides the choice (``environment.clock``).

The choice is made once per process, before the first profiling session starts (``ensure``,
called by ``LineProfiler``): a session never mixes clocks, and the C core refuses to switch
while one is running.
"""

from __future__ import annotations

import os
import sys
import time

from lineprof import _lineprof, environment

__all__ = ["choose", "current", "ensure", "tsc_unusable"]

CLOCKSOURCE = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
# Each of the two calibration windows (the first session waits for both).  0.25 ms: 200 runs on
# the 2-core CI machine under load all agreed, rates spread 8e-5; 1 ms windows cost 1.5 ms more.
WINDOW_S = 0.00025
# Longer windows tried, in turn, when two windows disagree: where reading the clocks is slow
# (valgrind, a loaded machine) a 1 ms window is too short to measure the rate within AGREEMENT.
RETRY_WINDOWS_S = (0.008, 0.064)
AGREEMENT = 1e-3  # the two windows' ns per tick must agree within 0.1%
SHIFT = 32  # the C core's fixed point: mult = ns per tick * 2**SHIFT
# ns per tick for any plausible TSC: 10 GHz .. 10 MHz.
MIN_NS_PER_TICK, MAX_NS_PER_TICK = 0.1, 100.0

_chosen: str | None = None  # the clock chosen for this process, once ensure() has run


def current() -> str:
    """The clock in use now: 'tsc' or 'monotonic' (the tests' fake clock aside)."""
    return _lineprof.clock_name()


def ensure() -> str:
    """Choose the clock if this process has not yet (LINEPROF_CLOCK decides); return it.
    Call only while no profiler is enabled."""
    global _chosen
    if _chosen is None:
        _chosen = choose(environment.clock())
    return _chosen


def choose(setting: str = "auto") -> str:
    """Switch the C core to the clock ``setting`` asks for ('auto', 'tsc' or 'monotonic'),
    measuring the counter's rate when it is to be used; return the clock now in use.  Raises
    RuntimeError while a profiler is enabled."""
    global _chosen
    if setting not in ("auto", "tsc", "monotonic"):
        _warn(f"LINEPROF_CLOCK={setting!r} is not one of auto, tsc, monotonic; using auto")
        setting = "auto"
    reason = "LINEPROF_CLOCK=monotonic" if setting == "monotonic" else tsc_unusable()
    constants = None
    if reason is None:
        for window in (WINDOW_S, *RETRY_WINDOWS_S):
            constants = calibrate(window)
            if constants is not None:
                break
        if constants is None:
            reason = "its rate against CLOCK_MONOTONIC could not be measured consistently"
    if constants is None:
        if setting == "tsc":
            _warn(f"the TSC clock cannot be used ({reason}); using CLOCK_MONOTONIC")
        _lineprof.use_monotonic()
    else:
        _lineprof.use_tsc(*constants)
    _chosen = current()
    return _chosen


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
        with open(CLOCKSOURCE, encoding="ascii") as file:
            source = file.read().strip()
    except OSError as exc:
        return f"cannot read the kernel's clocksource ({exc.strerror})"
    if source != "tsc":
        return f"the kernel keeps time with {source!r}, not the TSC"
    return None


def calibrate(window_s: float = WINDOW_S) -> tuple[int, int, int] | None:
    """(base_tsc, base_ns, mult) for ``_lineprof.use_tsc``, measured against CLOCK_MONOTONIC
    over two consecutive windows of ``window_s``; None when the windows disagree by more
    than AGREEMENT or the rate is not a plausible TSC's."""
    first = _paired_reading()
    time.sleep(window_s)
    middle = _paired_reading()
    time.sleep(window_s)
    last = _paired_reading()
    rates = []
    for (tsc0, ns0), (tsc1, ns1) in ((first, middle), (middle, last), (first, last)):
        if tsc1 <= tsc0 or ns1 <= ns0:
            return None  # a counter or clock that did not move forward
        rates.append((ns1 - ns0) / (tsc1 - tsc0))
    one, two, overall = rates
    if abs(one - two) > AGREEMENT * overall:
        return None
    if not MIN_NS_PER_TICK <= overall <= MAX_NS_PER_TICK:
        return None
    base_tsc, base_ns = last
    return base_tsc, base_ns, round(overall * (1 << SHIFT))


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

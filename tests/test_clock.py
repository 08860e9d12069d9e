"""The clock: the TSC clock where the kernel trusts the counter, CLOCK_MONOTONIC elsewhere or
when asked, the fake clock over both; and no switching while a session records."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest

from lineprof import LineProfiler, _lineprof, clock
from tests import targets
from tests.conftest import run_code

TSC_USABLE = clock.tsc_unusable() is None
needs_tsc = pytest.mark.skipif(not TSC_USABLE, reason=f"no TSC clock: {clock.tsc_unusable()}")
needs_tsc_build = pytest.mark.skipif(not _lineprof.tsc_available(), reason="no TSC in the build")


@pytest.fixture(autouse=True)
def restore_clock() -> Iterator[None]:
    """Leave the process on the clock it was on (the tests choose clocks of their own)."""
    was = clock.current()
    chosen = clock._chosen
    yield
    if was == "tsc":
        clock.choose("tsc")
    else:
        _lineprof.use_monotonic()
    clock._chosen = chosen


def ticking() -> None:
    targets.tick(7)  # @tick
    targets.tick(11)  # @tick2


# ---- the fake clock wins --------------------------------------------------------------------


@needs_tsc
@pytest.mark.usefixtures("fake_clock")
def test_the_fake_clock_wins_over_the_tsc(backend: str) -> None:
    assert clock.choose("tsc") == "tsc"
    assert _lineprof.now() == 1_000_000
    lp = LineProfiler(ticking, backend=backend, calibrate=False)
    lp.runcall(ticking)
    ((_, rows),) = lp.get_stats().timings.items()
    assert [(hits, ns) for _, hits, ns in rows] == [(1, 7), (1, 11)]


@pytest.mark.usefixtures("fake_clock")
def test_the_fake_clock_wins_over_monotonic() -> None:
    _lineprof.use_monotonic()
    assert _lineprof.now() == 1_000_000
    _lineprof.advance_fake_clock(5)
    assert _lineprof.now() == 1_000_005


# ---- the TSC clock --------------------------------------------------------------------------


@needs_tsc_build
def test_the_tsc_clock_reads_the_counter() -> None:
    _lineprof.use_tsc()
    assert _lineprof.clock_name() == "tsc"
    before = _lineprof.read_tsc()
    now = _lineprof.now()
    after = _lineprof.read_tsc()
    assert before <= now <= after


@needs_tsc_build
def test_use_tsc_takes_no_constants() -> None:
    _lineprof.use_monotonic()
    with pytest.raises(TypeError):
        _lineprof.use_tsc(1, 2, 3)  # type: ignore[call-arg]
    assert _lineprof.clock_name() == "monotonic"


@pytest.mark.skipif(_lineprof.tsc_available(), reason="this build has the TSC clock")
def test_without_the_tsc_the_option_does_not_exist() -> None:
    with pytest.raises(RuntimeError):
        _lineprof.read_tsc()
    with pytest.raises(RuntimeError):
        _lineprof.use_tsc()
    assert clock.tsc_unusable() is not None
    assert clock.choose("auto") == "monotonic"


@needs_tsc
def test_tsc_clock_never_goes_backwards() -> None:
    assert clock.choose("tsc") == "tsc"
    readings = [_lineprof.now() for _ in range(200_000)]
    assert readings == sorted(readings)
    assert readings[-1] > readings[0]


@needs_tsc
def test_tsc_clock_never_goes_backwards_across_threads() -> None:
    # Readings taken under a lock are in time order whichever thread (and CPU) took them.
    assert clock.choose("tsc") == "tsc"
    lock = threading.Lock()
    readings: list[int] = []

    def read() -> None:
        for _ in range(20_000):
            with lock:
                readings.append(_lineprof.now())

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=read) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert readings == sorted(readings)


@needs_tsc
def test_tsc_clock_agrees_with_monotonic_over_a_sleep() -> None:
    assert clock.choose("tsc") == "tsc"
    tsc0, mono0 = _lineprof.now(), time.monotonic_ns()
    time.sleep(0.05)
    tsc1, mono1 = _lineprof.now(), time.monotonic_ns()
    # Correctness, not precision: a wrong scale (a factor, a unit) is far outside this.
    assert 0.9 <= (tsc1 - tsc0) * clock.ns_per_unit() / (mono1 - mono0) <= 1.1


@needs_tsc
def test_a_line_read_right_after_the_choice_is_in_ns() -> None:
    """The counter's ticks come out as ns, at a rate measured over the session alone: a line
    that sleeps 20 ms reads 18-26 ms."""

    def nap() -> None:
        time.sleep(0.02)

    assert clock.choose("tsc") == "tsc"
    lp = LineProfiler(nap, calibrate=False)
    lp.runcall(nap)
    ((_, rows),) = lp.get_stats().timings.items()
    ((_, hits, ns),) = rows
    assert hits == 1
    assert 18_000_000 <= ns <= 26_000_000


@needs_tsc
def test_auto_uses_the_tsc_where_the_kernel_does() -> None:
    assert clock.choose("auto") == "tsc"


# ---- the counter's rate ---------------------------------------------------------------------


def readings(monkeypatch: pytest.MonkeyPatch, pairs: list[tuple[int, int]]) -> list[float]:
    """Feed the rate these (counter, ns) readings instead of real ones, and a TSC clock that is
    on; no sleeping: the list returned fills with the sleeps asked for."""
    feed = iter(pairs)
    slept: list[float] = []
    monkeypatch.setattr(clock, "_paired_reading", lambda: next(feed))
    monkeypatch.setattr(clock.time, "sleep", slept.append)
    monkeypatch.setattr(clock, "current", lambda: "tsc")
    monkeypatch.setattr(clock, "_origin", None)
    return slept


def test_the_rate_is_measured_from_the_choice_to_the_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0.4 ns per tick (2.5 GHz) over 20 ms.
    slept = readings(monkeypatch, [(1000, 0), (50_001_000, 20_000_000)])
    assert clock.ns_per_unit() == 0.4
    assert slept == []


def test_a_window_too_short_is_waited_out(monkeypatch: pytest.MonkeyPatch) -> None:
    slept = readings(monkeypatch, [(0, 0), (250_000, 100_000), (5_000_000, 2_000_000)])
    assert clock.ns_per_unit() == 0.4
    assert slept == [pytest.approx(clock.MIN_WINDOW_S - 0.0001)]


@pytest.mark.parametrize(
    "pairs",
    [
        [(0, 0), (0, 20_000_000)],  # counter stopped
        [(1_000, 0), (0, 20_000_000)],  # counter went back
        [(0, 0), (2_000, 20_000_000)],  # 100 kHz: no TSC
    ],
)
def test_a_rate_no_tsc_has_is_said(
    monkeypatch: pytest.MonkeyPatch, pairs: list[tuple[int, int]]
) -> None:
    readings(monkeypatch, pairs)
    with pytest.warns(RuntimeWarning, match="not a TSC's rate"):
        clock.ns_per_unit()


def test_the_fake_and_monotonic_clocks_are_in_ns(monkeypatch: pytest.MonkeyPatch) -> None:
    _lineprof.use_monotonic()
    assert clock.ns_per_unit() == 1.0
    readings(monkeypatch, [])  # not read: the fake clock wins over the counter
    _lineprof.set_fake_clock(True)
    try:
        assert clock.ns_per_unit() == 1.0
    finally:
        _lineprof.set_fake_clock(False)


def test_tsc_asked_for_where_unusable_warns_and_uses_monotonic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "tsc_unusable", lambda: "the kernel keeps time with 'hpet'")
    with pytest.warns(RuntimeWarning, match="hpet"):
        assert clock.choose("tsc") == "monotonic"
    assert clock.choose("auto") == "monotonic"  # auto says nothing


def test_unknown_setting_warns_and_means_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "tsc_unusable", lambda: "not here")
    with pytest.warns(RuntimeWarning, match="LINEPROF_CLOCK='fast'"):
        assert clock.choose("fast") == "monotonic"


def test_switching_while_profiling_is_refused(backend: str) -> None:
    lp = LineProfiler(ticking, backend=backend, calibrate=False)
    with lp:
        before = clock.current()  # enabling chose it, if nothing had yet
        with pytest.raises(RuntimeError, match="while profiling"):
            _lineprof.use_monotonic()
        if _lineprof.tsc_available():
            with pytest.raises(RuntimeError, match="while profiling"):
                _lineprof.use_tsc()
        with pytest.raises(RuntimeError, match="while profiling"):
            clock.choose("monotonic" if before == "tsc" else "auto")
        assert clock.current() == before
    _lineprof.use_monotonic()  # idle again: allowed


# ---- LINEPROF_CLOCK, at the first session of a process --------------------------------------

REPORT_CLOCK = """
    from lineprof import LineProfiler, _lineprof
    def f():
        return 1
    print(_lineprof.clock_name())
    lp = LineProfiler(f)
    lp.runcall(f)
    print(_lineprof.clock_name())
"""


def test_lineprof_clock_monotonic_forces_monotonic() -> None:
    result = run_code(REPORT_CLOCK, LINEPROF_CLOCK="monotonic")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["monotonic", "monotonic"]


@pytest.mark.parametrize("setting", ["auto", "", "tsc"])
def test_first_session_chooses_the_clock(setting: str) -> None:
    result = run_code(REPORT_CLOCK, LINEPROF_CLOCK=setting)
    assert result.returncode == 0, result.stderr
    expected = "tsc" if TSC_USABLE else "monotonic"
    assert result.stdout.split() == ["monotonic", expected]
    warned = "TSC clock cannot be used" in result.stderr
    assert warned == (setting == "tsc" and not TSC_USABLE)


def test_two_threads_starting_the_first_session_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """While one thread chooses the clock (reading files, the GIL let go), another starts its
    first session: it waits for the choice instead of choosing again once a session runs
    ("cannot change the clock while profiling" raised from enable(); a stress run on 3.12)."""
    monkeypatch.setattr(clock, "_chosen", None)
    real_check = clock.tsc_unusable
    other = LineProfiler(targets.basic)
    other_done = threading.Event()
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            other.enable()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        other_done.set()

    calls = 0

    def slow_check() -> str | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            threading.Thread(target=other_thread).start()
            other_done.wait(0.5)  # without the lock, the other thread's session starts here
        return real_check()

    monkeypatch.setattr(clock, "tsc_unusable", slow_check)
    lp = LineProfiler(targets.basic)
    try:
        lp.enable()
        assert other_done.wait(10)
    finally:
        lp.disable()
        other.disable()
    assert errors == []

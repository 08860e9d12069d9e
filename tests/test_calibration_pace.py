"""The machine's pace under the calibrated costs: what the C core measures of it, when a session
measures the costs again, and how the costs for a session's pace are interpolated.  Exact: the
fake clock, injected costs, and a stand-in for _lineprof.inside() where a pace must be set."""

from __future__ import annotations

import pytest

from lineprof import LineProfiler, _lineprof, calibration
from lineprof.calibration import Overhead
from tests import targets


class Pace:
    """Stands in for _lineprof.inside(): moves only when paced() runs, by ``per_call`` line
    events at ``at`` ns each."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.ns = 0
        self.events = 0
        self.at = 10.0
        self.per_call = 2000

    def inside(self) -> tuple[int, int]:
        return (self.ns, self.events)


PACE = Pace()


def paced() -> None:
    PACE.ns += int(PACE.at * PACE.per_call)
    PACE.events += PACE.per_call
    targets.tick(100)


def three_lines() -> None:
    a = 1  # noqa: F841
    targets.tick(5)
    a = 2  # noqa: F841


def untimed_lines() -> None:
    a = 1  # noqa: F841
    a = 2  # noqa: F841
    a = 3  # noqa: F841


@pytest.fixture
def pace(monkeypatch: pytest.MonkeyPatch, fake_clock: None) -> Pace:
    PACE.reset()
    monkeypatch.setattr(_lineprof, "inside", PACE.inside)
    return PACE


@pytest.fixture
def measurements(backend: str, monkeypatch: pytest.MonkeyPatch) -> list[Overhead]:
    """Costs measured at pace 10 ns (interval 20 ns), for the test's backend and the fake clock."""
    pool = [Overhead(interval_ns=20.0, pace_ns=10.0)]
    monkeypatch.setitem(calibration._measured, (backend, "fake"), pool)
    monkeypatch.setattr(calibration, "_remeasured", {})
    return pool


@pytest.fixture
def remeasured(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """calibration.measure replaced: each call returns costs at the stand-in's pace (interval
    twice the pace) and is noted with its backend; nothing may record while it runs."""
    calls: list[str] = []

    def measure(backend: str) -> Overhead:
        assert _lineprof.active_backend() is None
        calls.append(backend)
        return Overhead(interval_ns=2 * PACE.at, pace_ns=PACE.at)

    monkeypatch.setattr(calibration, "measure", measure)
    return calls


def run_at(lp: LineProfiler, at: float) -> None:
    PACE.at = at
    lp.runcall(paced)


def reported(lp: LineProfiler) -> int:
    ((_, rows),) = lp.get_stats().timings.items()
    return sum(t for _, _, t in rows)


# ---- what the C core measures ------------------------------------------------------------


@pytest.mark.usefixtures("fake_clock")
def test_inside_counts_the_line_events_that_begin_a_line(backend: str) -> None:
    lp = LineProfiler(three_lines, backend=backend, calibrate=False)
    ns, events = _lineprof.inside()
    for _ in range(4):
        lp.runcall(three_lines)
    after_ns, after_events = _lineprof.inside()
    assert after_events - events == 4 * 3
    assert after_ns == ns  # the fake clock stands still inside the callback


def test_inside_grows_with_the_real_clock(backend: str) -> None:
    lp = LineProfiler(untimed_lines, backend=backend, calibrate=False)
    ns, events = _lineprof.inside()
    lp.runcall(untimed_lines)
    after_ns, after_events = _lineprof.inside()
    assert after_events - events == 3
    assert after_ns > ns


# ---- the pace and the costs at it ----------------------------------------------------------


def test_pace_needs_line_events_and_a_moving_clock() -> None:
    assert calibration.pace(20 * 1000, 1000) == 20.0
    assert calibration.pace(20 * 999, 999) is None  # too few to say
    assert calibration.pace(0, 5000) is None  # the fake clock


def test_costs_are_interpolated_between_paces(monkeypatch: pytest.MonkeyPatch) -> None:
    key = ("monitoring", "fake")
    first = Overhead(interval_ns=40.0, event_ns=4.0, pace_ns=20.0)
    pool = [first, Overhead(interval_ns=20.0, event_ns=2.0, pace_ns=10.0)]
    monkeypatch.setitem(calibration._measured, key, pool)
    at = calibration.cached
    assert at(key, 15.0) == Overhead(interval_ns=30.0, event_ns=3.0, pace_ns=15.0)
    assert at(key, 12.5) == Overhead(interval_ns=25.0, event_ns=2.5, pace_ns=12.5)
    assert at(key, 5.0) == pool[1]  # nothing below the fastest measurement
    assert at(key, 25.0) == first  # nor above the slowest
    assert at(key, None) == first  # the pace unknown: the first measurement
    pool.append(Overhead(interval_ns=100.0, pace_ns=30.0))
    assert at(key, 25.0) == Overhead(interval_ns=70.0, event_ns=2.0, pace_ns=25.0)
    assert at(("settrace", "fake"), 15.0) is None  # nothing measured for it


def test_one_measurement_serves_every_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    key = ("monitoring", "fake")
    only = Overhead(interval_ns=40.0, pace_ns=20.0)
    monkeypatch.setitem(calibration._measured, key, [only])
    assert calibration.cached(key, 10.0) is only


# ---- the profiler's sessions ----------------------------------------------------------------


@pytest.mark.usefixtures("measurements", "remeasured")
def test_get_stats_takes_out_the_costs_at_the_pace_it_ran(backend: str, pace: Pace) -> None:
    calibration._measured[(backend, "fake")].append(Overhead(interval_ns=40.0, pace_ns=20.0))
    lp = LineProfiler(paced, backend=backend)
    run_at(lp, 15.0)
    # One line, one interval of 100 ns; at pace 15 an interval costs 30 ns.
    assert reported(lp) == 100 - 30
    assert lp.get_stats().metadata.overhead["pace_ns"] == 15.0
    run_at(lp, 20.0)  # two sessions, at 15 and 20: together at 17.5
    assert reported(lp) == 200 - 2 * 35
    lp.clear()
    run_at(lp, 10.0)
    assert reported(lp) == 100 - 20


def test_a_session_at_a_new_pace_measures_again(
    backend: str, pace: Pace, measurements: list[Overhead], remeasured: list[str]
) -> None:
    lp = LineProfiler(paced, backend=backend)
    run_at(lp, 10.9)  # within PACE_TOLERANCE of the measurement at 10
    assert remeasured == []
    run_at(lp, 20.0)
    assert remeasured == [backend]
    assert [o.pace_ns for o in measurements] == [10.0, 20.0]
    run_at(lp, 21.0)  # near the new one
    assert remeasured == [backend]
    # Three sessions at 10.9, 20 and 21: 17.3 on average, 73% of the way from 10 to 20.
    assert reported(lp) == round(300 - 3 * (20 + 20 * 0.73))


@pytest.mark.usefixtures("pace")
def test_measuring_again_stops_at_the_limit(
    backend: str, measurements: list[Overhead], remeasured: list[str]
) -> None:
    lp = LineProfiler(paced, backend=backend)
    for at in (20.0, 30.0, 40.0, 50.0, 60.0):
        run_at(lp, at)
    assert len(remeasured) == calibration.REMEASURES == 3
    assert [o.pace_ns for o in measurements] == [10.0, 20.0, 30.0, 40.0]


@pytest.mark.usefixtures("pace")
def test_a_new_measurement_at_a_pace_measured_already_is_not_kept(
    backend: str, measurements: list[Overhead], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def measure(backend: str) -> Overhead:
        calls.append(backend)
        return Overhead(interval_ns=99.0, pace_ns=10.5)  # the machine had not changed

    monkeypatch.setattr(calibration, "measure", measure)
    lp = LineProfiler(paced, backend=backend)
    for _ in range(5):
        run_at(lp, 13.0)  # this code's line events cost more than the measurement's
    assert calls == [backend] * calibration.REMEASURES
    assert measurements == [Overhead(interval_ns=20.0, pace_ns=10.0)]
    assert reported(lp) == 500 - 5 * 20


@pytest.mark.usefixtures("pace", "measurements")
def test_no_new_measurement_while_another_profiler_records(
    backend: str, remeasured: list[str]
) -> None:
    outer = LineProfiler(three_lines, backend=backend)
    inner = LineProfiler(paced, backend=backend)
    outer.enable()
    try:
        run_at(inner, 30.0)
        assert remeasured == []
    finally:
        outer.disable()
    assert remeasured == [backend]  # the outer session saw that pace too, and ended last


@pytest.mark.usefixtures("pace", "measurements")
def test_no_new_measurement_without_calibration(backend: str, remeasured: list[str]) -> None:
    run_at(LineProfiler(paced, backend=backend, calibrate=False), 30.0)
    assert remeasured == []


@pytest.mark.usefixtures("pace", "measurements")
def test_no_new_measurement_from_a_session_too_short_to_tell(
    backend: str, remeasured: list[str]
) -> None:
    PACE.per_call = calibration.PACE_MIN_EVENTS - 1
    run_at(LineProfiler(paced, backend=backend), 30.0)
    assert remeasured == []


@pytest.mark.usefixtures("pace")
def test_a_failing_measurement_never_breaks_the_program(
    backend: str, measurements: list[Overhead], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(backend: str) -> Overhead:
        raise RuntimeError("the hook is taken")

    monkeypatch.setattr(calibration, "measure", broken)
    lp = LineProfiler(paced, backend=backend)
    run_at(lp, 30.0)
    assert len(measurements) == 1
    assert reported(lp) == 100 - 20

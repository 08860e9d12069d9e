"""The clock's own figures stay available: results record what lineprof took out of each line,
so ``raw()``, ``lineprof show --raw FILE`` and the report's header can give them back or say
which kind a report shows, from either file format, exactly (fake clock stepping STEP ns a read,
as in test_own_cost: the call line reads 4*STEP corrected (5 where the gap before a frame's
first line stays in it: conftest.start_gap) and 9*STEP raw, and under setprofile two more reads
raw, both taken out: conftest.pair_reads).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from lineprof import LineProfiler, LineStats, cli, lprof_format
from lineprof.results import load_stats
from lineprof.stats import TIMES_CORRECTED, TIMES_RAW, ResultsFileError
from tests.conftest import STEP, marks, pair_reads, start_gap

pytestmark = pytest.mark.usefixtures("stepping_clock")

CORRECTED_HEADER = "Timer unit: 1e-09 s\nTimes: lineprof's own measured cost taken out\n\n"
RAW_HEADER = "Timer unit: 1e-09 s\nTimes: raw, as the clock read them\n\n"


def callee() -> int:
    a = 1  # @c1
    return a  # @c2


def caller() -> None:
    callee()  # @call
    callee()  # @again


CALL = marks(caller)["call"]
AGAIN = marks(caller)["again"]


def results(backend: str, calibrate: bool = True) -> LineStats:
    lp = LineProfiler(callee, caller, backend=backend, calibrate=calibrate)
    lp.runcall(caller)
    return lp.get_stats()


def key_of(stats: LineStats, func: Callable[..., object]) -> tuple[str, int, str]:
    return next(key for key in stats.timings if key[2] == func.__qualname__)


def time_of(stats: LineStats, func: Callable[..., object], line: int) -> int:
    return next(t for ln, _, t in stats.timings[key_of(stats, func)] if ln == line)


def test_corrected_results_say_what_was_taken_out(backend: str) -> None:
    stats = results(backend)
    assert stats.times == TIMES_CORRECTED
    # Each call's start, two line events and return measured STEP each inside the line, and
    # so did the gap from the callee's start to its first line (where it is lineprof's own).
    pair = pair_reads(backend)  # per call and return; AGAIN also ends with the caller's return
    own = 4 + start_gap()
    expected = {
        key_of(stats, caller): {CALL: (own + 2 * pair) * STEP, AGAIN: (own + 3 * pair) * STEP}
    }
    if pair:
        expected[key_of(stats, callee)] = {marks(callee)["c2"]: 2 * pair * STEP}
    assert stats.subtracted == expected
    assert time_of(stats, caller, CALL) == (5 - start_gap()) * STEP


def test_raw_gives_back_what_calibrate_false_records(backend: str) -> None:
    raw = results(backend).raw()
    assert raw.times == TIMES_RAW and raw.subtracted is None
    assert time_of(raw, caller, CALL) == (9 + 2 * pair_reads(backend)) * STEP
    assert raw == results(backend, calibrate=False)
    assert results(backend, calibrate=False).times == TIMES_RAW
    assert raw.raw() == raw


@pytest.mark.parametrize("suffix", [".json", ".lprof"])
def test_files_keep_what_was_taken_out(backend: str, tmp_path: Path, suffix: str) -> None:
    stats = results(backend)
    path = tmp_path / f"out{suffix}"
    stats.dump(path)
    loaded = load_stats(path)
    assert loaded.times == TIMES_CORRECTED
    assert loaded.subtracted == stats.subtracted
    assert loaded.raw() == stats.raw()
    results(backend, calibrate=False).dump(path)
    assert load_stats(path).times == TIMES_RAW


def test_the_lprof_file_is_still_line_profilers(backend: str, tmp_path: Path) -> None:
    """line_profiler's unpickler makes lineprof's entries plain attributes it never reads."""
    path = tmp_path / "out.lprof"
    stats = results(backend)
    stats.dump(path)

    class LineStatsStandIn:
        pass

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> type:
            assert (module, name) == lprof_format.WRITE_CLASS
            return LineStatsStandIn

    with open(path, "rb") as stream:
        obj = Unpickler(stream).load()
    assert obj.timings == {k: [tuple(r) for r in v] for k, v in stats.timings.items()}
    assert obj.unit == 1e-9
    assert obj.lineprof_times == TIMES_CORRECTED


def test_line_profiler_results_cannot_say(backend: str, tmp_path: Path) -> None:
    stats = results(backend)
    path = tmp_path / "lp.lprof"
    path.write_bytes(lprof_format.dumps(stats.timings, stats.unit))  # no lineprof entries
    loaded = load_stats(path)
    assert loaded.times is None and loaded.subtracted is None
    with pytest.raises(ValueError, match="do not record what lineprof subtracted"):
        loaded.raw()
    assert cli.main(["show", "--raw", str(path)]) == 1


def test_merge_keeps_the_kinds_apart(backend: str) -> None:
    a, b = results(backend), results(backend)
    both = LineStats.merge([a, b])
    assert both.times == TIMES_CORRECTED
    pair = pair_reads(backend)
    assert both.subtracted is not None and a.subtracted is not None
    assert both.subtracted[key_of(a, caller)] == {
        CALL: 2 * (4 + start_gap() + 2 * pair) * STEP,
        AGAIN: 2 * (4 + start_gap() + 3 * pair) * STEP,
    }
    assert both.subtracted == {
        key: {line: 2 * ns for line, ns in lines.items()} for key, lines in a.subtracted.items()
    }
    assert time_of(both, caller, CALL) == 2 * (5 - start_gap()) * STEP
    # Corrected with raw: every input made raw, so no line adds a corrected time to a raw one.
    mixed = LineStats.merge([a, results(backend, calibrate=False)])
    assert mixed.times == TIMES_RAW
    assert time_of(mixed, caller, CALL) == 2 * (9 + 2 * pair) * STEP
    # With results that cannot say (line_profiler's: the clock's figures), neither can the
    # merge; the corrected ones are made raw first, as with raw ones.
    unknown = LineStats.merge([a, LineStats(a.raw().timings, a.unit)])
    assert unknown.times is None and unknown.subtracted is None
    assert time_of(unknown, caller, CALL) == 2 * (9 + 2 * pair) * STEP


def test_show_raw(backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "out.json"
    results(backend).dump(path)
    assert cli.main(["show", str(path)]) == 0
    corrected = capsys.readouterr().out
    assert corrected.startswith(CORRECTED_HEADER)
    assert cli.main(["show", "--raw", str(path)]) == 0
    raw = capsys.readouterr().out
    assert raw.startswith(RAW_HEADER)
    path_raw = tmp_path / "raw.json"
    results(backend, calibrate=False).dump(path_raw)
    assert cli.main(["show", str(path_raw)]) == 0
    assert capsys.readouterr().out == raw
    row = next(line for line in raw.splitlines() if line.rstrip().endswith("# @call"))
    assert row.split()[:3] == [str(CALL), "1", f"{(9 + 2 * pair_reads(backend)) * STEP:.1f}"]


def written(stats: LineStats) -> dict[str, object]:
    data: dict[str, object] = json.loads(stats.to_json())
    return data


@pytest.mark.parametrize(
    "spoil, why",
    [
        (lambda d: d.update(times="adjusted"), "'times' must be"),
        (lambda d: d.update(times="raw"), "has 'subtracted' but the file's 'times'"),
        (lambda d: d.pop("times"), "has 'subtracted' but the file's 'times'"),
        (lambda d: d["functions"][-1].update(subtracted=[[1, 5]]), "not among its 'lines'"),
        (lambda d: d["functions"][-1]["subtracted"][0].__setitem__(1, -1), "negative"),
        (lambda d: d["functions"][-1]["subtracted"].append([CALL, 1]), "twice"),
        (lambda d: d["functions"][-1].update(subtracted={"x": 1}), "must be a list"),
        (lambda d: d["functions"][-1]["subtracted"].append([CALL]), "integers"),
    ],
)
def test_bad_records_are_refused(backend: str, tmp_path: Path, spoil: object, why: str) -> None:
    data = written(results(backend))
    functions = data["functions"]
    assert isinstance(functions, list)
    # the caller is the function with "subtracted"; put it last for the lambdas above
    functions.sort(key=lambda item: "subtracted" in item)
    assert callable(spoil)
    spoil(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsFileError, match=why):
        load_stats(path)


def test_bad_lprof_records_are_refused(backend: str, tmp_path: Path) -> None:
    stats = results(backend)
    path = tmp_path / "bad.lprof"
    for extra, why in [
        ({"lineprof_times": "adjusted"}, "lineprof_times"),
        ({"lineprof_times": TIMES_RAW, "lineprof_subtracted": {}}, None),
        (
            {"lineprof_times": TIMES_RAW, "lineprof_subtracted": {key_of(stats, caller): []}},
            "does not go with its times",
        ),
        (
            {
                "lineprof_times": TIMES_CORRECTED,
                "lineprof_subtracted": {("gone.py", 1, "f"): [[1, 1]]},
            },
            "has no timings",
        ),
    ]:
        path.write_bytes(lprof_format.dumps(stats.timings, stats.unit, extra))
        if why is None:
            assert load_stats(path).times == TIMES_RAW
            continue
        with pytest.raises(ResultsFileError, match=why):
            load_stats(path)
    with pytest.raises(ValueError, match="lineprof_"):
        lprof_format.dumps(stats.timings, stats.unit, {"times": TIMES_RAW})
    with pytest.raises(ValueError, match="plain data"):
        lprof_format.dumps(stats.timings, stats.unit, {"lineprof_x": Path("a")})


def test_subtracted_must_match_the_timings() -> None:
    timings = {("f.py", 1, "f"): [(2, 1, 10)]}
    with pytest.raises(ValueError, match="no timings for"):
        LineStats(timings, 1e-9, subtracted={("f.py", 1, "f"): {3: 5}})
    with pytest.raises(ValueError, match="negative"):
        LineStats(timings, 1e-9, subtracted={("f.py", 1, "f"): {2: -5}})
    with pytest.raises(ValueError, match="nothing subtracted"):
        LineStats(timings, 1e-9, subtracted={}, raw=True)
    stats = LineStats(timings, 1e-9, subtracted={("f.py", 1, "f"): {2: 5, 3: 0}})
    assert stats.subtracted == {("f.py", 1, "f"): {2: 5}}
    assert stats.raw().timings == {("f.py", 1, "f"): [(2, 1, 15)]}

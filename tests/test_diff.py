"""lineprof diff: two real runs of a function before and after an edit, compared line by line.

The function is compiled from a file written here, edited, and compiled again from the same
path, as a program is between two runs.  With the fake clock (moves only when the code calls
``tick``), every time below is exact; one test runs the real clock on a 10x slower line.
"""

from __future__ import annotations

import json
import linecache
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lineprof import LineProfiler, _lineprof, cli
from lineprof.diff import ADDED, CHANGED, REMOVED, SAME, diff_stats, fail_over, format_diff
from lineprof.results import LineStats

BEFORE = """\
COST = 100_000


def helper():
    tick(5_000)


def work():
    total = 0
    for i in range(3):
        total += i
    tick(50_000)
    tick(COST)
    label = "<b>&"
    helper()
    return total
"""

# COST ten times higher (the line itself is unchanged), a line inserted above it, the
# tick(50_000) line removed; a comment above everything moves both functions down.
AFTER = """\
COST = 1_000_000
# moved down by this comment


def helper():
    tick(5_000)


def work():
    total = 0
    tick(20_000)
    for i in range(3):
        total += i
    tick(COST)
    label = "<b>&"
    helper()
    return total
"""


def line_of(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if line.strip() == text)


def profile_source(
    path: Path, source: str, backend: str, extra: dict[str, Any] | None = None
) -> LineStats:
    """Write ``source`` to ``path``, compile and run its work() under a profiler of both its
    functions; the results hold the source as it was."""
    path.write_text(source)
    linecache.checkcache(str(path))
    namespace: dict[str, Any] = {"tick": _lineprof.advance_fake_clock, **(extra or {})}
    exec(compile(source, str(path), "exec"), namespace)
    lp = LineProfiler(namespace["work"], namespace["helper"], backend=backend)
    lp.runcall(namespace["work"])
    return lp.get_stats()


@pytest.fixture
def runs(backend: str, tmp_path: Path, fake_clock: None) -> tuple[LineStats, LineStats]:
    path = tmp_path / "program.py"
    return profile_source(path, BEFORE, backend), profile_source(path, AFTER, backend)


def test_slowed_line_leads_and_lines_are_matched_by_text(
    runs: tuple[LineStats, LineStats],
) -> None:
    diff = diff_stats(*runs)
    assert [f.qualname for f in diff.functions] == ["work", "helper"]
    work = diff.functions[0]
    assert (work.old_first, work.new_first) == (8, 9)
    assert (work.old_total, work.new_total) == (155_000, 1_025_000)
    by_text = {row.text.strip(): row for row in work.rows}

    slowed = work.largest
    assert slowed is by_text["tick(COST)"]
    assert (slowed.kind, slowed.old_line, slowed.new_line) == (
        SAME,
        line_of(BEFORE, "tick(COST)"),
        line_of(AFTER, "tick(COST)"),
    )
    assert slowed.new_line != slowed.old_line  # moved, and still matched
    assert (slowed.old_hits, slowed.new_hits) == (1, 1)
    assert (slowed.old_time, slowed.new_time) == (100_000, 1_000_000)
    assert slowed.per_hit_delta == 900_000
    assert slowed.significant

    inserted = by_text["tick(20_000)"]
    assert (inserted.kind, inserted.old_line, inserted.new_line) == (ADDED, None, 11)
    assert (inserted.old_hits, inserted.new_hits, inserted.new_time) == (None, 1, 20_000)
    removed = by_text["tick(50_000)"]
    assert (removed.kind, removed.old_line, removed.new_line) == (REMOVED, 12, None)
    assert (removed.old_hits, removed.new_hits, removed.old_time) == (1, None, 50_000)
    loop = by_text["total += i"]
    assert (loop.kind, loop.old_line, loop.new_line, loop.marker) == (SAME, 11, 13, "~")
    assert [row.kind for row in work.rows].count(SAME) == len(work.rows) - 2

    helper = diff.functions[1]
    assert (helper.old_first, helper.new_first) == (4, 5)
    assert [row.marker for row in helper.rows] == [" ", "~"]
    assert helper.delta == 0 and helper.largest is None


def test_text_names_the_slowed_line_first(runs: tuple[LineStats, LineStats]) -> None:
    text = format_diff(diff_stats(*runs), output_unit=1e-6, names=("before.json", "after.json"))
    lines = text.splitlines()
    assert lines[0] == "Timer unit: 1e-06 s"
    assert "OLD: before.json" in lines and "NEW: after.json" in lines
    functions = [line for line in lines if line.startswith("Function:")]
    assert functions == [
        "Function: work at line 8 in OLD, 9 in NEW",
        "Function: helper at line 4 in OLD, 5 in NEW",
    ]
    assert "Total time: 0.000155 s -> 0.001025 s (+0.00087 s, +561.3%)" in lines
    assert "Largest change: line 14, +0.0009 s: tick(COST)" in lines

    def row(text: str) -> list[str]:
        return next(x for x in lines if x.endswith(text) and x[:1] in " +-~!").split()

    # marker, old #, new #, hits old, hits new, time old, time new, diff, per hit, % of old
    assert row("tick(COST)")[:8] == ["13", "14", "1", "1", "100.0", "1000.0", "+900.0", "+900.0"]
    assert row("tick(COST)")[8] == "+580.6"
    assert row("tick(20_000)")[:6] == ["+", "11", "1", "20.0", "+20.0", "+12.9"]
    assert row("tick(50_000)")[:6] == ["-", "12", "1", "50.0", "-50.0", "-32.3"]
    assert row("total += i")[:3] == ["~", "11", "13"]


def test_fail_over(backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "program.py"
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    again = tmp_path / "again.lprof"  # no sources in this format: read from the file
    _lineprof.set_fake_clock(True, 1_000_000)
    try:
        profile_source(path, BEFORE, backend).dump(old)
        profile_source(path, AFTER, backend).dump(new)
        profile_source(path, AFTER, backend).dump(again)
    finally:
        _lineprof.set_fake_clock(False)

    assert cli.main(["diff", "--fail-over", "50", str(old), str(new)]) == 1
    out, err = capsys.readouterr()
    assert out.count("Function:") == 2
    assert err.splitlines() == [
        f"lineprof: fail-over: work ({path}:9): total time grew by 561.3% (over 50%): "
        "0.000155 s -> 0.001025 s"
    ]
    # tick(COST): 100/155 of the old total (64.5%), 1000/1025 of the new (97.6%)
    assert cli.main(["diff", "--fail-over", "30", str(old), str(new)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert err[1] == (
        f"lineprof: fail-over: work ({path}:9) line 14: share of the function grew by "
        "33.0 points (over 30): 64.5% -> 97.6%: tick(COST)"
    )
    assert cli.main(["diff", "--fail-over", "600", str(old), str(new)]) == 0
    assert capsys.readouterr().err == ""
    # the other way round the function shrank; tick(50_000)'s share grew by 32.3 points
    assert cli.main(["diff", "--fail-over", "40", str(new), str(old)]) == 0
    assert capsys.readouterr().err == ""
    assert cli.main(["diff", "--fail-over", "30", str(new), str(old)]) == 1
    assert "line 12: share of the function grew by 32.3 points" in capsys.readouterr().err
    # unchanged code, a .json against an .lprof: nothing changed, even at 0%
    assert cli.main(["diff", "--fail-over", "0", str(new), str(again)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "Total time: 0.001025 s -> 0.001025 s (0 s, +0.0%)" in out
    assert "\n- " not in out and "\n+ " not in out


def test_real_clock_ten_times_slower_line(backend: str, tmp_path: Path) -> None:
    def wait(n: int) -> None:
        """n / 2 µs of sleep: a known wait, so the ratio holds on a slow build too (a busy
        loop under ASan read 1.2x where it should 10x), and long enough (10 ms against
        100 ms) that a sleep overshooting by a few ms on a loaded machine does not bend it
        (at 2 against 20 ms, 2 read 5.9 once: a ratio of 3.4)."""
        time.sleep(n * 5e-7)

    path = tmp_path / "program.py"
    extra: dict[str, Callable[..., Any]] = {"tick": wait}
    old = profile_source(path, BEFORE.replace("100_000", "20_000"), backend, extra)
    new = profile_source(path, BEFORE.replace("100_000", "200_000"), backend, extra)
    diff = diff_stats(old, new)
    work = diff.functions[0]
    assert work.qualname == "work"
    assert work.largest is not None and work.largest.text.strip() == "tick(COST)"
    assert all(row.kind == SAME for row in work.rows)
    assert 4 < work.largest.new_time / work.largest.old_time < 25
    # tick(COST)'s share grows from about 27% to 78% of the function's time
    # (helper, unchanged, is left out: on a loaded machine its real time can move by 30 %)
    messages = [m for m in fail_over(diff, 30) if m.startswith("work ")]
    assert len(messages) == 2 and messages[1].endswith("tick(COST)")


def stats(rows: list[tuple[int, int, int]], source: list[str]) -> LineStats:
    key = ("/nonexistent/m.py", 1, "f")
    return LineStats({key: rows}, 1e-9, {key: source}, raw=True)


@pytest.mark.parametrize(
    "old, new, significant",
    [
        ((3, 1_000_000), (3, 1_049_000), False),  # 4.9 %: noise
        ((3, 1_000_000), (3, 951_000), False),
        ((3, 1_000_000), (3, 1_051_000), True),  # 5.1 %
        ((3, 1_000_000), (4, 1_000_000), True),  # hits differ: never noise
        ((3, 1_000), (3, 1_990), False),  # 99 % but under 1 µs
        ((3, 1_000), (3, 2_000), True),  # 1 µs
        ((0, 0), (0, 0), False),
    ],
)
def test_noise_rule(old: tuple[int, int], new: tuple[int, int], significant: bool) -> None:
    source = ["def f():", "    x = 1"]
    diff = diff_stats(stats([(2, *old)], source), stats([(2, *new)], source))
    row = diff.functions[0].rows[1]
    assert row.significant is significant
    assert row.marker == (" " if significant else "~")
    assert bool(fail_over(diff, 0)) is (significant and new[1] > old[1])


def test_fail_over_from_nothing() -> None:
    source = ["def f():", "    x = 1"]
    diff = diff_stats(stats([(2, 0, 0)], source), stats([(2, 3, 2_000_000)], source))
    assert fail_over(diff, 10) == [
        "f (/nonexistent/m.py:1): total time grew from 0 (over 10%): 0 s -> 0.002 s",
        "f (/nonexistent/m.py:1) line 2: share of the function grew by 100.0 points (over 10): "
        "0.0% -> 100.0%: x = 1",
    ]


def test_a_changed_line_pairs_with_its_old_self() -> None:
    old = stats(
        [(2, 1, 10), (3, 1001, 5_000), (4, 1, 7)],
        ["def f():", "    x = 1", "    for i in range(1000):", "    return x"],
    )
    new = stats(
        [(2, 1, 10), (3, 10001, 50_000), (4, 1, 9), (5, 1, 7)],
        ["def f():", "    x = 1", "    for i in range(10000):", "    y = 2", "    return x"],
    )
    rows = diff_stats(old, new).functions[0].rows
    kinds = [(row.kind, row.old_line, row.new_line) for row in rows]
    assert kinds == [(SAME, 1, 1), (SAME, 2, 2), (CHANGED, 3, 3), (ADDED, None, 4), (SAME, 4, 5)]
    assert rows[2].old_text == "    for i in range(1000):"
    assert rows[2].text == "    for i in range(10000):"
    assert (rows[2].delta, rows[2].marker) == (45_000, "!")


def test_functions_in_one_run_only_and_skip_zero() -> None:
    gone = ("/nonexistent/m.py", 1, "gone")
    idle = ("/nonexistent/m.py", 5, "idle")
    born = ("/nonexistent/m.py", 9, "born")
    old = LineStats({gone: [(2, 1, 3_000)], idle: [(6, 0, 0)]}, 1e-9)
    new = LineStats({born: [(10, 2, 8_000)], idle: [(6, 0, 0)]}, 1e-6)  # coarser unit
    diff = diff_stats(old, new)
    assert diff.unit == 1e-9
    assert [(f.qualname, f.old_total, f.new_total) for f in diff.functions] == [
        ("born", 0, 8_000_000),
        ("gone", 3_000, 0),
        ("idle", 0, 0),
    ]
    assert fail_over(diff, 0) == []  # functions in one run only are not judged
    text = format_diff(diff)
    assert "Function: born at line 9 (only in NEW)" in text
    assert "Function: gone at line 1 (only in OLD)" in text
    assert "(source not available: /nonexistent/m.py cannot be read" in text
    assert "idle" in text and "idle" not in format_diff(diff, skip_zero=True)


def test_a_kernprof_run_pairs_with_a_lineprof_run_of_the_same_file() -> None:
    """kernprof records a script as it was given (``m.py``), lineprof with its whole path:
    the same function in both runs is compared, not listed once in each."""
    old = LineStats({("m.py", 1, "work"): [(2, 1, 3_000)]}, 1e-9)
    new = LineStats({("/nonexistent/m.py", 1, "work"): [(2, 1, 9_000)]}, 1e-9)
    diff = diff_stats(old, new)
    assert [(f.qualname, f.old_total, f.new_total) for f in diff.functions] == [
        ("work", 3_000, 9_000)
    ]
    other = LineStats({("/elsewhere/m.py", 1, "work"): [(2, 1, 1)], **new.timings}, 1e-9)
    assert len(diff_stats(old, other).functions) == 3  # which m.py it was is not known


def test_bad_files_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    LineStats({("/nonexistent/m.py", 1, "f"): [(2, 1, 5)]}, 1e-9).dump(good)
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    cases = [
        (["missing.json", "good.json"], "lineprof: error: cannot read "),
        (["good.json", "junk.json"], "lineprof: error: "),
        (["other.json", "good.json"], "lineprof: error: "),
    ]
    for names, start in cases:
        status = cli.main(["diff", *(str(tmp_path / name) for name in names)])
        out, err = capsys.readouterr()
        assert status == 1, names
        assert out == ""
        assert len(err.splitlines()) == 1 and err.startswith(start), err
        assert "Traceback" not in err
    assert cli.main(["diff", str(good)]) == 2  # NEW missing: usage error
    assert "required" in capsys.readouterr().err
    assert cli.main(["diff", "--fail-over", "-3", str(good), str(good)]) == 2
    assert "percentage" in capsys.readouterr().err


def test_html(runs: tuple[LineStats, LineStats], tmp_path: Path) -> None:
    old, new, page = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "diff.html"
    runs[0].dump(old)
    runs[1].dump(new)
    assert cli.main(["diff", "--html", str(page), str(old), str(new)]) == 0
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert html.index(">work<") < html.index(">helper<")
    assert '<tr class="added">' in html and '<tr class="removed">' in html
    assert "tick(20_000)" in html and "tick(50_000)" in html
    assert 'label = "&lt;b&gt;&amp;"' in html.replace("&quot;", '"')
    assert "<b>&" not in html
    slowed = next(row for row in html.split("<tr") if "tick(COST)</pre>" in row)
    assert '<td class="num">+900000.0</td>' in slowed  # ns: the finer unit
    assert 'class="bar new" style="width:100.00%"' in slowed
    assert 'class="bar old" style="width:10.00%"' in slowed


def test_a_reindented_line_is_the_same_line() -> None:
    old = stats([(2, 1, 4_000)], ["def f():", "    x = 1"])
    new = stats([(2, 1, 100), (3, 1, 4_000)], ["def f():", "    if True:", "        x = 1"])
    rows = diff_stats(old, new).functions[0].rows
    assert [(row.kind, row.old_line, row.new_line, row.marker) for row in rows] == [
        (SAME, 1, 1, " "),
        (ADDED, None, 2, "+"),
        (SAME, 2, 3, "~"),
    ]

"""The text report: line_profiler 5's layout, pinned by golden files and, when line_profiler is
installed, compared byte for byte with its own show_func/show_text."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest

from lineprof import LineProfiler
from lineprof.report import format_func, format_text
from tests import targets

GOLDEN = Path(__file__).parent / "golden"
TARGETS_FILE = targets.__file__


def golden(name: str, text: str) -> None:
    """Compare with tests/golden/<name>; LINEPROF_REGOLD=1 rewrites the file."""
    text = text.replace(TARGETS_FILE, "<targets.py>")
    path = GOLDEN / name
    if os.environ.get("LINEPROF_REGOLD"):
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.usefixtures("fake_clock")
def test_golden_report(backend: str) -> None:
    lp = LineProfiler(targets.basic, targets.rec, targets.multi_line, backend=backend)
    lp.runcall(targets.basic, 3)
    lp.runcall(targets.rec, 2)
    out = io.StringIO()
    lp.print_stats(stream=out)
    golden("report.txt", out.getvalue())
    out = io.StringIO()
    lp.print_stats(stream=out, output_unit=1e-6, stripzeros=True, summarize=True, sort=True)
    golden("report_us_stripped_sorted.txt", out.getvalue())


def test_missing_source_prints_a_notice_and_the_numbers() -> None:
    text = format_func("/nonexistent/gone.py", 3, "f", [(4, 1, 10), (6, 2, 20)], 1e-9)
    golden("missing_source.txt", text)


def test_wide_values_switch_to_three_significant_digits() -> None:
    first = targets.basic.__code__.co_firstlineno
    timings = [
        (first + 1, 1, 5),
        (first + 2, 123456789, 99999999999999),
        (first + 3, 3, 123456789012),
        (first + 5, 10**12, 7),
    ]
    text = format_func(TARGETS_FILE, first, "basic", timings, 1e-9)
    golden("wide_values.txt", text)


def test_never_hit_function_and_stripzeros() -> None:
    first = targets.basic.__code__.co_firstlineno
    assert format_func(TARGETS_FILE, first, "basic", [], 1e-9, stripzeros=True) == ""
    text = format_func(TARGETS_FILE, first, "basic", [], 1e-9)
    assert text.startswith("Total time: 0 s\n")
    assert all(line[6:49].strip() == "" for line in text.splitlines()[6:-1]), (
        "no numbers for lines never hit"
    )


def test_stripzeros_keeps_a_function_that_ran_in_no_time() -> None:
    """With lineprof's own cost taken out, a function that ran briefly can total 0 ns: -z
    hides functions that never ran, not those."""
    first = targets.basic.__code__.co_firstlineno
    ran = [(first + 1, 1, 0)]
    assert format_func(TARGETS_FILE, first, "basic", ran, 1e-9, stripzeros=True) != ""
    never = [(first + 1, 0, 0)]
    assert format_func(TARGETS_FILE, first, "basic", never, 1e-9, stripzeros=True) == ""
    stats = {(TARGETS_FILE, first, "basic"): ran, (TARGETS_FILE, first + 100, "gone"): never}
    text = format_text(stats, 1e-9, details=False, summarize=True, stripzeros=True)
    assert [line.split(" - ")[-1] for line in text.splitlines()[2:]] == ["basic"]


def test_hits_with_no_time_leave_percent_blank() -> None:
    first = targets.basic.__code__.co_firstlineno
    text = format_func(TARGETS_FILE, first, "basic", [(first + 1, 1, 0)], 1e-9)
    row = text.splitlines()[7]
    assert row[:49] == f"{first + 1:6d} {1:9d} {'0.0':>12} {'0.0':>8} {'':>8}  "


# ---- byte-for-byte against line_profiler ------------------------------------------------------


def _line_profiler():  # type: ignore[no-untyped-def]
    return pytest.importorskip("line_profiler.line_profiler")


def _random_timings(rng: random.Random, first: int) -> list[tuple[int, int, int]]:
    timings = []
    for line in range(first + 1, first + 7):
        if rng.random() < 0.7:
            hits = rng.choice([1, 3, 10 ** rng.randint(0, 13)])
            time = rng.choice([0, 1, rng.randint(1, 10 ** rng.randint(1, 15))])
            timings.append((line, hits, time))
    return timings


@pytest.mark.parametrize("seed", range(40))
def test_show_func_matches_line_profiler(seed: int) -> None:
    lp_module = _line_profiler()
    rng = random.Random(seed)
    first = targets.basic.__code__.co_firstlineno
    timings = _random_timings(rng, first)
    output_unit = rng.choice([None, 1e-9, 1e-6, 1e-3, 1.0])
    stripzeros = rng.random() < 0.3
    theirs = io.StringIO()
    lp_module.show_func(
        TARGETS_FILE,
        first,
        "basic",
        timings,
        1e-9,
        output_unit=output_unit,
        stream=theirs,
        stripzeros=stripzeros,
    )
    ours = format_func(TARGETS_FILE, first, "basic", timings, 1e-9, output_unit, stripzeros)
    assert ours == theirs.getvalue()


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"summarize": True},
        {"summarize": True, "sort": True},
        {"details": False, "summarize": True},
        {"stripzeros": True, "output_unit": 1e-3},
    ],
)
def test_show_text_matches_line_profiler(options: dict[str, object]) -> None:
    lp_module = _line_profiler()
    stats = {
        (TARGETS_FILE, targets.basic.__code__.co_firstlineno, "basic"): [
            (targets.basic.__code__.co_firstlineno + 1, 2, 5000),
        ],
        (TARGETS_FILE, targets.rec.__code__.co_firstlineno, "rec"): [
            (targets.rec.__code__.co_firstlineno + 1, 1, 70000),
        ],
        (TARGETS_FILE, targets.gen.__code__.co_firstlineno, "gen"): [],
    }
    theirs = io.StringIO()
    lp_module.show_text(stats, 1e-9, stream=theirs, **options)
    assert format_text(stats, 1e-9, **options) == theirs.getvalue()  # type: ignore[arg-type]

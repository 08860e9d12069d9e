"""What following greenlets costs (lineprof/greenlets.py): ns per switch pair between the main
greenlet and greenlets suspended inside a profiled function, with 1 to 5,000 of them suspended
at once (a gevent server with that many requests in flight).  Needs greenlet; line_profiler too,
if installed, for comparison.  One interpreter per run:

    python benchmarks/greenlet_switch.py

Each figure is the median of interleaved repetitions (unprofiled / lineprof / line_profiler)
in this one process.  "lineprof, not following" is lineprof with greenlet's tracing function
taken out: what the switches cost a profiled program before lineprof followed them (its
numbers were then wrong, docs/numbers.md); the difference is the cost of following.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import greenlet

SWITCHES = 100_000
REPEATS = 5
SUSPENDED = (1, 100, 1000, 5000)


def task(main: Any) -> None:
    while True:
        main.switch()


def switching(n: int) -> Callable[[], float]:
    """A run: ns per switch pair, to and back from each of ``n`` suspended greenlets in turn."""
    main = greenlet.getcurrent()

    def run() -> float:
        tasks = [greenlet.greenlet(task) for _ in range(n)]
        for each in tasks:
            each.switch(main)
        start = time.perf_counter()
        for i in range(SWITCHES):
            tasks[i % n].switch()
        took = time.perf_counter() - start
        for each in tasks:
            each.throw()  # GreenletExit: each ends, and its frame leaves lineprof's stacks
        return took / SWITCHES * 1e9

    return run


def lineprof_run(run: Callable[[], float], follow: bool) -> float:
    from lineprof import LineProfiler, greenlets

    lp = LineProfiler(task)
    with lp:
        if not follow:
            greenlets.unfollow()
        return run()


def line_profiler_run(run: Callable[[], float]) -> float:
    from line_profiler import LineProfiler

    lp = LineProfiler(task)
    lp.enable_by_count()
    try:
        return run()
    finally:
        lp.disable_by_count()


def main() -> None:
    try:
        import line_profiler  # noqa: F401
    except ImportError:
        have_line_profiler = False
    else:
        have_line_profiler = True
    print(f"CPython {sys.version.split()[0]}, greenlet {greenlet.__version__}")
    print("ns per switch pair (median of", REPEATS, "interleaved runs)")
    header = ["suspended", "unprofiled", "lineprof", "lineprof, not following"]
    if have_line_profiler:
        header.append("line_profiler")
    print(" | ".join(header))
    for n in SUSPENDED:
        cells = [str(n)] + [f"{value:.0f}" for value in measure(n, have_line_profiler)]
        print(" | ".join(cells))


def measure(n: int, have_line_profiler: bool) -> list[float]:
    """The median ns per switch pair of each mode, with ``n`` greenlets suspended."""
    run = switching(n)
    run()  # warm up
    modes: list[Callable[[], float]] = [
        run,
        lambda: lineprof_run(run, True),
        lambda: lineprof_run(run, False),
    ]
    if have_line_profiler:
        modes.append(lambda: line_profiler_run(run))
    times: list[list[float]] = [[] for _ in modes]
    for _ in range(REPEATS):
        for mode, times_of_mode in zip(modes, times, strict=True):
            times_of_mode.append(mode())
    return [statistics.median(each) for each in times]


if __name__ == "__main__":
    main()

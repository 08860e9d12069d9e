"""Quick overhead check: ns per line event on a tight loop, and the slowdown of code that is
not profiled while profiling is on.  Plain Python + the standard library (+ line_profiler if
installed, for comparison).  One interpreter per run:

    python benchmarks/quick_overhead.py [--backend auto|monitoring|settrace]

Each figure is the median of interleaved repetitions (A/B/A/B) in this one process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

N = 200_000
REPEATS = 9


def tight(n: int) -> int:
    x = 0
    for i in range(n):
        x += i
        x ^= 1
    return x


def unprofiled_work(n: int) -> int:
    # Many small unprofiled calls and loops: what every other function in a program looks like.
    def small(a: int) -> int:
        b = a * 2
        return b - a

    total = 0
    for i in range(n):
        total += small(i)
    return total


def registered_elsewhere() -> None:
    pass


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter_ns()
    fn()
    return float(time.perf_counter_ns() - t0)


def median_pair(a: Callable[[], Any], b: Callable[[], Any]) -> tuple[float, float]:
    ta, tb = [], []
    for _ in range(REPEATS):
        ta.append(timed(a))
        tb.append(timed(b))
    return statistics.median(ta), statistics.median(tb)


def line_events(n: int) -> int:
    # tight(): 1 (x = 0) + (n + 1) loop tests + 2n body lines + 1 return
    return 1 + (n + 1) + 2 * n + 1


def measure(name: str, make: Callable[..., Any]) -> dict[str, float]:
    prof = make(tight)
    on = lambda: prof.runcall(tight, N)  # noqa: E731
    plain_t, prof_t = median_pair(lambda: tight(N), on)
    events = line_events(N)
    other = make(registered_elsewhere)
    other.enable_by_count()
    try:
        unprof_on = statistics.median(timed(lambda: unprofiled_work(N)) for _ in range(REPEATS))
    finally:
        other.disable_by_count()
    unprof_off = statistics.median(timed(lambda: unprofiled_work(N)) for _ in range(REPEATS))
    return {
        "tight_slowdown": prof_t / plain_t,
        "ns_per_event": (prof_t - plain_t) / events,
        "unprofiled_slowdown": unprof_on / unprof_off,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()
    from lineprof import LineProfiler

    results = {
        f"lineprof ({args.backend})": measure(
            "lineprof", lambda *f: LineProfiler(*f, backend=args.backend)
        )
    }
    try:
        import line_profiler
    except ImportError:
        print("(line_profiler not installed: no comparison)")
    else:
        results[f"line_profiler {line_profiler.__version__}"] = measure(
            "line_profiler", line_profiler.LineProfiler
        )
    print(f"Python {sys.version.split()[0]}, tight loop n={N}, median of {REPEATS}")
    print(f"{'profiler':32} {'tight loop':>11} {'ns/event':>9} {'unprofiled code':>16}")
    for name, r in results.items():
        print(
            f"{name:32} {r['tight_slowdown']:10.2f}x {r['ns_per_event']:9.1f} "
            f"{r['unprofiled_slowdown']:15.2f}x"
        )


if __name__ == "__main__":
    main()

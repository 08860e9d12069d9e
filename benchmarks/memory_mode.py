"""Memory mode's cost, side by side on one allocation-heavy workload (issue 16).

    python benchmarks/memory_mode.py [--iterations N] [--reps R]

Runs the same function, each configuration in a fresh subprocess of this interpreter:

* ``unprofiled``: no profiler;
* ``lineprof time``: ``LineProfiler(workload)``, time only;
* ``lineprof memory``: ``LineProfiler(workload, memory=True)``;
* ``memory_profiler``: memory_profiler's line mode (``memory_profiler.LineProfiler``, what
  ``@profile`` under ``python -m memory_profiler`` uses), if it is installed.  It reads the
  process's RSS on every line, so it runs a fiftieth of the iterations; every figure is per
  loop iteration, so the ratios compare like with like.

Each subprocess runs the workload ``--reps`` times and reports the fastest, in ns per
iteration.  The issue's targets: memory mode at least 20x faster than memory_profiler, and at
most 2x lineprof's time-only mode.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The allocation-heavy workload: every line allocates (strings, a dict, list growth) and the
# list is cut back now and then, so blocks are freed too.
WORKLOAD = """
def workload(n):
    out = []
    for i in range(n):
        text = str(i) * 4
        record = {"key": text, "value": i, "parts": [text, i]}
        out.append(record)
        if len(out) > 2000:
            out = out[1000:]
    return len(out)
"""

CHILD = """
import json, os, shutil, sys, tempfile, time
mode, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# A real file: memory_profiler reads the function's source and skips what it cannot read.
directory = tempfile.mkdtemp(prefix="lineprof-bench-")
with open(os.path.join(directory, "memory_workload.py"), "w") as out:
    out.write(WORKLOAD)
sys.path.insert(0, directory)
from memory_workload import workload
if mode == "unprofiled":
    run = workload
elif mode in ("lineprof time", "lineprof memory"):
    from lineprof import LineProfiler
    lp = LineProfiler(workload, memory=mode == "lineprof memory")
    def run(n):
        with lp:
            return workload(n)
else:
    import memory_profiler
    mp = memory_profiler.LineProfiler(backend="psutil")
    run = mp(workload)
best = float("inf")
for _ in range(reps):
    start = time.perf_counter()
    run(n)
    best = min(best, time.perf_counter() - start)
if mode == "memory_profiler":
    # It must have recorded the workload's lines, or its figure means nothing.
    assert any(len(lines) > 3 for lines in mp.code_map.values()), mp.code_map
shutil.rmtree(directory)
print(json.dumps({"ns_per_iteration": best * 1e9 / n}))
"""

MODES = ["unprofiled", "lineprof time", "lineprof memory", "memory_profiler"]


def measure(mode: str, iterations: int, reps: int) -> float | None:
    code = "WORKLOAD = " + repr(WORKLOAD) + "\n" + CHILD
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("LINEPROF_MEMORY", None)
    result = subprocess.run(
        [sys.executable, "-c", code, mode, str(iterations), str(reps)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    if result.returncode != 0:
        print(f"{mode}: failed\n{result.stderr}", file=sys.stderr)
        return None
    return float(json.loads(result.stdout.splitlines()[-1])["ns_per_iteration"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        import memory_profiler  # noqa: F401

        modes = MODES
    except ImportError:
        print("memory_profiler is not installed: its row is left out", file=sys.stderr)
        modes = MODES[:-1]
    figures: dict[str, float | None] = {}
    for mode in modes:
        n = args.iterations // 50 if mode == "memory_profiler" else args.iterations
        figures[mode] = measure(mode, max(n, 1), args.reps)
    print(f"CPython {platform.python_version()}, {args.iterations} iterations, best of {args.reps}")
    print(f"{'mode':<18}{'ns/iteration':>14}{'x unprofiled':>14}")
    base = figures["unprofiled"]
    for mode, value in figures.items():
        if value is None:
            print(f"{mode:<18}{'failed':>14}")
            continue
        ratio = f"{value / base:.1f}" if base else ""
        print(f"{mode:<18}{value:>14.0f}{ratio:>14}")
    memory, timing = figures.get("lineprof memory"), figures.get("lineprof time")
    if memory and timing:
        print(f"memory mode / time-only mode: {memory / timing:.2f}x (target <= 2x)")
    other = figures.get("memory_profiler")
    if memory and other:
        print(f"memory_profiler / memory mode: {other / memory:.1f}x (target >= 20x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Does following the machine's pace help?  The same raw rows corrected two ways, in fresh
processes: with the costs measured first (what lineprof did before it followed the pace) and
with the costs at the pace the session ran at (what it does now).  One interpreter per run,
with whatever lineprof that interpreter imports (built in place, or installed):

    python benchmarks/pace_ab.py [--case profiled_callee] [--processes 12] [--runs 4]

Per line of the case's profiled functions that runs 100 times or more: the median, the 10th and
90th percentile over every run of every process of the corrected ns per hit, and how many came
out 0 (costs taken out that the line did not have).  The truth is not measured here (run.py's
accuracy benchmark does that): a correction that follows the machine should move the spread, not
the median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def child(case_name: str, runs: int) -> list[dict[str, Any]]:
    """Runs the case ``runs`` times, each under a new profiler, in this process."""
    sys.path.insert(0, str(HERE))
    import accuracy

    from lineprof import LineProfiler, calibration

    case = accuracy.CASES[case_name]
    call = case.make_call()
    call()  # warm up
    out = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        call()
        whole = time.perf_counter_ns() - t0
        lp = LineProfiler(*case.profiled)
        lp.enable()
        try:
            call()
        finally:
            lp.disable()
        key = lp._recorded
        at_pace = calibration.pace(*lp._inside_now())
        first = calibration.cached(key, None)
        paced = calibration.cached(key, at_pace)
        if first is None or paced is None:
            raise SystemExit("nothing was measured: is the calibration switched off?")
        rows = [row for _, rows in lp._tracer.stats() for row in rows if row[1] >= 100]
        out.append(
            {
                "whole_ms": whole / 1e6,
                "pace_ns": at_pace,
                "measured_at": [o.pace_ns for o in calibration._measured[key]],
                "first": [first.correct(*r[2:], line=r[0]) / r[1] for r in rows],
                "paced": [paced.correct(*r[2:], line=r[0]) / r[1] for r in rows],
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", default="profiled_callee")
    parser.add_argument("--processes", type=int, default=12)
    parser.add_argument("--runs", type=int, default=4, help="profiled runs per process")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.case, args.runs)))
        return
    runs: list[dict[str, Any]] = []
    for index in range(args.processes):
        command = [
            sys.executable,
            __file__,
            "--child",
            "--case",
            args.case,
            "--runs",
            str(args.runs),
        ]
        done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
        if done.returncode:
            raise SystemExit(done.stderr)
        these = json.loads(done.stdout)
        runs += these
        paces = [round(r["pace_ns"] or 0, 1) for r in these]
        wholes = [round(r["whole_ms"], 1) for r in these]
        measured = [round(p, 1) for p in these[-1]["measured_at"]]
        print(f"process {index}: measured at {measured}, ran at {paces}, unprofiled ms {wholes}")
    print(f"CPython {sys.version.split()[0]}, {args.case}: ns per hit of each line run 100+ times")
    for way in ("first", "paced"):
        columns = list(zip(*(r[way] for r in runs), strict=True))
        ranked = [sorted(c) for c in columns]
        zeros = sum(v == 0 for c in columns for v in c)
        print(f"  {way:6} median {[round(statistics.median(c)) for c in columns]}")
        print(f"  {'':6} p10    {[round(c[len(c) // 10]) for c in ranked]}")
        print(f"  {'':6} p90    {[round(c[len(c) * 9 // 10]) for c in ranked]}")
        print(f"  {'':6} zeros  {zeros} of {len(runs) * len(columns)}")


if __name__ == "__main__":
    main()

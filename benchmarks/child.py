"""One measurement in one fresh process: run by run.py with a benchmark venv's interpreter.

    python child.py info
    python child.py time WORKLOAD MODE SCALE
    python child.py count WORKLOAD SCALE
    python child.py accuracy-truth CASE
    python child.py accuracy-run CASE MODE
    python child.py memory MODE NFUNCS
    python child.py callcost MODE

MODE is ``unprofiled``, ``lineprof`` or ``line_profiler``; lineprof's backend comes from
LINEPROF_BACKEND.  Prints one JSON object on stdout.  Standard library only (plus the profiler
being measured).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from profilers import EventCounter, make_decorator, make_profiler, profiler_backend, stop_decorator


def total_hits(prof: Any) -> int:
    stats = prof.get_stats()
    return sum(hits for lines in stats.timings.values() for _, hits, _ in lines)


# ---- time -----------------------------------------------------------------------------


def cmd_time(name: str, mode: str, scale: float) -> dict[str, Any]:
    from workloads import WORKLOADS

    workload = WORKLOADS[name][0](scale)
    workload.warmup()
    result: dict[str, Any] = {}
    if mode == "unprofiled":
        c0, t0 = time.process_time_ns(), time.perf_counter_ns()
        workload.run()
        elapsed, cpu = time.perf_counter_ns() - t0, time.process_time_ns() - c0
    elif workload.decorate is not None:
        decorator, prof = make_decorator(mode)
        try:
            workload.decorate(decorator)
            result["backend"] = profiler_backend(prof)
            c0, t0 = time.process_time_ns(), time.perf_counter_ns()
            workload.run()
            elapsed, cpu = time.perf_counter_ns() - t0, time.process_time_ns() - c0
        finally:
            stop_decorator(mode, decorator, prof)
        result["hits"] = total_hits(prof)
    else:
        prof = make_profiler(mode)
        for func in workload.profiled:
            prof.add_function(func)
        prof.enable_by_count()
        try:
            result["backend"] = profiler_backend(prof)
            c0, t0 = time.process_time_ns(), time.perf_counter_ns()
            workload.run()
            elapsed, cpu = time.perf_counter_ns() - t0, time.process_time_ns() - c0
        finally:
            prof.disable_by_count()
        result["hits"] = total_hits(prof)
    result["ns"] = elapsed  # wall clock
    result["cpu_ns"] = cpu  # CPU time of the process: less disturbed by other processes
    return result


# ---- count: line events the interpreter delivers for the profiled code --------------------


def cmd_count(name: str, scale: float) -> dict[str, Any]:
    from workloads import WORKLOADS

    workload = WORKLOADS[name][0](scale)
    codes = {func.__code__ for func in workload.profiled}
    with EventCounter(codes) as counter:
        workload.run()
    return {"line_events": counter.lines, "entries": counter.entries}


# ---- call cost of @lp ------------------------------------------------------------------


def cmd_callcost(mode: str) -> dict[str, Any]:
    """ns per call of a trivial function: plain; decorated with @lp with no session active
    (each call starts and ends one); decorated inside ``with lp:``."""

    def plain(x: int) -> int:
        return x + 1

    def per_call(fn: Callable[[int], int], calls: int) -> float:
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter_ns()
            for i in range(calls):
                fn(i)
            best = min(best, (time.perf_counter_ns() - t0) / calls)
        return best

    out: dict[str, Any] = {"plain_ns": per_call(plain, 200_000)}
    if mode == "unprofiled":
        return out
    prof = make_profiler(mode)

    def target(x: int) -> int:
        return x + 1

    decorated = prof(target)
    out["no_session_ns"] = per_call(decorated, 2_000)
    with prof:
        out["backend"] = profiler_backend(prof)
        out["in_session_ns"] = per_call(decorated, 100_000)
    # The same, with 2,000 unrelated functions loaded (start-up cost may scale with code).
    namespace: dict[str, Any] = {}
    exec("\n".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(2000)), namespace)
    for i in range(2000):
        namespace[f"f{i}"](i)
    out["no_session_2000_funcs_ns"] = per_call(decorated, 2_000)
    return out


# ---- info ------------------------------------------------------------------------------


def cmd_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
        "executable": sys.executable,
    }
    try:
        import lineprof
        from lineprof import _lineprof

        info["lineprof"] = getattr(lineprof, "__version__", "?")
        info["lineprof_file"] = lineprof.__file__
        info["lineprof_backends"] = list(_lineprof.BACKENDS)
    except ImportError as exc:
        info["lineprof_error"] = str(exc)
    try:
        import line_profiler

        info["line_profiler"] = line_profiler.__version__
    except ImportError:
        info["line_profiler"] = None
    return info


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "info":
        out = cmd_info()
    elif cmd == "time":
        out = cmd_time(args[0], args[1], float(args[2]))
    elif cmd == "count":
        out = cmd_count(args[0], float(args[1]))
    elif cmd == "callcost":
        out = cmd_callcost(args[0])
    elif cmd == "accuracy-truth":
        import accuracy

        out = accuracy.measure_truth(args[0])
    elif cmd == "accuracy-run":
        import accuracy

        out = accuracy.profile_case(args[0], args[1])
    elif cmd == "memory":
        import memory

        out = memory.measure(args[0], int(args[1]))
    else:
        raise SystemExit(f"unknown command {cmd!r}\n{__doc__}")
    out["pid"] = os.getpid()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])

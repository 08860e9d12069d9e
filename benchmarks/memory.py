"""Memory and report cost with many profiled functions (child side, run by child.py).

Generates a module of N small functions (6 source lines each), registers them all with one
profiler, runs each once with profiling on, then times ``get_stats()`` and printing the report.

* ``traced`` mode (LINEPROF_BENCH_TRACEMALLOC=1): bytes allocated through Python's allocators
  (tracemalloc sees PyMem_*/PyObject_* and so all of lineprof's C allocations; line_profiler's
  C++ containers use malloc and are not seen) kept after registration, and the peak while
  registering.
* otherwise: wall time of each step (``get_stats()``; printing the stats it returned; and
  ``print_stats()``, which takes them again), and the resident set size (RSS) before, after
  and at peak.
"""

from __future__ import annotations

import gc
import importlib
import io
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from typing import Any

LINES_PER_FUNC = 6


def _source(n: int) -> str:
    parts = []
    for i in range(n):
        parts.append(
            f"def f{i:05d}(x):\n"
            f"    y = x + {i}\n"
            f"    if y > 3:\n"
            f"        y -= 1\n"
            f"    z = [y] * 2\n"
            f"    return z[0] + y\n"
        )
    return "\n".join(parts)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _print(stats: Any, stream: io.StringIO) -> None:
    """Print stats already taken (so get_stats() is timed once)."""
    if hasattr(stats, "print"):  # lineprof's LineStats
        stats.print(stream=stream)
    else:  # line_profiler's
        from line_profiler import show_text

        show_text(stats.timings, stats.unit, stream=stream)


def measure(mode: str, nfuncs: int) -> dict[str, Any]:
    from profilers import make_profiler

    traced = os.environ.get("LINEPROF_BENCH_TRACEMALLOC") == "1"
    with tempfile.TemporaryDirectory(prefix="lineprof-bench-mem-") as tmp:
        modname = f"many_functions_{nfuncs}"
        with open(os.path.join(tmp, modname + ".py"), "w") as f:
            f.write(_source(nfuncs))
        sys.path.insert(0, tmp)
        try:
            mod = importlib.import_module(modname)
        finally:
            sys.path.remove(tmp)
        funcs = [getattr(mod, f"f{i:05d}") for i in range(nfuncs)]
        out: dict[str, Any] = {
            "mode": mode,
            "functions": nfuncs,
            "lines": nfuncs * LINES_PER_FUNC,
            "traced": traced,
        }
        gc.collect()
        out["rss_before"] = _rss()
        if traced:
            tracemalloc.start()
        t0 = time.perf_counter()
        prof = make_profiler(mode)
        for func in funcs:
            prof.add_function(func)
        out["register_s"] = time.perf_counter() - t0
        gc.collect()
        if traced:
            current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            out["traced_kept_bytes"] = current
            out["traced_peak_bytes"] = peak
            out["traced_bytes_per_line"] = current / out["lines"]
            return out
        out["rss_after_register"] = _rss()
        t0 = time.perf_counter()
        prof.enable_by_count()
        out["enable_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i, func in enumerate(funcs):
            func(i)
        out["run_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        prof.disable_by_count()
        out["disable_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        stats = prof.get_stats()
        out["get_stats_s"] = time.perf_counter() - t0
        buf = io.StringIO()
        t0 = time.perf_counter()
        _print(stats, buf)
        out["print_s"] = time.perf_counter() - t0
        out["get_stats_plus_print_s"] = out["get_stats_s"] + out["print_s"]
        out["report_chars"] = len(buf.getvalue())
        t0 = time.perf_counter()
        prof.print_stats(stream=io.StringIO())
        out["print_stats_s"] = time.perf_counter() - t0
        out["functions_reported"] = len(stats.timings)
        out["rss_after_report"] = _rss()
        out["rss_peak"] = _peak_rss()
        grown = out["rss_after_register"] - out["rss_before"]
        out["rss_register_bytes_per_line"] = grown / out["lines"]
        return out

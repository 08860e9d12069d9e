"""Environment knobs, read in one place.  lineprof's own knobs are named LINEPROF_*;
LINE_PROFILE is line_profiler's switch for ``@profile``, kept so existing habits work."""

# No ``from __future__ import annotations`` here: see lineprof/__init__.py.

import os
import sys

_FALSE_WORDS = {"", "0", "false", "f", "no", "n", "off"}


def backend() -> str:
    """LINEPROF_BACKEND: which hook a profiling session uses.

    ``auto`` (the default) picks the best this interpreter has: ``monitoring``
    (sys.monitoring, CPython 3.12+) or ``setprofile`` (CPython <= 3.11), falling back to
    ``settrace`` when the preferred hook is held by another tool.  Naming a backend insists
    on it.
    """
    return os.environ.get("LINEPROF_BACKEND", "auto").strip().lower() or "auto"


def clock() -> str:
    """LINEPROF_CLOCK: the clock lineprof times lines with (lineprof/clock.py).

    ``auto`` (the default) uses the CPU's timestamp counter where the kernel itself keeps time
    with it (Linux x86-64, clocksource ``tsc``) and CLOCK_MONOTONIC elsewhere; ``tsc`` insists
    on the counter (a warning and CLOCK_MONOTONIC where it cannot be used); ``monotonic``
    always uses CLOCK_MONOTONIC.
    """
    return os.environ.get("LINEPROF_CLOCK", "auto").strip().lower() or "auto"


def line_profile_requested() -> bool:
    """LINE_PROFILE=1 in the environment, or ``--line-profile`` (or ``--line_profile``) among
    the program's arguments: ``@profile`` profiles.  ``0``, ``false``, ``no``, ``off`` and the
    empty string count as unset, as in line_profiler."""
    if os.environ.get("LINE_PROFILE", "").strip().lower() not in _FALSE_WORDS:
        return True
    return any(arg in ("--line-profile", "--line_profile") for arg in sys.argv[1:])


def output_prefix() -> str:
    """LINEPROF_OUTPUT: where ``@profile`` under LINE_PROFILE=1 writes at exit: PREFIX.txt (the
    report) and PREFIX.lprof (the results).  Default ``profile_output``, in the working
    directory, as line_profiler."""
    return os.environ.get("LINEPROF_OUTPUT", "").strip() or "profile_output"


def calibrate() -> bool:
    """LINEPROF_CALIBRATE: take out of each line's time what lineprof's own callbacks measured
    of themselves inside it (README, "What the numbers mean").  On unless set to 0, false, no
    or off; off reports the clock's figures as read."""
    return os.environ.get("LINEPROF_CALIBRATE", "1").strip().lower() not in _FALSE_WORDS - {""}


def memory() -> bool:
    """LINEPROF_MEMORY: memory mode (docs/memory.md), each line's Alloc, Net and Peak beside
    its times, for every LineProfiler that does not say (``memory=``), ``@profile`` under
    LINE_PROFILE=1 included.  Off unless set to 1, true, yes or on."""
    return os.environ.get("LINEPROF_MEMORY", "").strip().lower() not in _FALSE_WORDS


# The directory a profiled program's child processes write their results to, and what they
# profile (children.py; _boot/sitecustomize.py reads the spec, before lineprof is imported).
# The program's own process sets them for its children; they are not meant to be set by hand.
CHILD_DIR = "LINEPROF_CHILD_DIR"
CHILD_SPEC = "LINEPROF_CHILD_SPEC"


def children_requested() -> bool:
    """LINEPROF_CHILDREN: whether the child processes of a profiled program (multiprocessing,
    Python subprocesses) are profiled too and merged into its results.  On by default;
    ``0``, ``false``, ``no`` and ``off`` switch it off.  The ``lineprof`` command's
    ``--children``/``--no-children`` wins over it."""
    value = os.environ.get("LINEPROF_CHILDREN")
    return value is None or value.strip().lower() not in _FALSE_WORDS - {""}


LINE_PROFILER_RC = "LINE_PROFILER_RC"  # line_profiler's knob, honoured: the path of its TOML


def line_profiler_rc() -> str | None:
    """LINE_PROFILER_RC: the TOML file line_profiler's configuration is read from when no
    ``[tool.lineprof]`` is found (config_line_profiler.py); None when unset or empty."""
    return os.environ.get(LINE_PROFILER_RC) or None


def line_profiler_switch(name: str) -> bool:
    """line_profiler's LINE_PROFILER_WRAP_TRACE and LINE_PROFILER_SET_FRAME_LOCAL_TRACE: the
    default of ``LineProfiler(wrap_trace=..., set_frame_local_trace=...)``.  True when set to
    1, on, true or yes (any case), as in line_profiler 5.1."""
    return os.environ.get(name, "").strip().casefold() in {"1", "on", "true", "yes"}


def child_directory() -> str | None:
    """LINEPROF_CHILD_DIR, set by a profiled program for its children: where they write."""
    return os.environ.get(CHILD_DIR) or None

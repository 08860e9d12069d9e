"""The profilers a measurement drives, and an independent count of the events they see.

Shared by the measurements (accuracy.py, memory.py) and by child.py, which runs them: the one
module they all import, so none of them imports another.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any


def make_profiler(mode: str) -> Any:
    if mode == "lineprof":
        from lineprof import LineProfiler

        return LineProfiler()
    if mode == "line_profiler":
        from line_profiler import LineProfiler as LP

        return LP()
    raise SystemExit(f"unknown profiler mode {mode!r}")


def make_decorator(mode: str) -> tuple[Callable[..., Any], Any]:
    """(``@profile``, the profiler it records into), recording: as ``lineprof -l`` /
    LINE_PROFILE=1 have it (lineprof's ``profile``, its session on, results written at exit
    into a temporary directory), or as ``kernprof -l`` has it (line_profiler's LineProfiler as
    the decorator, enabled for the whole program).  Stop with ``stop_decorator``."""
    if mode == "lineprof":
        import tempfile

        from lineprof import profile

        profile.enable(output_prefix=os.path.join(tempfile.mkdtemp(), "bench"))
        return profile, profile.profiler
    prof = make_profiler(mode)
    prof.enable_by_count()
    return prof, prof


def stop_decorator(mode: str, decorator: Any, prof: Any) -> None:
    if mode == "lineprof":
        decorator.disable()
    else:
        prof.disable_by_count()


def profiler_backend(prof: Any) -> str:
    backend = getattr(prof, "backend", None)
    return str(backend) if backend else ""


class EventCounter:
    """Counts line events and frame entries (starts and resumes) of the given code objects,
    the way a profiler hooked into this interpreter receives them: sys.monitoring LINE events
    set on those code objects only (3.12+), or the trace function's 'line' events in their
    frames (3.10/3.11; these include a loop jumping back to its own line)."""

    def __init__(self, codes: set[Any]) -> None:
        self.codes = codes
        self.lines = 0
        self.entries = 0
        self.per_line: dict[tuple[Any, int], int] = {}

    def __enter__(self) -> EventCounter:
        if sys.version_info >= (3, 12):
            mon = sys.monitoring
            self.tool = next(t for t in (5, 4, 3, 2) if mon.get_tool(t) is None)
            mon.use_tool_id(self.tool, "lineprof-bench-counter")
            ev = mon.events
            mon.register_callback(self.tool, ev.LINE, self._mon_line)
            mon.register_callback(self.tool, ev.PY_START, self._mon_entry)
            mon.register_callback(self.tool, ev.PY_RESUME, self._mon_entry)
            for code in self.codes:
                mon.set_local_events(self.tool, code, ev.LINE | ev.PY_START | ev.PY_RESUME)
        else:
            import threading

            threading.settrace(self._trace_call)
            sys.settrace(self._trace_call)
        return self

    def __exit__(self, *exc: object) -> None:
        if sys.version_info >= (3, 12):
            mon = sys.monitoring
            for code in self.codes:
                mon.set_local_events(self.tool, code, 0)
            mon.free_tool_id(self.tool)
        else:
            import threading

            sys.settrace(None)
            threading.settrace(None)  # type: ignore[arg-type]

    def _mon_line(self, code: Any, line: int) -> None:
        self.lines += 1
        key = (code, line)
        self.per_line[key] = self.per_line.get(key, 0) + 1

    def _mon_entry(self, code: Any, offset: int) -> None:
        self.entries += 1

    def _trace_call(self, frame: Any, event: str, arg: Any) -> Callable[..., Any] | None:
        if frame.f_code not in self.codes:
            return None
        self.entries += 1
        return self._trace_local

    def _trace_local(self, frame: Any, event: str, arg: Any) -> Callable[..., Any]:
        if event == "line":
            self.lines += 1
            key = (frame.f_code, frame.f_lineno)
            self.per_line[key] = self.per_line.get(key, 0) + 1
        return self._trace_local

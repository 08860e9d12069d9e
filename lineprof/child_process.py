"""In a child process of a profiled program: profile it for that program (children.py
explains how the children are found and their results collected).

lineprof's ``sitecustomize`` (``_boot/``), which the program's process puts on the PYTHONPATH
of the processes it starts, calls ``bootstrap`` in each new Python process.  This side sits
above ``@profile`` (decorator.py), which it hands the session to register into; the
program's side (children.py) sits below it.
"""

from __future__ import annotations

import os
import sys

from lineprof import children, environment
from lineprof._typing import TYPE_CHECKING
from lineprof.children import ResultsDirectory, finish_with_multiprocessing, warn

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from lineprof.autoprofile import AutoProfiler
    from lineprof.profiler import LineProfiler
    from lineprof.session import Session

__all__ = ["bootstrap"]


class _Child:
    """This process, started by a profiled program: the session is made and started when
    something is first registered."""

    def __init__(self, results: ResultsDirectory) -> None:
        self.results = results
        self.auto: AutoProfiler | None = None
        self._session: Session | None = None
        self._failed = False
        self.memory: bool | None = None  # memory mode, as the program's process has it

    def session(self) -> Session:
        if self._session is None:
            from lineprof.session import Session

            profiler = _profiler_starting_on_first_code(self._first_code, self.memory)
            self._session = Session(profiler, self.results.write, self.results.adopt)
        return self._session

    def _first_code(self) -> None:
        session = self.session()
        if session.started or self._failed:
            return
        try:
            session.start()
        except Exception as exc:  # the backend LINEPROF_BACKEND insists on is taken
            self._failed = True
            warn(f"child process {os.getpid()} is not profiled: {exc}")
            return
        finish_with_multiprocessing(session)
        if _spawned_by_multiprocessing():
            session.watch_sigterm()

    def leave(self) -> None:
        if self.auto is not None:
            self.auto.uninstall()
        if self._session is not None:
            self._session.abandon()


def _profiler_starting_on_first_code(
    on_first_code: Callable[[], None], memory: bool | None = None
) -> LineProfiler:
    from lineprof.profiler import LineProfiler

    class ChildProfiler(LineProfiler):
        def _add_code(self, code: Any, qualname: str) -> bool:
            added = super()._add_code(code, qualname)
            if added and not self._tracer.enabled:
                on_first_code()
            return added

    return ChildProfiler(memory=memory)


def bootstrap(spec: dict[str, Any]) -> None:
    """Profile this process for the program that started it: called by lineprof's
    sitecustomize, with ``spec`` (what to profile, as the program's process put it in
    LINEPROF_CHILD_SPEC).  Raises on a failure, which the sitecustomize reports in one
    line."""
    directory = environment.child_directory()
    if directory is None or children._current_child is not None or _is_helper_process():
        return
    if not os.path.isdir(directory):
        return  # the program has finished and removed it: not a child to profile any more
    child = _Child(ResultsDirectory(directory))
    child.memory = spec.get("memory")
    auto = None
    if spec.get("auto"):
        from lineprof.autoprofile import AutoProfiler

        auto = AutoProfiler.from_spec(child.session().profiler, spec["auto"])
    from lineprof.decorator import profile

    profile._use_child(child.session)
    if spec.get("builtin"):
        import builtins

        builtins.__dict__["profile"] = profile
    if spec.get("line_profiler_alias"):
        from lineprof.line_profiler_alias import Alias

        Alias().install()
    if auto is not None:
        child.auto = auto
        auto.install()
        if auto.files or auto.directories:
            _profile_main_modules(auto)
    children._current_child = child


def _profile_main_modules(auto: AutoProfiler) -> None:
    """``-p`` paths.  The code a child runs as its main module is not imported, so the -p
    import hook never sees it: the script of a Python subprocess, and the program's main
    module, which spawn and the forkserver run again as ``__mp_main__``.  An audit hook gets
    the code of every module just before it runs (PEP 578's ``exec`` event); the functions
    of those the targets name are registered then."""
    import types

    def on_event(event: str, args: tuple[Any, ...]) -> None:
        if event != "exec":
            return
        try:
            code = args[0]
            if (
                isinstance(code, types.CodeType)
                and code.co_name == "<module>"
                and auto.wants("__main__", code.co_filename)
            ):
                auto.register_code(code, with_module_code=False)
        except Exception:  # an audit hook raises into the program: never
            pass

    sys.addaudithook(on_event)


def _spawned_by_multiprocessing() -> bool:
    """A process of multiprocessing's spawn method (not its forkserver, which no Pool
    sends SIGTERM: the processes the forkserver forks are watched from their start)."""
    return any("multiprocessing.spawn import spawn_main" in arg for arg in sys.orig_argv)


def _is_helper_process() -> bool:
    """multiprocessing's resource tracker runs no code of the program."""
    return any("multiprocessing.resource_tracker" in arg for arg in sys.orig_argv)

"""A profiling session that lasts until the process ends.

Shared by ``@profile`` under LINE_PROFILE=1 and by the ``lineprof`` command: recording is
switched on once, and the results are handed to a ``finish`` callback exactly once, by the
process that started the session, whichever way the program ends: normal exit, an uncaught
exception, ``sys.exit()``, Ctrl-C (KeyboardInterrupt) or SIGTERM.  The exit status and the
traceback stay the program's own; on SIGTERM the process still dies of SIGTERM.

A process forked from the owner (multiprocessing's fork start method, ``os.fork()``) inherits
the session but never finishes it, so it writes nothing.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from lineprof.profiler import LineProfiler
from lineprof.stats import LineStats

__all__ = ["Session", "in_multiprocessing_child"]


class Session:
    """Record with ``profiler`` from ``start()`` until the process ends, then call
    ``finish(stats)`` once (in the process that called ``start``)."""

    def __init__(self, profiler: LineProfiler, finish: Callable[[LineStats], None]) -> None:
        self.profiler = profiler
        self._finish = finish
        self._owner_pid: int | None = None
        self._finished = False
        self._writer: _PeriodicWriter | None = None

    @property
    def started(self) -> bool:
        return self._owner_pid is not None

    def start(self) -> None:
        """Switch recording on and arrange for ``finish`` at exit (idempotent)."""
        if self._owner_pid is None:
            self._owner_pid = os.getpid()
            # atexit runs after the traceback of an uncaught exception is printed, after
            # non-daemon threads are joined, and after the atexit handlers the program
            # registers later (they run first): everything the program does is recorded.
            atexit.register(self.finish)
            _install_sigterm_handler(self)
        self.profiler.enable()

    def write_every(self, seconds: float, write: Callable[[LineStats], None]) -> None:
        """Call ``write(stats so far)`` every ``seconds`` from a daemon thread, until the
        session finishes."""
        if self._writer is None:
            self._writer = _PeriodicWriter(seconds, lambda: write(self.profiler.get_stats()))

    def owns_process(self) -> bool:
        return self._owner_pid == os.getpid()

    def finish(self) -> None:
        """Stop recording and hand the results over; only the first call in the owning
        process does anything."""
        if self._finished or not self.owns_process():
            return
        self._finished = True
        if self._writer is not None:
            self._writer.stop()
        try:
            self.profiler.disable()
            stats = self.profiler.get_stats()
        except Exception as exc:  # an internal failure the C core reports at disable()
            _warn(f"profiling failed: {exc}")
            return
        self._finish(stats)


def in_multiprocessing_child() -> bool:
    """True in a process multiprocessing started (any start method), including its helper
    processes (the forkserver, the resource tracker): they must not claim the results."""
    process = sys.modules.get("multiprocessing.process")
    if process is not None:
        current: Any = process.current_process()
        if getattr(current, "_inheriting", False) or current.name != "MainProcess":
            return True
        if process.parent_process() is not None:
            return True
    orig_argv = getattr(sys, "orig_argv", [])
    return any(
        arg.startswith("--multiprocessing-fork") or "from multiprocessing." in arg
        for arg in orig_argv[1:]
    )


def _warn(message: str) -> None:
    try:
        print(f"lineprof: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _install_sigterm_handler(session: Session) -> None:
    """On SIGTERM: write the results, then die of SIGTERM as the program would have.

    Only when SIGTERM has its default action: a program that ignores SIGTERM or handles it
    itself decides what happens (when its handler exits, atexit writes the results).  A
    handler the program installs later replaces this one the same way."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal.signal only works in the main thread
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        session.finish()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        os._exit(128 + signal.SIGTERM)  # not reached: the signal is delivered by kill()

    # A forked process never finishes the session, and must die of SIGTERM as it would without
    # lineprof.  A Python-level handler would not do: CPython drops a signal that arrives
    # between fork() and its after-fork reset of the signal flags, and a SIGTERM sent then
    # (multiprocessing's Pool.terminate() to a worker still starting) would be lost.  So
    # SIGTERM is blocked across fork(), and the child unblocks it only after restoring the
    # default action: a SIGTERM that arrived meanwhile is then delivered, and kills it.
    saved_masks: dict[int, set[int | signal.Signals]] = {}  # forking thread -> mask before

    def before_fork() -> None:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            saved_masks[threading.get_ident()] = mask

    def after_fork(in_child: bool) -> None:
        saved = saved_masks.pop(threading.get_ident(), None)
        if in_child:
            saved_masks.clear()
            if signal.getsignal(signal.SIGTERM) is on_sigterm:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if saved is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, saved)

    signal.signal(signal.SIGTERM, on_sigterm)
    os.register_at_fork(
        before=before_fork,
        after_in_parent=lambda: after_fork(False),
        after_in_child=lambda: after_fork(True),
    )


class _PeriodicWriter:
    def __init__(self, seconds: float, write: Callable[[], None]) -> None:
        self._seconds = seconds
        self._write = write
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lineprof-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                self._write()
            except Exception as exc:
                _warn(f"could not write intermediate results: {exc}")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

"""A profiling session that lasts until the process ends.

Shared by ``@profile`` under LINE_PROFILE=1, by the ``lineprof`` command and by the child
processes of either (children.py): recording is switched on once, and the results are handed
to a ``finish`` callback exactly once, by the process that owns the session, whichever way the
program ends: normal exit, an uncaught exception, ``sys.exit()``, Ctrl-C (KeyboardInterrupt)
or SIGTERM.  The exit status and the traceback stay the program's own; on SIGTERM the process
still dies of SIGTERM.

A process forked from the owner (multiprocessing's fork start method, ``os.fork()``) inherits
the session.  With an ``on_fork`` callback that gives it somewhere to write, the child owns
its copy from then on: its tables start empty (nothing is counted twice) and it finishes with
what it records itself.  Without one, the child never finishes the session and writes nothing.

``threading`` (~1 ms of start-up) is imported only by the pieces that start a thread; the rest
needs nothing of it but the thread id, which ``_thread`` gives.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal without its enums (enum: ~2 ms)
import _thread
import atexit
import os
import sys
import time

from lineprof._typing import TYPE_CHECKING
from lineprof.profiler import LineProfiler
from lineprof.results import LineStats

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any

    Finish = Callable[[LineStats], None]

__all__ = ["Session", "in_multiprocessing_child"]


class Session:
    """Record with ``profiler`` from ``start()`` until the process ends, then call
    ``finish(stats)`` once (in the process that called ``start``).

    ``on_fork(session)`` is called in a child forked while the session runs; it returns the
    child's own ``finish``, or None for a child that writes nothing."""

    def __init__(
        self,
        profiler: LineProfiler,
        finish: Finish,
        on_fork: Callable[[Session], Finish | None] | None = None,
    ) -> None:
        self.profiler = profiler
        self._finish = finish
        self._on_fork = on_fork
        self._owner_pid: int | None = None
        self._finished = False
        self._finishing = False  # finish() is running: a SIGTERM waits for it
        self._die_after_finish = False
        self._writer: _PeriodicWriter | None = None
        self._sigterm_handler: Callable[[int, FrameType | None], None] | None = None
        self._sigterm_running = False  # the handler has started: no need to prod the thread

    @property
    def started(self) -> bool:
        return self._owner_pid is not None

    def start(self) -> None:
        """Switch recording on and arrange for ``finish`` at exit (idempotent)."""
        try:
            self.profiler.enable()  # first: a backend that cannot start leaves no session
        except Warning as warning:  # made an error by the program's filters: said, not raised
            _warn(str(warning).removeprefix("lineprof: "))
        if self._owner_pid is None:
            self._owner_pid = os.getpid()
            # atexit runs after the traceback of an uncaught exception is printed, after
            # non-daemon threads are joined, and after the atexit handlers the program
            # registers later (they run first): everything the program does is recorded.
            atexit.register(self.finish)
            _install_sigterm_handler(self)
            _install_fork_handlers(self)

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
        self._finishing = True
        try:
            if self._writer is not None:
                self._writer.stop()
            try:
                try:
                    self.profiler.disable()
                except Warning as warning:  # as in start(): the results are still written
                    _warn(str(warning).removeprefix("lineprof: "))
                stats = self.profiler.get_stats()
            except Exception as exc:  # an internal failure the C core reports at disable()
                _warn(f"profiling failed: {exc}")
                return
            self._finish(stats)
        finally:
            self._finishing = False
            if self._die_after_finish:
                _die_of_sigterm()

    def watch_sigterm(self) -> None:
        """Make sure a SIGTERM is handled even when it arrives just before the main thread
        blocks in C (see ``_SigtermWatch``): for multiprocessing's workers, which its Pool
        ends with SIGTERM and then waits for.  Call it again after something reset the
        wakeup fd (the forkserver does in the processes it forks)."""
        if self.owns_process() and self._sigterm_handler is not None:
            _SigtermWatch.arm(self)

    def abandon(self) -> None:
        """Stop recording for good, without handing anything over."""
        if self.owns_process() and not self._finished:
            self._finished = True
            self.profiler.disable()

    def _carry_on_in_child(self) -> bool:
        """In a child just forked from the owner: own the session from now on, with empty
        tables, when ``on_fork`` gives the child somewhere to write."""
        if self._on_fork is None or self._finished:
            return False
        try:
            finish = self._on_fork(self)
            if finish is None:
                return False
            self.profiler.clear()
        except Exception as exc:
            _warn(f"child process {os.getpid()} is not profiled: {exc}")
            return False
        self._owner_pid = os.getpid()
        self._finish = finish
        self._writer = None  # the parent's thread did not survive fork()
        return True


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


def _die_of_sigterm() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
    os.kill(os.getpid(), _signal.SIGTERM)
    os._exit(128 + _signal.SIGTERM)  # not reached: the signal is delivered by kill()


def _install_sigterm_handler(session: Session) -> None:
    """On SIGTERM: write the results, then die of SIGTERM as the program would have.

    Only when SIGTERM has its default action: a program that ignores SIGTERM or handles it
    itself decides what happens (when its handler exits, atexit writes the results).  A
    handler the program installs later replaces this one the same way."""
    if _signal.getsignal(_signal.SIGTERM) != _signal.SIG_DFL:
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        session._sigterm_running = True
        if session._finishing:
            # The results are being written (atexit, or a multiprocessing finalizer): let
            # that complete, then die.  Dying now would lose them.
            session._die_after_finish = True
            return
        session.finish()
        _die_of_sigterm()

    try:
        _signal.signal(_signal.SIGTERM, on_sigterm)
    except ValueError:
        return  # not the main thread: _signal.signal only works there
    session._sigterm_handler = on_sigterm


def _install_fork_handlers(session: Session) -> None:
    """What a child forked while the session runs does with it (``_carry_on_in_child``), and
    the SIGTERM it may be sent at once.

    A forked process that does not carry the session on must die of SIGTERM as it would
    without lineprof, and one that does must write its results first.  Either way no SIGTERM
    may be lost: CPython drops a signal that arrives between fork() and its after-fork reset
    of the signal flags, and a SIGTERM sent then (multiprocessing's Pool.terminate() to a
    worker still starting) would be lost.  So SIGTERM is blocked across fork(), and the child
    unblocks it only once its action is settled (the default action, or lineprof's handler
    for a child that writes results): a SIGTERM that arrived meanwhile is then delivered."""
    # forking thread -> (whether the parent owned the session, the signal mask before)
    saved: dict[int, tuple[bool, Any]] = {}

    def ours() -> bool:
        handler = session._sigterm_handler
        return handler is not None and _signal.getsignal(_signal.SIGTERM) is handler

    def before_fork() -> None:
        mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, {_signal.SIGTERM}) if ours() else None
        saved[_thread.get_ident()] = (session.owns_process(), mask)

    def after_fork(in_child: bool) -> None:
        owned, mask = saved.pop(_thread.get_ident(), (False, None))
        try:
            if in_child:
                saved.clear()
                carried_on = owned and session._carry_on_in_child()
                _SigtermWatch.drop()  # the parent's; a multiprocessing child arms its own
                if not carried_on and ours():
                    _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
        finally:
            if mask is not None:
                _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)

    os.register_at_fork(
        before=before_fork,
        after_in_parent=lambda: after_fork(False),
        after_in_child=lambda: after_fork(True),
    )


class _SigtermWatch:
    """Python runs a signal handler between two bytecodes of the main thread.  A SIGTERM that
    arrives just before the main thread blocks in a C call is handled only when that call
    returns: an idle multiprocessing Pool worker, about to wait for a task on a semaphore,
    would never run the handler, never die, and Pool.terminate() would wait for it forever
    (the default action, which the program would get without lineprof, kills at once).

    So a multiprocessing child that handles SIGTERM for its results has a daemon thread woken
    by the signal (``_signal.set_wakeup_fd``) that interrupts the main thread with SIGTERM
    again, as long as lineprof's handler has not started.  A blocking call in the main thread
    fails with EINTR, and Python runs the handler.  A wakeup fd the program set (asyncio) is
    left alone."""

    _pid = -1  # the process the current pipe and thread belong to
    _read_fd = -1
    _write_fd = -1

    @classmethod
    def arm(cls, session: Session) -> None:
        import threading  # only for multiprocessing's children: see the module docstring

        if threading.current_thread() is not threading.main_thread():
            return  # set_wakeup_fd only works in the main thread
        if cls._pid == os.getpid():
            current = _signal.set_wakeup_fd(cls._write_fd, warn_on_full_buffer=False)
            if current not in (-1, cls._write_fd):
                _signal.set_wakeup_fd(current)  # the program's own: leave it
            return
        inherited = cls._write_fd if cls._pid != -1 else -1
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        current = _signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        if current not in (-1, inherited):
            _signal.set_wakeup_fd(current)  # the program's own: leave it
            os.close(read_fd)
            os.close(write_fd)
            return
        cls._close_inherited()
        cls._pid, cls._read_fd, cls._write_fd = os.getpid(), read_fd, write_fd
        main = threading.get_ident()
        thread = threading.Thread(
            target=cls._run, args=(read_fd, session, main), name="lineprof-sigterm", daemon=True
        )
        thread.start()

    @classmethod
    def drop(cls) -> None:
        """In a forked child: forget the parent's pipe and wakeup fd (its thread is gone)."""
        if cls._pid in (-1, os.getpid()):
            return
        try:
            current = _signal.set_wakeup_fd(-1)
            if current not in (-1, cls._write_fd):
                _signal.set_wakeup_fd(current)  # the program's own: put it back
        except ValueError:  # not the main thread
            pass
        cls._close_inherited()
        cls._pid = -1

    @classmethod
    def _close_inherited(cls) -> None:
        for fd in (cls._read_fd, cls._write_fd):
            if fd != -1:
                try:
                    os.close(fd)
                except OSError:
                    pass
        cls._read_fd = cls._write_fd = -1

    @staticmethod
    def _run(read_fd: int, session: Session, main: int) -> None:
        while True:
            try:
                data = os.read(read_fd, 512)
            except OSError:
                return
            if not data:
                return
            if _signal.SIGTERM not in data:
                continue
            while not session._sigterm_running:
                time.sleep(0.01)  # the main thread usually runs the handler meanwhile
                handler = session._sigterm_handler
                if session._sigterm_running or _signal.getsignal(_signal.SIGTERM) is not handler:
                    break  # running, or the program handles SIGTERM now
                try:
                    _signal.pthread_kill(main, _signal.SIGTERM)
                except OSError:
                    return


class _PeriodicWriter:
    def __init__(self, seconds: float, write: Callable[[], None]) -> None:
        import threading  # only for periodic writes: see the module docstring

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
        if self._thread.ident != _thread.get_ident():
            self._thread.join()

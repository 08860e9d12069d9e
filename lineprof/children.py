"""Child processes: what they record is merged into the program's results.

The process that owns a profiling session (the ``lineprof`` command, or ``@profile`` under
LINE_PROFILE=1) makes a private directory (``Collector``) and exports it in LINEPROF_CHILD_DIR.
Every process the program starts leaves its results there, as one file (``write_results``:
the results' JSON-able dict, marshalled: a child writing JSON paid ~8 ms of importing json and
re, and the owner as much to read it); the owner merges them into its own when it finishes,
then removes the directory.

- A forked child (multiprocessing's fork start method, the forkserver's workers,
  ``os.fork()``) inherits the session and carries it on with empty tables (session.py calls
  ``on_fork``), so nothing is counted twice.
- A new Python process (multiprocessing's spawn and forkserver, ``subprocess`` running
  ``sys.executable``) imports lineprof's ``sitecustomize`` (``_boot/``), which the owner puts
  first on PYTHONPATH, with what to profile in LINEPROF_CHILD_SPEC (coverage.py measures
  subprocesses the same way).  It calls ``child_process.bootstrap``
  (that side lives in child_process.py, above ``@profile``, which it hands a session): ``@profile``
  then registers into a session of this process, the owner's ``-p`` targets are profiled as
  their modules are imported, and the sitecustomize it hides, if any, runs as usual.  The
  session starts when the first function is registered: a child that profiles nothing pays
  only for importing lineprof.
- A child writes its file when it ends: at exit (atexit), from multiprocessing's exit
  finalizers in the processes multiprocessing ends with ``os._exit()`` (Pool workers, every
  fork and forkserver child), and on SIGTERM (``Pool.terminate()``) before dying of it.

Nothing here may break the program: a failure costs at most one line on stderr.
"""

from __future__ import annotations

import marshal
import os
import sys

from lineprof import environment
from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from lineprof.autoprofile import AutoProfiler
    from lineprof.results import LineStats
    from lineprof.session import Session

    Finish = Callable[[LineStats], None]

__all__ = ["Collector", "leave"]

# lineprof's sitecustomize for the children: a file of the package, none written per run
_BOOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_boot")
_SUFFIX = ".results"  # a child's results file
# First in every results file: marshal's format is the interpreter's, and only a child
# running the same CPython (and lineprof) as the owner can have lineprof's C core at all.
_TAG = ("lineprof child results", 1, tuple(sys.version_info[:2]), marshal.version)
# multiprocessing finalizer priority: after every finalizer of the process itself
_LAST_PRIORITY = -(2**31)

# This process, when a profiled program started it (child_process.bootstrap sets it).
_current_child: Any = None
_watched: set[int] = set()  # ids of the sessions multiprocessing's after-fork hook finishes
_datetime_before_fork = False  # see Collector.start


# ---- the program's own process ------------------------------------------------------------


def _remove_tree(path: str) -> None:
    """Remove a directory lineprof made and everything in it, ignoring what cannot be removed
    (shutil.rmtree's job; importing shutil at exit, when this runs, kept Python from dying of
    SIGINT after Ctrl-C)."""
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            try:
                os.unlink(os.path.join(root, name))
            except OSError:
                pass
        for name in dirs:
            try:
                os.rmdir(os.path.join(root, name))
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def _make_private_directory(prefix: str) -> str:
    """A new directory only this user can use, in the temporary directory (TMPDIR, TEMP or
    TMP when one names a directory, else /tmp; the working directory as a last resort), as
    tempfile.mkdtemp makes; made here because importing tempfile (random, shutil, its
    classes) cost some ms of every lineprof command's start-up."""
    candidates = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
    root = next((c for c in candidates if c and os.path.isdir(c)), None)
    if root is None:
        root = "/tmp" if os.path.isdir("/tmp") else os.getcwd()
    for _ in range(100):
        path = os.path.join(os.path.abspath(root), prefix + os.urandom(6).hex())
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no unused name for a directory in {root}")


class Collector:
    """The directory the program's child processes write their results to."""

    def __init__(self, directory: str, saved_environment: dict[str, str | None]) -> None:
        self.directory = directory
        self._results = ResultsDirectory(directory)
        self._saved_environment = saved_environment
        self._closed = False

    @classmethod
    def start(
        cls,
        auto: AutoProfiler | None = None,
        builtin: bool = False,
        memory: bool | None = None,
        line_profiler_alias: bool = False,
    ) -> Collector | None:
        """Make the directory, and export it to the processes started from now on: what
        they profile is what ``@profile`` registers, ``auto``'s targets, with ``builtin`` a
        bare ``@profile``, with ``line_profiler_alias`` line_profiler's ``profile`` (as the
        command has it, line_profiler_alias.py).  None, after a line on stderr, when that
        fails."""
        leave()  # a lineprof command run by a profiled program: a collection of its own
        _import_datetime_before_forking()
        try:
            directory = _make_private_directory("lineprof-children-")
        except OSError as exc:
            warn(f"child processes will not be profiled: {exc}")
            return None
        spec = {
            "builtin": builtin,
            "auto": auto.to_spec() if auto is not None and not auto.empty else None,
            "memory": memory,  # None: the child's own LINEPROF_MEMORY decides
            "line_profiler_alias": line_profiler_alias,
        }
        names = ("PYTHONPATH", environment.CHILD_DIR, environment.CHILD_SPEC)
        saved = {name: os.environ.get(name) for name in names}
        path = saved["PYTHONPATH"]
        os.environ["PYTHONPATH"] = _BOOT + os.pathsep + path if path else _BOOT
        os.environ[environment.CHILD_DIR] = directory
        # marshal, as the results: a literal the sitecustomize reads without importing ast
        tag = sys.implementation.cache_tag
        os.environ[environment.CHILD_SPEC] = f"{tag}:{marshal.dumps(spec).hex()}"
        return cls(directory, saved)

    def on_fork(self, session: Session) -> Finish:
        """session.py's ``on_fork``: a forked child writes its results here."""
        return self._results.adopt(session)

    def after_start(self) -> None:
        """Once the session has started (its atexit handler is registered): at exit, let
        multiprocessing end its children before the session finishes."""
        import atexit

        atexit.register(_let_multiprocessing_finish)

    def merge(self, stats: LineStats) -> LineStats:
        """``stats`` with every child's results added to it; the directory is removed."""
        if self._closed:
            return stats
        # No child wrote anything, the common case: the empty directory goes in one call (it
        # fails on a directory with a file, even one a child is still writing).  A child that
        # writes from now on cannot, as after the rename below.
        try:
            os.rmdir(self.directory)
        except OSError:
            pass
        else:
            self.close()
            return stats
        # Renamed first: a child that writes from now on cannot (the path is gone) and says
        # nothing, instead of adding a file while the directory is being removed.
        directory = self.directory + ".merging"
        try:
            os.rename(self.directory, directory)
        except OSError:
            directory = self.directory
        found: list[LineStats] = []
        failures: list[str] = []
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            names = []
            failures.append(str(exc))
        for name in names:
            if name.startswith(".") or not name.endswith(_SUFFIX):
                continue  # a temporary file of a child killed mid-write
            try:
                found.append(read_results(os.path.join(directory, name), type(stats)))
            except (OSError, ValueError) as exc:
                failures.append(str(exc))
        self.close(directory)
        if failures:
            warn(f"the results of {len(failures)} child process(es) are missing: {failures[0]}")
        return type(stats).merge([stats, *found]) if found else stats

    def close(self, directory: str | None = None) -> None:
        """Remove the directory (or what it was renamed to) and stop exporting it
        (idempotent)."""
        self._closed = True
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = {}
        _remove_tree(directory or self.directory)


def _import_datetime_before_forking() -> None:
    """A forked child's results carry their start time, which takes datetime's classes
    (stats.datetime_classes), and so does merging them: a program that forks imports them
    once, before its first fork, instead of each child at its exit (on the way to the
    program's join) and the program again at the merge.  One that never forks never does."""
    global _datetime_before_fork
    if not _datetime_before_fork and hasattr(os, "register_at_fork"):
        from lineprof.stats import datetime_classes  # noqa: PLC0415 (loaded by the session)

        os.register_at_fork(before=datetime_classes)
        _datetime_before_fork = True


def _let_multiprocessing_finish() -> None:
    """multiprocessing's exit handler terminates the pools and daemonic processes left
    running, and joins the others: their results are written then.  It runs after the
    session's own atexit handler when multiprocessing was imported before profiling started
    (atexit runs the last registered first); run it now in that case."""
    util: Any = sys.modules.get("multiprocessing.util")
    if util is None or getattr(util, "_exiting", True):
        return
    try:
        util._exit_function()
    except Exception as exc:
        warn(f"multiprocessing's exit handler failed: {exc}")


# ---- every process of the program --------------------------------------------------------


class ResultsDirectory:
    """Where the processes of one profiled program write their results."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def write(self, stats: LineStats) -> None:
        """A child's ``finish``: its results, as a file of its own (none when it ran nothing
        profiled).  Silent once the program has finished and removed the directory."""
        if not any(hits for rows in stats.timings.values() for _, hits, _ in rows):
            return
        name = f"{os.getpid()}-{os.urandom(4).hex()}{_SUFFIX}"
        try:
            write_results(os.path.join(self.directory, name), stats)
        except Exception as exc:
            if os.path.isdir(self.directory):
                warn(f"child process {os.getpid()} could not save its results: {exc}")

    def adopt(self, session: Session) -> Finish:
        """A child forked from a process that records for the program: it writes here."""
        finish_with_multiprocessing(session)
        return self.write


def write_results(path: str, stats: LineStats) -> None:
    """A child's results file, written atomically: ``_TAG`` and ``stats.to_dict()``,
    marshalled."""
    from lineprof.stats import atomic_write  # noqa: PLC0415 (only when a child has results)

    data = marshal.dumps((_TAG, stats.to_dict()))
    atomic_write(path, lambda out: out.write(data))


def read_results(path: str, cls: type[LineStats]) -> LineStats:
    """A child's results file; ValueError when it is not one this process can read."""
    with open(path, "rb") as file:
        data = file.read()
    try:
        tag, results = marshal.loads(data)
    except (EOFError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a child's results file ({exc})") from None
    if tag != _TAG:
        raise ValueError(f"{path}: written by another lineprof or Python ({tag!r})")
    return cls.from_dict(results, source=path)


def finish_with_multiprocessing(session: Session) -> None:
    """multiprocessing ends the processes it forks with ``os._exit()``, so atexit never runs
    there: its exit finalizers, run last, finish the session instead.  A process it starts
    clears the finalizers inherited by fork() and then runs its after-fork hooks: one of them
    registers the finalizer again."""
    util: Any = sys.modules.get("multiprocessing.util")
    if util is None:
        return
    util.Finalize(session, session.finish, exitpriority=_LAST_PRIORITY)
    if id(session) not in _watched:
        _watched.add(id(session))
        util.register_after_fork(session, _finalize_again)


def _finalize_again(session: Session) -> None:
    """multiprocessing's after-fork hook: in each process it forks (fork and forkserver
    start methods), once it has cleared the inherited finalizers."""
    util: Any = sys.modules["multiprocessing.util"]
    util.Finalize(session, session.finish, exitpriority=_LAST_PRIORITY)
    session.watch_sigterm()  # a Pool may end it with SIGTERM and wait for it


# ---- a child process (child_process.py) -----------------------------------------------


def leave() -> None:
    """This process starts a collection of its own (a ``lineprof`` command run by a
    profiled program): it stops profiling for the program that started it."""
    global _current_child
    if _current_child is not None:
        _current_child.leave()
        _current_child = None


def warn(message: str) -> None:
    try:
        print(f"lineprof: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass

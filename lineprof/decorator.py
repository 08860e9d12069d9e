"""``@profile``: switched on by LINE_PROFILE=1 (or ``--line-profile``), free otherwise.

>>> from lineprof import profile
>>> @profile
... def work(): ...

Off (the default), ``profile(func)`` returns ``func`` itself: nothing is wrapped, nothing is
paid.  On, the first ``@profile`` starts one profiling session for the whole process and every
``@profile`` registers its function (or every method of its class) with it, still returning
the function itself: recording costs nothing per call beyond the line events.  When the
program ends (normally, by an uncaught exception, ``sys.exit()``, Ctrl-C or SIGTERM) a summary
goes to stdout, the full report to ``profile_output.txt`` and the results to
``profile_output.lprof`` (see ``environment.output_prefix``; ``profile_output.json`` in memory
mode, LINEPROF_MEMORY=1, whose columns the .lprof format has no place for).

Under the ``lineprof`` command the command owns the session and writes its own files; the
same ``profile`` object registers into it.  In a child process of a profiled program
(children.py) ``@profile`` is on, and what it records is merged into the program's results.
"""

# No ``from __future__ import annotations`` here: see lineprof/__init__.py.

import io
import os
import sys

from lineprof import environment
from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when profiling starts: the off path stays an import of this file
    from collections.abc import Callable
    from typing import IO, Any, TypeVar

    from lineprof.profiler import LineProfiler
    from lineprof.results import LineStats
    from lineprof.session import Session

__all__ = ["GlobalProfiler", "profile"]

if TYPE_CHECKING:
    T = TypeVar("T")


class GlobalProfiler:
    """The ``profile`` decorator and its switches (``enable``, ``disable``, ``show``)."""

    def __init__(self) -> None:
        self._session: Session | None = None
        self._decided = False  # whether the environment has been consulted
        self._output_prefix: str | None = None  # absolute, fixed when the session starts
        # In a child process of a profiled program: makes (once) the session to register into.
        self._child: Callable[[], Session] | None = None
        # The command's cProfile mode (no -l) lends its own ``profile``: everything goes there.
        self._stand_in: Any = None

    def __repr__(self) -> str:
        state = "off" if self._session is None else "on"
        return f"<lineprof.profile ({state})>"

    # ---- the decorator ------------------------------------------------------------------

    def __call__(self, func: "T") -> "T":
        """Register ``func`` when profiling is on; return ``func`` itself, or before CPython
        3.12 a wrapper of it (below).

        ``func`` is anything ``LineProfiler.add_function`` takes; a class has the functions
        it defines itself registered (and those of its nested classes), not those assigned
        into it from elsewhere.

        Before 3.12 the hook that follows calls slows every thread it is installed in, profiled
        code or not (3.2x on 3.11 for call-heavy code).  So where ``func`` is a plain function
        that nothing but this call refers to yet (the usual ``@profile`` on a ``def``), the
        wrapper returned installs the hook only while ``func`` runs (csrc/entry.c),
        and as long as every profiled function is such a one, the rest of the program runs at
        full speed.  A function something else holds already (``@profile`` above a decorator
        that registers it, as Flask's ``@app.route`` does, or ``profile(f)`` on a defined
        ``f``) might be called without the wrapper, and one that may recurse deeply would nest
        C calls through it (_may_recurse_deeply): such a function is returned itself, and
        every thread gets the hook from then on, as for anything else registered."""
        refs = sys.getrefcount(func)  # first thing, as _refs_of_a_fresh_function counts them
        if self._stand_in is not None:
            return self._stand_in(func)  # type: ignore[no-any-return]
        if self._session is None:
            if self._decided:
                return func
            self._decided = True
            if self._child is not None:
                self._start_child_session()
                if self._session is None:
                    return func
            elif not environment.line_profile_requested() or _in_multiprocessing_child():
                return func
            else:
                self._start_own_session()
                if self._session is None:
                    return func
        profiler = self._session.profiler
        if (
            _plain_function(func)
            and refs <= _refs_of_a_fresh_function()
            and not _may_recurse_deeply(func)
            and profiler._hooks_on_entry()
        ):
            return profiler._add_entered_through_wrapper(func)  # type: ignore[arg-type, return-value]
        self._register(profiler, func)
        return func

    @staticmethod
    def _register(profiler: "LineProfiler", func: "Any") -> None:
        # Registered once however often it is decorated (registration is idempotent); the
        # object itself is returned, so every kind keeps working as it did.  Profiling must not
        # break a program that runs fine without it: what cannot be profiled gets a note.
        try:
            if profiler._add_callable(func) is None:
                print(
                    f"lineprof: @profile: {func!r} has no Python code to profile (a C "
                    "function?); left unprofiled",
                    file=sys.stderr,
                )
        except TypeError as exc:
            print(f"lineprof: @profile: {exc}; left unprofiled", file=sys.stderr)

    # ---- explicit control ---------------------------------------------------------------

    def enable(self, output_prefix: str | None = None) -> None:
        """Profile from now on: start recording, and make later ``@profile`` register.

        Without LINE_PROFILE=1 this starts the same session LINE_PROFILE=1 would (results
        written at exit, to ``output_prefix``.txt/.lprof when given)."""
        if self._stand_in is not None:
            self._stand_in.enable()
            return
        if output_prefix is not None:
            self._output_prefix = os.path.abspath(output_prefix)
        self._decided = True
        if self._session is None:
            if self._child is not None:
                self._start_child_session()
                if self._session is not None:
                    try:
                        self._session.start()
                    except RuntimeError as exc:  # the backend LINEPROF_BACKEND insists on
                        _profiling_is_off(exc)
            elif _in_multiprocessing_child():
                return
            else:
                self._start_own_session()
        else:
            self._session.profiler.enable()

    def disable(self) -> None:
        """Stop recording until ``enable()``.  Called before any ``@profile`` (and
        before LINE_PROFILE=1 took effect), it keeps ``@profile`` off."""
        if self._stand_in is not None:
            self._stand_in.disable()
            return
        self._decided = True
        if self._session is not None:
            self._session.profiler.disable()

    def show(self, stream: "IO[str] | None" = None, output_unit: float | None = None) -> None:
        """Print the full report of what was recorded so far (nothing when profiling is
        off).  The results files are still written at exit."""
        if self._session is not None:
            self._session.profiler.get_stats().print(stream=stream, output_unit=output_unit)

    @property
    def profiler(self) -> "LineProfiler | None":
        """The LineProfiler ``@profile`` registers into, or None while profiling is off."""
        return self._session.profiler if self._session is not None else None

    # ---- sessions -----------------------------------------------------------------------

    def _use_session(self, session: "Session | None") -> None:
        """The ``lineprof`` command lends its session (None hands it back): ``@profile``
        registers there and the command writes the results."""
        self._session = session
        self._decided = session is not None

    def _use_stand_in(self, stand_in: "Any") -> None:
        """The command's cProfile mode lends the ``profile`` it puts in the builtins (None
        hands it back): ``@profile``, ``enable()`` and ``disable()`` go to it."""
        self._stand_in = stand_in

    def _use_child(self, make_session: "Callable[[], Session]") -> None:
        """This process is a child of a profiled program (children.py): ``@profile`` is on
        and registers into the session ``make_session`` makes when first needed."""
        self._child = make_session
        self._session = None
        self._decided = False

    def _start_child_session(self) -> None:
        assert self._child is not None
        try:
            self._session = self._child()
        except ValueError as exc:  # LINEPROF_BACKEND names a backend this Python lacks
            _profiling_is_off(exc)

    def _start_own_session(self) -> None:
        if self._output_prefix is None:
            self._output_prefix = os.path.abspath(environment.output_prefix())
        from lineprof.profiler import LineProfiler
        from lineprof.session import Session

        try:
            profiler = LineProfiler()
        except ValueError as exc:  # LINEPROF_BACKEND names a backend this Python lacks
            _profiling_is_off(exc)
            return
        collector = None
        if environment.children_requested():
            from lineprof.children import Collector

            collector = Collector.start()
        finish = self._write_outputs
        if collector is not None:
            merge = collector.merge

            def finish(stats: "LineStats") -> None:
                self._write_outputs(merge(stats))

        session = Session(profiler, finish, collector.on_fork if collector is not None else None)
        try:
            session.start()
        except RuntimeError as exc:  # the backend LINEPROF_BACKEND insists on is taken
            if collector is not None:
                collector.close()
            _profiling_is_off(exc)
            return
        if collector is not None:
            collector.after_start()
        self._session = session

    def _write_outputs(self, stats: "LineStats") -> None:
        """At exit: summary on stdout, report and results files, and where they are."""
        if not stats.timings:
            return
        assert self._output_prefix is not None
        text_path = self._output_prefix + ".txt"
        # Memory figures do not fit line_profiler's .lprof: lineprof's JSON keeps them.
        results_path = self._output_prefix + (".lprof" if stats.memory is None else ".json")
        summary = io.StringIO()
        stats.print(stream=summary, details=False, summarize=True, sort=True, stripzeros=True)
        lines = [summary.getvalue().rstrip("\n")]
        try:
            with open(text_path, "w", encoding="utf-8") as out:
                stats.print(stream=out)
            lines.append(f"Wrote profile results to {_shown(text_path)}")
        except OSError as exc:
            lines.append(f"lineprof: cannot write {_shown(text_path)}: {exc.strerror}")
        from lineprof.results import dump_with_fallback

        try:
            written, error = dump_with_fallback(stats, results_path)
            if error is not None:
                lines.append(f"lineprof: cannot write {_shown(results_path)}: {error.strerror}")
            lines.append(f"Wrote profile results to {_shown(written)}")
            lines.append("To view details run:")
            quoted = shell_quote(_shown(written))
            lines.append(f"{_python_command()} -m lineprof show {quoted}")
        except OSError as exc:
            lines.append(f"lineprof: cannot write {_shown(results_path)}: {exc.strerror}")
        try:
            print("\n".join(lines), flush=True)
        except (OSError, ValueError):  # stdout closed or a broken pipe: the files are there
            pass


def _profiling_is_off(exc: Exception) -> None:
    # Profiling must not break a program that runs fine without it.
    print(f"lineprof: @profile: profiling is off: {exc}", file=sys.stderr)


def _in_multiprocessing_child() -> bool:
    from lineprof.session import in_multiprocessing_child

    return in_multiprocessing_child()


def _shown(path: str) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith(os.pardir) else relative


def _which(name: str) -> str | None:
    """The first executable ``name`` on PATH (shutil.which, without importing shutil here: this
    runs at exit, and importing shutil then, with its compression modules, kept Python from
    dying of SIGINT after Ctrl-C)."""
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(directory or os.curdir, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _python_command() -> str:
    """How to call this Python: its short name when that finds this interpreter.  The same
    interpreter is the same file in the same directory, not the same binary: a virtual
    environment's ``python`` is a link to its base Python's, and only the path through the
    environment's directory (where pyvenv.cfg is) has the environment's packages."""
    executable = sys.executable or "python"
    name = os.path.basename(executable)
    found = _which(name)
    if found and _directory(found) == _directory(executable):
        return name
    return shell_quote(executable)


def _directory(path: str) -> str:
    """The directory ``path`` is in, its links resolved (not the file's own)."""
    return os.path.realpath(os.path.dirname(os.path.abspath(path)))


# shlex.quote's safe characters; shlex itself imports re (~3 ms with enum, CPython 3.13) into
# every program that writes results at exit.
_SHELL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-")


def shell_quote(text: str) -> str:
    """``shlex.quote(text)``: the text itself when the shell reads it as one plain word."""
    if not text:
        return "''"
    if all(char in _SHELL_SAFE for char in text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


profile = GlobalProfiler()


_CO_GENERATOR_OR_COROUTINE = 0x20 | 0x80 | 0x100 | 0x200  # generator, coroutine, both async


def _plain_function(func: "Any") -> bool:
    """A ``def`` (no generator or coroutine, whose frames outlive a call)."""
    code = getattr(func, "__code__", None)
    return (
        type(func).__name__ == "function"
        and type(func).__module__ == "builtins"
        and code is not None
        and not code.co_flags & _CO_GENERATOR_OR_COROUTINE
    )


# The deepest recursion an entry wrapper may be asked to go through.  The wrapper is C, so each
# call through it takes a C stack frame of CPython's evaluation loop (about 0.4 KB on 3.11),
# where 3.11 makes a Python call from Python code without one: 10,000 nested calls fit an 8 MB
# stack with room to spare; 20,000 crashed the interpreter on 3.11.7.
_SAFE_RECURSION_LIMIT = 10_000


def _may_recurse_deeply(func: "Any") -> bool:
    """Whether calls of ``func`` may nest deep enough through an entry wrapper to exhaust the C
    stack: it names itself (a recursive function, or a method calling itself through
    ``self``), or the recursion limit allows more than _SAFE_RECURSION_LIMIT frames.  Such a
    function is returned unwrapped and every thread gets the hook (profiled as before)."""
    if sys.getrecursionlimit() > _SAFE_RECURSION_LIMIT:
        return True
    name = func.__code__.co_name
    codes = [func.__code__]
    while codes:
        code = codes.pop()
        if name in code.co_names or name in code.co_freevars:  # a global, attribute, closure
            return True
        codes.extend(c for c in code.co_consts if isinstance(c, type(code)))
    return False


class _RefCounter:
    def __call__(self, func: "Any") -> int:
        return sys.getrefcount(func)


_fresh_refs: int | None = None


def _refs_of_a_fresh_function() -> int:
    """The references a function just defined has when the ``__call__`` of the decorator
    above it starts (the caller's, the call's, the argument's, getrefcount's own: counted
    here, not assumed, as they differ between CPython versions)."""
    global _fresh_refs
    if _fresh_refs is None:
        count = _RefCounter()

        @count
        def fresh() -> None:
            pass

        _fresh_refs = fresh  # count() returned an int
    return _fresh_refs

"""kernprof's cProfile mode: ``lineprof script.py`` without ``-l``.

As kernprof 5.1 does, the program runs under the standard library's ``cProfile`` (whole, or
with ``-b`` only inside what ``profile`` marks) and the results go to ``SCRIPT.prof`` in
``pstats``' format; ``-v`` prints them as ``cProfile`` does (``Ordered by: standard name``).
lineprof's own profiler plays no part here: no line events, no child processes collected.

``profile`` in this mode is kernprof's ``ContextualProfile`` again: ``@profile`` profiles a
function's calls, ``with profile:`` a block, ``profile.enable()``/``disable()`` switch; with
``-b`` it is in the builtins, and ``from lineprof import profile`` (and line_profiler's, see
line_profiler_alias.py) lead to it either way.

On CPython 3.12+ ``cProfile`` needs ``sys.monitoring``'s ``PROFILER_ID``, which lineprof never
holds first (backends.md): the two never compete for it.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import functools
import inspect
import os
import signal
import sys
import types

from lineprof import runner
from lineprof._typing import TYPE_CHECKING
from lineprof.decorator import _python_command, profile

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["CallProfile", "default_outfile", "run"]


def default_outfile(kind: str, target: str) -> str:
    """kernprof's names: ``script.py.prof``, ``MODULE.prof``; lineprof's for -c and stdin
    (kernprof makes up a new temporary name for each run)."""
    if kind == "script":
        return os.path.basename(target) + ".prof"
    if kind == "module":
        return target + ".prof"
    return f"lineprof-{kind}.prof"


class CallProfile:
    """``profile`` in cProfile mode (kernprof's ``ContextualProfile``): a decorator that
    profiles each call, a context manager, and the ``cProfile.Profile`` underneath for the
    rest (``enable``, ``disable``, ``print_stats``, ``dump_stats``...).

    Switching is counted, as kernprof counts it: a profiled call inside another (or inside
    the whole program's profiling) does not switch profiling off when it returns."""

    def __init__(self, profiler: Any) -> None:
        self.profiler = profiler
        self.enable_count = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.profiler, name)

    def enable_by_count(self) -> None:
        if self.enable_count == 0:
            self.profiler.enable()
        self.enable_count += 1

    def disable_by_count(self) -> None:
        if self.enable_count > 0:
            self.enable_count -= 1
            if self.enable_count == 0:
                self.profiler.disable()

    def __enter__(self) -> CallProfile:
        self.enable_by_count()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.disable_by_count()

    def __call__(self, func: Any) -> Any:
        """``func`` wrapped so that its calls (each step of a generator or coroutine) are
        profiled; a class has the functions it defines wrapped; anything else is returned
        as it is."""
        if isinstance(func, type):
            for name, member in list(vars(func).items()):
                if isinstance(member, types.FunctionType | staticmethod | classmethod):
                    setattr(func, name, self(member))
            return func
        if isinstance(func, staticmethod | classmethod):
            return type(func)(self(func.__func__))
        if not isinstance(func, types.FunctionType | types.MethodType | functools.partial):
            return func
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)
        if inspect.iscoroutinefunction(func):
            return self._wrap_coroutine(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                generator = func(*args, **kwargs)
            sent: Any = None
            while True:
                with self:
                    try:
                        item = generator.send(sent)
                    except StopIteration as stop:
                        return stop.value
                try:
                    sent = yield item
                except BaseException as exc:  # thrown in: into the generator, profiled
                    with self:
                        try:
                            item = generator.throw(exc)
                        except StopIteration as stop:
                            return stop.value
                    sent = yield item

        return wrapper

    def _wrap_coroutine(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:  # across its awaits, as kernprof's
                return await func(*args, **kwargs)

        return wrapper


def _profile_class() -> Any:
    """cProfile's ``Profile``; kernprof falls back to ``profile`` only to refuse it."""
    try:
        from cProfile import Profile
    except ImportError:
        return None
    return Profile


class _Results:
    """Writes the results once, in the process that ran the program, however it ends."""

    def __init__(
        self,
        stand_in: CallProfile,
        outfile: str,
        view: int,
        quiet: int,
        launcher: str,
    ) -> None:
        self.stand_in = stand_in
        self.outfile = outfile
        self.path = os.path.abspath(outfile)  # the program may change directory
        self.view = view
        self.quiet = quiet
        self.launcher = launcher
        self.pid = os.getpid()
        self.done = False
        self.note: str | None = None  # a warning for stderr, after the traceback

    def finish(self) -> None:
        if self.done or os.getpid() != self.pid:  # a forked child writes nothing
            return
        self.done = True
        profiler = self.stand_in.profiler
        profiler.disable()
        self.stand_in.enable_count = 0
        if self.note is not None and self.quiet < 3:
            print(f"lineprof: warning: {self.note}", file=sys.stderr)
        with runner.Silence(self.quiet):
            try:
                profiler.dump_stats(self.path)
            except OSError as exc:
                why = exc.strerror or exc
                message = f"lineprof: error: cannot write results to {self.outfile}: {why}"
                print(message, file=sys.stderr)
                return
            try:
                if not self.quiet:
                    print(f"Wrote profile results to {self.outfile}")
                if self.view and not profiler.stats:
                    print(
                        "lineprof: nothing was profiled: with -b only what profile marks "
                        "(@profile, with profile:) is",
                        file=sys.stderr,
                    )
                elif self.view:
                    import pstats

                    stats = pstats.Stats(profiler, stream=sys.stdout)
                    stats.strip_dirs().sort_stats(-1).print_stats()  # cProfile's print_stats()
                elif not self.quiet:
                    command = f"{_python_command()} -m pstats {self.outfile}"
                    print(f"Inspect results with:\n{command}")
                sys.stdout.flush()
            except (OSError, ValueError):  # stdout closed or a broken pipe: the file is saved
                pass


class _Forks:
    """A forked child (a multiprocessing worker) writes nothing, so it must die of SIGTERM
    as it would without lineprof: the handler is not inherited.  SIGTERM is blocked across
    fork() so that none arrives before the child has put the default action back (a Pool
    terminating a worker that is still starting would otherwise wait for it for ever)."""

    def __init__(self) -> None:
        self.handler: Any = None
        self.registered = False
        self.mask: Any = None

    def register(self) -> None:
        if not self.registered and hasattr(os, "register_at_fork"):
            self.registered = True
            os.register_at_fork(
                before=self.before, after_in_parent=self.after, after_in_child=self.in_child
            )

    def ours(self) -> bool:
        return self.handler is not None and signal.getsignal(signal.SIGTERM) is self.handler

    def before(self) -> None:
        if self.ours():
            self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    def after(self) -> None:
        mask, self.mask = self.mask, None
        if mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def in_child(self) -> None:
        if self.ours():
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        self.handler = None
        self.after()


_FORKS = _Forks()


def _on_sigterm(results: _Results) -> Callable[[], None] | None:
    """Write the results on SIGTERM, then die of it, when SIGTERM has its default action."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None

    def handler(signum: int, frame: types.FrameType | None) -> None:
        results.finish()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return None
    _FORKS.handler = handler
    _FORKS.register()

    def undo() -> None:
        _FORKS.handler = None
        if signal.getsignal(signal.SIGTERM) is handler:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return undo


def run(
    prepared: runner.Prepared,
    *,
    outfile: str,
    setup: str | None,
    builtin: bool,
    view: int,
    quiet: int,
    launcher: str,
    undo: contextlib.ExitStack | None,
) -> int:
    """Run the prepared program (``runner.enter_main`` done) under cProfile.  ``undo`` (in
    process only) takes what main() must put back; the results are then written before
    main() returns, and otherwise at exit, after the program's own atexit handlers."""
    Profile = _profile_class()
    if Profile is None:
        from lineprof.cli_options import CliError

        raise CliError("profiling without -l needs cProfile, which this Python lacks; use -l")
    stand_in = CallProfile(Profile())
    results = _Results(stand_in, outfile, view, quiet, launcher)
    if undo is not None:
        undo.callback(profile._use_stand_in, None)
        undo.callback(results.finish)
    profile._use_stand_in(stand_in)
    if builtin:
        builtins.__dict__["profile"] = stand_in
    silence = runner.Silence(quiet)
    silence.start()
    try:
        if setup:
            runner.run_setup(setup)  # before profiling starts, as kernprof's
        if undo is None:
            atexit.register(results.finish)
            _on_sigterm(results)
        else:
            put_back = _on_sigterm(results)
            if put_back is not None:
                undo.callback(put_back)
        if view >= 2:
            what = "only what profile marks (-b)" if builtin else "the whole program"
            for line in (
                f"running {prepared.filename} as __main__ with sys.argv {sys.argv!r}",
                f"profiler: cProfile, {what} (-l for line by line)",
                f"results: {results.path}",
            ):
                print(f"lineprof: {line}", file=sys.stderr)
        if not builtin:
            stand_in.enable_by_count()  # kernprof without -b: everything the program runs
        try:
            runner.run(prepared)
        finally:
            if not builtin:
                stand_in.disable_by_count()  # the program's end, as kernprof's (not lineprof's)
    except NameError as exc:
        if getattr(exc, "name", None) == "profile" and not builtin:
            results.note = (
                "'profile' is not defined: add 'from lineprof import profile' to the "
                "script, or run lineprof with -b (or -l) to put profile in the builtins"
            )
        raise
    finally:
        silence.stop()
    return 0

"""LineProfiler: line_profiler's API over the C tracer.

This layer decides what to profile (it finds the code objects under functions, methods,
properties, partials, classes and modules), which hook to use, and when to switch profiling on
and off.  The C ``Tracer`` only records.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import os
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from time import perf_counter
from typing import IO, Any, TypeVar

from lineprof import _config, _lineprof, clock, codemap
from lineprof.stats import LineStats, Metadata, capture_sources, load_stats

__all__ = ["LineProfiler", "load_stats"]

F = TypeVar("F", bound=Callable[..., Any])


class LineProfiler:
    """Time every line of the functions you register.

    >>> lp = LineProfiler(my_function)
    >>> lp.runcall(my_function, 10_000)
    >>> lp.print_stats()
    """

    def __init__(
        self, *functions: Any, backend: str | None = None, calibrate: bool | None = None
    ) -> None:
        self._tracer = _lineprof.Tracer()
        # Report each line's time less what lineprof's own callbacks for profiled events
        # measured of themselves inside it (csrc/lineprof.h, LPLineCell); False: the clock's
        # figures as read.
        self._calibrate = calibrate if calibrate is not None else _config.calibrate()
        self._backend = backend if backend is not None else _config.backend()
        if self._backend != "auto" and self._backend not in _lineprof.BACKENDS:
            version = ".".join(map(str, sys.version_info[:2]))
            raise ValueError(
                f"backend {self._backend!r} is not available on CPython {version}; "
                f"choose auto or one of: {', '.join(_lineprof.BACKENDS)}"
            )
        self._qualnames: dict[int, str] = {}  # id(code) -> qualified name; codes are held
        self.functions: list[Callable[..., Any]] = []
        self.enable_count = 0
        # For the results' metadata: when profiling first started, and how long it has been
        # on (closed periods, plus the open one since _enabled_since).
        self._started_at: datetime.datetime | None = None
        self._enabled_seconds = 0.0
        self._enabled_since: float | None = None
        for function in functions:
            self.add_function(function)

    # ---- registration -------------------------------------------------------------------

    def add_function(self, func: Any) -> None:
        """Profile ``func``: a function, generator or coroutine function, bound method,
        staticmethod, classmethod, property, functools.partial, or a decorated function
        (the ``__wrapped__`` chain is followed)."""
        functions = _underlying_functions(func)
        if not functions:
            raise TypeError(
                f"lineprof can only profile Python functions; got {func!r} "
                f"({type(func).__name__}), which has no Python code underneath"
            )
        for function in functions:
            self._add_code(function.__code__, _qualname(function))
            self.functions.append(function)

    def add_code(self, code: types.CodeType, qualname: str | None = None) -> bool:
        """Profile a code object directly: a script's or a notebook cell's module code, say.
        ``qualname`` names it in reports (default: the code's own qualified name).  Returns
        False if it was registered already."""
        if not isinstance(code, types.CodeType):
            raise TypeError(f"add_code needs a code object, got {code!r}")
        if qualname is None:
            qualname = str(getattr(code, "co_qualname", code.co_name))
        return self._add_code(code, qualname)

    def add_class(self, cls: type) -> int:
        """Profile every function defined in ``cls`` (and in classes nested in it).
        Returns how many were added."""
        if not isinstance(cls, type):
            raise TypeError(f"add_class needs a class, got {cls!r}")
        return self._add_namespace(cls, cls.__module__, set())

    def add_module(self, module: types.ModuleType) -> int:
        """Profile every function and class defined in ``module`` (not those it imports).
        Returns how many functions were added."""
        if not isinstance(module, types.ModuleType):
            raise TypeError(f"add_module needs a module, got {module!r}")
        return self._add_namespace(module, module.__name__, set())

    def _add_namespace(self, namespace: Any, module_name: str, seen: set[int]) -> int:
        if id(namespace) in seen:
            return 0
        seen.add(id(namespace))
        added = 0
        for value in list(vars(namespace).values()):
            if isinstance(value, type):
                if value.__module__ == module_name and value is not namespace:
                    added += self._add_namespace(value, module_name, seen)
                continue
            for function in _underlying_functions(value):
                if function.__module__ != module_name:
                    continue
                if self._add_code(function.__code__, _qualname(function)):
                    self.functions.append(function)
                    added += 1
        return added

    def _add_code(self, code: types.CodeType, qualname: str) -> bool:
        lay = codemap.layout(code)
        added = bool(self._tracer.add_code(code, lay.first_line, lay.rows, lay.start_offset))
        if added:
            self._qualnames[id(code)] = qualname
        return added

    # ---- switching on and off -----------------------------------------------------------

    def enable(self) -> None:
        """Start recording (idempotent)."""
        if self._tracer.enabled:
            return
        # Another tool's hooks in this thread (ours report the _lineprof module as object).
        tracer: object = sys.gettrace()
        profiler: object = sys.getprofile()
        self._start_tracer()
        self._note_foreign_hooks(tracer, profiler)
        if self._started_at is None:
            self._started_at = datetime.datetime.now(datetime.timezone.utc)
        self._enabled_since = perf_counter()

    def _start_tracer(self) -> None:
        if self._backend != "auto":
            candidates = [self._backend]
        else:
            candidates = list(_lineprof.BACKENDS)
            if "setprofile" in candidates and sys.getprofile() is not None:
                # Another profiler (cProfile, say) holds the profile hook: leave it alone.
                candidates.remove("setprofile")
        if _lineprof.active_backend() is None:
            # The first session in this process picks the clock (it can change only while
            # nothing records).
            clock.ensure()
        for backend in candidates[:-1]:
            try:
                self._tracer.enable(backend)
                return
            except RuntimeError:
                # The hook is taken (every sys.monitoring tool id held): try the next one.
                continue
        self._tracer.enable(candidates[-1])

    def _note_foreign_hooks(self, tracer: object, profiler: object) -> None:
        """Another tool (a debugger, coverage, cProfile) hooks this thread.  Before CPython
        3.12 a thread has one trace and one profile function: say what that means."""
        backend = _lineprof.active_backend()
        if tracer is not None and tracer is not _lineprof and backend == "setprofile":
            _warn(
                f"this thread's trace function is another tool's ({tracer!r}); lines of "
                "profiled functions are not recorded in this thread while it stays installed "
                "(one trace function per thread before CPython 3.12)"
            )
        replaced = {"settrace": ("trace", tracer), "setprofile": ("profile", profiler)}
        kind, hook = replaced.get(backend or "", ("", None))
        if hook is not None and hook is not _lineprof:
            _warn(
                f"replacing this thread's {kind} function ({hook!r}) while profiling (one per "
                "thread); it is put back when profiling stops"
            )

    def disable(self) -> None:
        """Stop recording.  Raises any internal error met while recording."""
        if self._enabled_since is not None:
            self._enabled_seconds += perf_counter() - self._enabled_since
            self._enabled_since = None
        self._tracer.disable()

    def enable_by_count(self) -> None:
        """Nestable enable: recording stops when every enable has been matched."""
        if self.enable_count == 0:
            self.enable()
        self.enable_count += 1

    def disable_by_count(self) -> None:
        if self.enable_count <= 0:
            return
        self.enable_count -= 1
        if self.enable_count == 0:
            self.disable()

    def __enter__(self) -> LineProfiler:
        self.enable_by_count()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.disable_by_count()

    # ---- running ------------------------------------------------------------------------

    def runcall(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Call ``func(*args, **kwargs)`` with profiling on; return its result."""
        self.enable_by_count()
        try:
            return func(*args, **kwargs)
        finally:
            self.disable_by_count()

    def runctx(
        self, cmd: str | types.CodeType, globals: dict[str, Any] | None, locals: Any = None
    ) -> LineProfiler:
        """``exec(cmd, globals, locals)`` with profiling on."""
        self.enable_by_count()
        try:
            exec(cmd, globals, locals)
        finally:
            self.disable_by_count()
        return self

    def run(self, cmd: str | types.CodeType) -> LineProfiler:
        """``exec(cmd)`` in ``__main__`` with profiling on."""
        import __main__

        main_dict = __main__.__dict__
        return self.runctx(cmd, main_dict, main_dict)

    # ---- as a decorator -----------------------------------------------------------------

    def __call__(self, func: Any) -> Any:
        """``@lp``: register ``func`` and profile each call to it.

        Works on functions, generator functions, coroutine functions, async generator
        functions, properties, static/class methods (wrapped inside) and classes (every method
        registered, the class returned as is)."""
        if isinstance(func, type):
            self.add_class(func)
            return func
        if isinstance(func, property):
            fget, fset, fdel = (
                self(f) if f is not None else None for f in (func.fget, func.fset, func.fdel)
            )
            return property(fget, fset, fdel, func.__doc__)
        if isinstance(func, staticmethod):
            return staticmethod(self(func.__func__))
        if isinstance(func, classmethod):
            return classmethod(self(func.__func__))
        self.add_function(func)
        return self._wrap(func)

    def _wrap(self, func: F) -> F:
        if inspect.isasyncgenfunction(func):
            wrapper: Callable[..., Any] = self._wrap_async_generator(func)
        elif inspect.iscoroutinefunction(func):
            wrapper = self._wrap_coroutine(func)
        elif inspect.isgeneratorfunction(func):
            wrapper = self._wrap_generator(func)
        else:

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                self.enable_by_count()
                try:
                    return func(*args, **kwargs)
                finally:
                    self.disable_by_count()

        functools.update_wrapper(wrapper, func)
        return wrapper  # type: ignore[return-value]

    def _wrap_generator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Profiling is on only while the generator runs, not while it is suspended.
        def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            gen = func(*args, **kwargs)
            send_value: Any = None
            throw: BaseException | None = None
            while True:
                self.enable_by_count()
                try:
                    if throw is not None:
                        exc, throw = throw, None
                        item = gen.throw(exc)
                    else:
                        item = gen.send(send_value)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                finally:
                    self.disable_by_count()
                try:
                    send_value = yield item
                except GeneratorExit:
                    gen.close()
                    raise
                except BaseException as exc:  # noqa: B036 - forwarded into the generator
                    throw = exc

        return wrapper

    def _wrap_coroutine(self, func: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.enable_by_count()
            try:
                return await func(*args, **kwargs)
            finally:
                self.disable_by_count()

        return wrapper

    def _wrap_async_generator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            agen = func(*args, **kwargs)
            send_value: Any = None
            throw: BaseException | None = None
            while True:
                self.enable_by_count()
                try:
                    if throw is not None:
                        exc, throw = throw, None
                        item = await agen.athrow(exc)
                    else:
                        item = await agen.asend(send_value)
                except StopAsyncIteration:
                    return
                finally:
                    self.disable_by_count()
                try:
                    send_value = yield item
                except GeneratorExit:
                    await agen.aclose()
                    raise
                except BaseException as exc:  # noqa: B036 - forwarded into the generator
                    throw = exc

        return wrapper

    # ---- results ------------------------------------------------------------------------

    def get_stats(self) -> LineStats:
        """A snapshot of the results: ``.timings`` maps (filename, first line, qualified
        name) to [(line, hits, time), ...]; ``.unit`` is seconds per time unit; ``.sources``
        keeps each function's source lines as they are now, so the results can be shown where
        the files are gone; ``.metadata`` says what ran, when and with what; ``.times`` and
        ``.subtracted`` say whether lineprof's own measured cost was taken out of the times and
        how much, per line (``.raw()`` adds it back)."""
        subtract = self._calibrate
        timings: dict[tuple[str, int, str], list[tuple[int, int, int]]] = {}
        subtracted: dict[tuple[str, int, str], dict[int, int]] = {}
        for code, rows in self._tracer.stats():
            key = (code.co_filename, code.co_firstlineno, self._qualnames[id(code)])
            lines = [(line, hits, ns - spent if subtract else ns) for line, hits, ns, spent in rows]
            # Distinct code objects with one name and place (e.g. a function defined again by
            # exec) are reported together.
            timings[key] = _merge_lines(timings[key], lines) if key in timings else lines
            if subtract:
                taken = subtracted.setdefault(key, {})
                for line, _, _, spent in rows:
                    taken[line] = taken.get(line, 0) + spent
        duration = None
        if self._started_at is not None:
            duration = self._enabled_seconds
            if self._enabled_since is not None:
                duration += perf_counter() - self._enabled_since
        return LineStats(
            timings,
            1e-9,
            sources=capture_sources(timings),
            metadata=Metadata.current(self._started_at, duration),
            subtracted=subtracted if subtract else None,
            raw=not subtract,
        )

    def clear(self) -> None:
        """Forget everything recorded so far (registrations stay)."""
        self._tracer.clear()
        self._started_at = None
        self._enabled_seconds = 0.0
        if self._enabled_since is not None:
            self._started_at = datetime.datetime.now(datetime.timezone.utc)
            self._enabled_since = perf_counter()

    def print_stats(
        self,
        stream: IO[str] | None = None,
        output_unit: float | None = None,
        stripzeros: bool = False,
        details: bool = True,
        summarize: bool = False,
        sort: bool = False,
    ) -> None:
        """Print the report line_profiler prints (same layout)."""
        self.get_stats().print(
            stream=stream,
            output_unit=output_unit,
            stripzeros=stripzeros,
            details=details,
            summarize=summarize,
            sort=sort,
        )

    def dump_stats(self, filename: str | os.PathLike[str]) -> None:
        """Save the results, written atomically, in the format the extension chooses:
        ``.lprof`` line_profiler's (``python -m line_profiler`` shows it), ``.html`` the HTML
        report, anything else lineprof's JSON.  Read back with ``load_stats``."""
        self.get_stats().dump(filename)

    @property
    def backend(self) -> str | None:
        """The hook in use while profiling ('monitoring', 'setprofile' or 'settrace'), or
        None when idle."""
        return _lineprof.active_backend() if self._tracer.enabled else None


def _warn(message: str) -> None:
    warnings.warn(f"lineprof: {message}", RuntimeWarning, stacklevel=4)


def _qualname(function: types.FunctionType) -> str:
    # co_qualname (3.11+) names the code wherever it is found; before 3.11 the function's own
    # __qualname__ is the best there is.
    return getattr(function.__code__, "co_qualname", function.__qualname__)


def _merge_lines(
    a: list[tuple[int, int, int]], b: list[tuple[int, int, int]]
) -> list[tuple[int, int, int]]:
    merged: dict[int, tuple[int, int]] = {}
    for line, hits, time in [*a, *b]:
        h, t = merged.get(line, (0, 0))
        merged[line] = (h + hits, t + time)
    return [(line, h, t) for line, (h, t) in sorted(merged.items())]


def _underlying_functions(obj: Any) -> list[types.FunctionType]:
    """The Python functions behind ``obj``; [] when there are none."""
    seen: set[int] = set()
    found: list[types.FunctionType] = []

    def visit(item: Any) -> None:
        if item is None or id(item) in seen:
            return
        seen.add(id(item))
        if isinstance(item, types.FunctionType):
            wrapped = getattr(item, "__wrapped__", None)
            if wrapped is not None and isinstance(inspect.unwrap(item), types.FunctionType):
                visit(inspect.unwrap(item))
            else:
                found.append(item)
        elif isinstance(item, types.MethodType):
            visit(item.__func__)
        elif isinstance(item, staticmethod | classmethod):
            visit(item.__func__)
        elif isinstance(item, property):
            for accessor in (item.fget, item.fset, item.fdel):
                visit(accessor)
        elif isinstance(item, functools.partial | functools.partialmethod):
            visit(item.func)
        elif isinstance(item, functools.cached_property):
            visit(item.func)
        elif hasattr(item, "__wrapped__"):
            visit(item.__wrapped__)

    visit(obj)
    return found

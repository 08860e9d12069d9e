"""LineProfiler: line_profiler's API over the C tracer.

This layer decides what to profile (the code objects under functions, methods, properties,
partials, classes and modules, which callables.py finds), which hook to use, and when to switch
profiling on and off.  The C ``Tracer`` only records.
"""

from __future__ import annotations

import os
import sys
from time import perf_counter
from time import time as wall_clock

from lineprof import _lineprof, _types, callables, clock, codemap, environment
from lineprof._typing import TYPE_CHECKING
from lineprof.results import LineStats, load_stats
from lineprof.stats import capture_sources

if TYPE_CHECKING:
    import types
    from collections.abc import Callable, Iterator
    from typing import IO, Any

    from lineprof.scoping import Kind, ScopingPolicy, ScopingPolicyArg

__all__ = ["LineProfiler", "load_stats"]


class LineProfiler:
    """Time every line of the functions you register.

    >>> lp = LineProfiler(my_function)
    >>> lp.runcall(my_function, 10_000)
    >>> lp.print_stats()
    """

    def __init__(
        self,
        *functions: Any,
        backend: str | None = None,
        calibrate: bool | None = None,
        wrap_trace: bool | None = None,
        set_frame_local_trace: bool | None = None,
        memory: bool | None = None,
    ) -> None:
        self._tracer = _lineprof.Tracer()
        # Memory mode (docs/memory.md): allocations are charged to lines beside the times.
        self._tracer.memory = memory if memory is not None else environment.memory()
        # line_profiler 5's arguments (None: its environment variables).  wrap_trace: before
        # 3.12, under the setprofile backend, another tool's trace function (a debugger,
        # coverage.py) keeps being called while lineprof's runs, and both record; without it
        # lineprof leaves the tool alone and records nothing in that thread.  From 3.12
        # sys.monitoring gives every tool its own events: nothing to wrap.
        # set_frame_local_trace is accepted and kept; see docs/coming-from-line-profiler.md.
        if wrap_trace is None:
            wrap_trace = environment.line_profiler_switch("LINE_PROFILER_WRAP_TRACE")
        if set_frame_local_trace is None:
            set_frame_local_trace = environment.line_profiler_switch(
                "LINE_PROFILER_SET_FRAME_LOCAL_TRACE"
            )
        self._tracer.wrap_trace = bool(wrap_trace)
        # Before 3.12 (setprofile backend): while every function registered so far is entered
        # only through the wrapper @profile returned for it (csrc/entry.c), threads get the
        # profile function only while inside one, and the rest of the program runs untouched
        # (csrc/hook_setprofile.c).  Any other registration ends that (_add_code).
        self._tracer.hook_on_entry = True
        self._entry_registration = False
        # As in line_profiler: meaningful only for the legacy trace hook, so always False
        # where sys.monitoring is used.
        self.set_frame_local_trace = bool(set_frame_local_trace) and not _HAVE_MONITORING
        # Report each line's time less what lineprof's own callbacks for profiled events
        # measured of themselves inside it (csrc/lineprof.h, LPLineCell); False: the clock's
        # figures as read.
        self._calibrate = calibrate if calibrate is not None else environment.calibrate()
        self._backend = backend if backend is not None else environment.backend()
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
        self._started_at: float | None = None  # POSIX seconds: see stats.Metadata.current
        self._enabled_seconds = 0.0
        self._enabled_since: float | None = None
        # Whether enable() already said another tool's hook keeps lineprof from recording.
        self._said_incomplete = False
        for function in functions:
            self.add_function(function)

    # ---- registration -------------------------------------------------------------------

    def add_function(self, func: Any) -> None:
        """Profile ``func``: a function (plain, nested, lambda, generator, coroutine or async
        generator function), bound method, staticmethod, classmethod, property (getter, setter
        and deleter), functools.cached_property, functools.partial or partialmethod, a callable
        object (its class's ``__call__``), a decorated function (the ``__wrapped__`` chain is
        followed) or a class (as ``add_class``).  What is registered already is not
        registered again.

        A C function (``len``) has no lines to profile: it is left out with a warning, as
        line_profiler does.  What is not callable at all raises TypeError."""
        if self._add_callable(func) is None:
            import warnings  # noqa: PLC0415 (only to warn: ~0.4 ms of start-up)

            warnings.warn(
                f"lineprof: {func!r} has no Python code to profile (a C function?); "
                "left unprofiled",
                UserWarning,
                stacklevel=2,
            )

    def add_code(self, code: types.CodeType, qualname: str | None = None) -> bool:
        """Profile a code object directly: a script's or a notebook cell's module code, say.
        ``qualname`` names it in reports (default: the code's own qualified name).  Returns
        False if it was registered already."""
        if not isinstance(code, _types.CodeType):
            raise TypeError(f"add_code needs a code object, got {code!r}")
        if qualname is None:
            qualname = str(getattr(code, "co_qualname", code.co_name))
        return self._add_code(code, qualname)

    def add_callable(self, obj: Any) -> int:
        """line_profiler 5's ``add_callable``: register what ``add_function`` takes.  Returns 1
        when ``obj`` has Python code to profile (registered now or before), 0 when it has none
        (a C function such as ``len``, left out without a warning).  What is not callable at
        all raises TypeError."""
        if self._add_callable(obj) is None:
            return 0
        if isinstance(obj, type) and not callables.has_own_functions(obj):
            return 0  # a class with no method of its own (line_profiler: 0)
        return 1

    def add_class(
        self, cls: type, *, scoping_policy: ScopingPolicyArg = None, wrap: bool = False
    ) -> int:
        """Profile the functions found in ``cls``, and descend into the classes found in it,
        as ``scoping_policy`` says (line_profiler 5's ``ScopingPolicy``, ``lineprof.scoping``;
        by default, as there: what comes from the same module).  ``scoping_policy="children"``
        is what ``cls`` and its nested classes define themselves.  ``wrap=True`` also replaces
        each member registered by one that switches profiling on while it runs (as
        ``@profile`` does).  Returns how many functions were newly registered."""
        if not isinstance(cls, type):
            raise TypeError(f"add_class needs a class, got {cls!r}")
        from lineprof.scoping import ScopingPolicy  # ~2 ms (enum): only for classes, modules

        policies = ScopingPolicy.to_policies(scoping_policy)
        return self._add_namespace(cls, policies, wrap, set())

    def add_module(
        self,
        module: types.ModuleType,
        *,
        scoping_policy: ScopingPolicyArg = None,
        wrap: bool = False,
    ) -> int:
        """Profile the functions found in ``module``, and descend into the classes (and, if the
        policy says so, modules) found in it, as ``scoping_policy`` says (see ``add_class``;
        by default, as in line_profiler: what comes from the module or the package it is in,
        no submodule).  Returns how many functions were newly registered."""
        if not isinstance(module, _types.ModuleType):
            raise TypeError(f"add_module needs a module, got {module!r}")
        from lineprof.scoping import ScopingPolicy  # ~2 ms (enum): only for classes, modules

        policies = ScopingPolicy.to_policies(scoping_policy)
        return self._add_namespace(module, policies, wrap, set())

    def _add_namespace(
        self,
        namespace: type | types.ModuleType,
        policies: dict[Kind, ScopingPolicy],
        wrap: bool,
        seen: set[int],
    ) -> int:
        """Register what ``policies`` admit in ``namespace``, recursively; ``seen``: the ids
        of what was looked at already (a class or module found twice is entered once)."""
        admit_function = policies["func"].admits(namespace, "func")
        admit_class = policies["class"].admits(namespace, "class")
        admit_module = policies["module"].admits(namespace, "module")
        added = 0
        registered: dict[str, Any] = {}
        for name, value in list(vars(namespace).items()):
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, type):
                if admit_class(value):
                    added += self._add_namespace(value, policies, wrap, seen)
            elif isinstance(value, _types.ModuleType):
                if admit_module(value):
                    added += self._add_namespace(value, policies, wrap, seen)
            else:
                functions = [f for f in callables.underlying_functions(value) if admit_function(f)]
                if functions:
                    added += sum(self._add_function(function) for function in functions)
                    registered[name] = value
        if wrap:
            self._replace_members(namespace, registered)
        return added

    def _add_callable(self, obj: Any) -> int | None:
        """Register the Python functions under ``obj`` (a class: its own, as add_class).
        Returns how many were new, or None when ``obj`` has none (a C function); raises
        TypeError when it is neither callable nor a wrapper of callables."""
        if isinstance(obj, type):
            from lineprof.scoping import OWN_MEMBERS  # ~2 ms (enum): only for classes

            return self.add_class(obj, scoping_policy=OWN_MEMBERS)
        functions = callables.underlying_functions(obj)
        if functions:
            return sum(self._add_function(function) for function in functions)
        if not callable(obj) and not callables.is_descriptor(obj):
            raise TypeError(
                f"lineprof can only profile Python functions; got {obj!r} "
                f"({type(obj).__name__}), which is not callable"
            )
        return None

    def _add_function(self, function: types.FunctionType) -> bool:
        added = self._add_code(function.__code__, callables.qualname(function))
        if added:
            self.functions.append(function)
        return added

    def _add_code(self, code: types.CodeType, qualname: str) -> bool:
        if not self._entry_registration:
            # Code that may be entered other than through an entry wrapper: every thread needs
            # the profile function from now on.
            self._tracer.hook_on_entry = False
        lay = codemap.layout(code)
        added = bool(self._tracer.add_code(code, lay.first_line, lay.rows, lay.start_offset))
        if added:
            self._qualnames[id(code)] = qualname
        if self._tracer.enabled and self._tracer.memory:
            # NumPy imported since recording began (a script's imports run under the command's
            # session, before its @profile lines): from now on its array data is seen too.
            _watch_numpy()
        if self._tracer.enabled:
            # greenlet imported since recording began (gevent's monkey-patching at the top of a
            # script the command runs): its switches are followed from now on.
            _follow_greenlets()
        return added

    def _add_entered_through_wrapper(self, function: types.FunctionType) -> Callable[..., Any]:
        """Register a plain function that nothing else refers to yet (decorator.py decides)
        and return the wrapper the program is to call instead (csrc/entry.c)."""
        self._entry_registration = True
        try:
            self._add_function(function)
        finally:
            self._entry_registration = False
        return _lineprof.EntryWrapper(function)

    def _hooks_on_entry(self) -> bool:
        """Whether this session hooks threads only inside profiled functions' wrappers."""
        return bool(self._tracer.hook_on_entry) and _lineprof.active_backend() == "setprofile"

    # ---- switching on and off -----------------------------------------------------------

    def enable(self) -> None:
        """Start recording (idempotent)."""
        if self._tracer.enabled:
            return
        # Another tool's hooks in this thread (ours report the _lineprof module as object),
        # and those threading gives the threads it starts.
        tracer: object = sys.gettrace()
        profiler: object = sys.getprofile()
        thread_hooks = _threading_hooks()
        self._start_tracer(profile_taken=profiler is not None or thread_hooks[1] is not None)
        if self._tracer.memory:
            try:
                _watch_numpy()
            except BaseException:
                self._tracer.disable()
                raise
        _follow_greenlets()
        if self._started_at is None:
            self._started_at = wall_clock()
        self._enabled_since = perf_counter()
        # Last: where the program's warning filters make a warning an error, recording is on
        # and the profiler consistent when it is raised (lineprof's sessions carry on).
        self._note_foreign_hooks(tracer, profiler, thread_hooks)

    def _start_tracer(self, *, profile_taken: bool) -> None:
        if self._backend != "auto":
            candidates = [self._backend]
        else:
            candidates = list(_lineprof.BACKENDS)
            if "setprofile" in candidates and profile_taken:
                # Another profiler (cProfile, say) holds the profile hook, here or in the
                # threads threading starts: leave it alone.
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

    def _note_foreign_hooks(
        self, tracer: object, profiler: object, thread_hooks: tuple[object, object]
    ) -> None:
        """Another tool (a debugger, coverage, cProfile) hooks this thread, or the threads
        threading starts.  A thread has one trace and one profile function (before CPython
        3.12 lineprof needs them): say what that means."""
        backend = _lineprof.active_backend()
        self._said_incomplete = False
        wrapped = self.wrap_trace and backend == "setprofile"  # hook_wrap.c: both record
        if (
            tracer is not None
            and tracer is not _lineprof
            and backend == "setprofile"
            and not wrapped
        ):
            self._said_incomplete = True  # disable() need not say it again
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
        slot = {"settrace": 0, "setprofile": 1}.get(backend or "")
        hook = thread_hooks[slot] if slot is not None else None
        if hook is not None:
            _warn(
                f"replacing the {kind} function threading gives the threads it starts "
                f"({hook!r}) while profiling (one per thread); threads started meanwhile run "
                "without it, and it is put back when profiling stops"
            )

    def disable(self) -> None:
        """Stop recording.  Raises any internal error met while recording."""
        # Taken in one step: a signal handler calling a profiled function can run disable()
        # between any two bytecodes of this one.
        since, self._enabled_since = self._enabled_since, None
        if since is not None:
            self._enabled_seconds += perf_counter() - since
        self._tracer.disable()
        if _lineprof.active_backend() is None and "greenlet" in sys.modules:
            from lineprof import greenlets  # noqa: PLC0415  (not on every session's path)

            greenlets.unfollow()
        displaced = _lineprof.take_hooks_displaced()  # read always: it resets the count
        if displaced and not self._said_incomplete:
            _warn(
                "another tool's profile function or trace function (a debugger, coverage, "
                "cProfile) took the place lineprof's needed while recording "
                f"({displaced} time{'s' if displaced > 1 else ''}); lines that ran meanwhile "
                "were not recorded, so the results are incomplete. On Python 3.10/3.11 start "
                "the other tool first, or use wrap_trace=True or backend='settrace'"
            )

    def enable_by_count(self) -> None:
        """Nestable enable: recording stops when every enable has been matched.  Called
        from a signal handler or finalizer that runs while a profiler is being switched on or
        off (``_lineprof.switching()``), it does not switch this one: that call runs
        unrecorded rather than raise into the program."""
        if self.enable_count == 0 and not _lineprof.switching():
            self.enable()
        self.enable_count += 1

    def disable_by_count(self) -> None:
        if self.enable_count <= 0:
            return
        self.enable_count -= 1
        if self.enable_count == 0 and not _lineprof.switching():
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

        Returns the same kind of object, so that it behaves as before: a function, generator,
        coroutine or async generator function comes back as one that switches profiling on
        while it runs; a staticmethod, classmethod, property, cached_property, partial,
        partialmethod or bound method as a new one of its type around such functions (the
        same bound object, arguments, name and doc); a class as itself, with each member it
        defines itself (and those of its nested classes) replaced so.  What has no Python code
        (a C function) comes back as is.  Decorating again changes nothing: what already
        profiles for this profiler comes back as is."""
        if self._add_callable(func) is None:
            return func
        return self._wrap(func)

    def _wrap(self, obj: Any) -> Any:
        """``obj`` as the same kind of object, whose Python functions switch profiling on while
        they run; ``obj`` itself when it already does, or has no Python function in it."""
        if isinstance(obj, type):
            self._wrap_members(obj)
            return obj
        if isinstance(obj, _types.FunctionType):
            if obj.__dict__.get(_WRAPPER_MARK) is self:
                return obj
            return self._wrap_function(obj)
        if isinstance(obj, _types.MethodType):
            bound_to = obj.__self__
            return callables.rebuilt(
                obj, [obj.__func__], self._wrap, lambda f: _types.MethodType(f, bound_to)
            )
        if isinstance(obj, staticmethod | classmethod):
            return callables.rebuilt(obj, [obj.__func__], self._wrap, type(obj))
        if callables.is_partial(obj):
            args, keywords = obj.args, obj.keywords
            return callables.rebuilt(
                obj, [obj.func], self._wrap, lambda f: type(obj)(f, *args, **keywords)
            )
        if isinstance(obj, property):
            return callables.rebuilt(
                obj, [obj.fget, obj.fset, obj.fdel], self._wrap, callables.new_property(obj)
            )
        if callables.is_cached_property(obj):
            return callables.rebuilt(
                obj, [obj.func], self._wrap, callables.new_cached_property(obj)
            )
        if callable(obj) and callables.underlying_functions(obj):
            # A callable object with Python code under it (its class's __call__, a decorated
            # function's __wrapped__): a function around it, as line_profiler does.
            return self._wrap_function(obj)
        return obj

    def _wrap_members(self, cls: type) -> None:
        """Replace each member ``cls`` defines itself by its profiling counterpart."""
        self._replace_members(cls, {name: member for name, member, _ in callables.own_members(cls)})

    def _replace_members(self, namespace: type | types.ModuleType, members: dict[str, Any]) -> None:
        """Set each of ``members`` in ``namespace`` to its profiling counterpart."""
        refused = []
        for name, member in members.items():
            wrapped = self._wrap(member)
            if wrapped is member:
                continue
            try:
                setattr(namespace, name, wrapped)
            except (AttributeError, TypeError):  # a class that refuses new attributes
                refused.append(name)
        if refused:
            where = namespace.__qualname__ if isinstance(namespace, type) else namespace.__name__
            _warn(
                f"cannot replace {', '.join(refused)} in {where}: registered, but calls to "
                "them do not switch profiling on"
            )

    def _wrap_function(self, func: Any) -> Callable[..., Any]:
        flags = callables.code_flags(func)
        if flags & callables.CO_ASYNC_GENERATOR:
            wrapper: Callable[..., Any] = self._wrap_async_generator(func)
        elif flags & callables.CO_COROUTINE:
            wrapper = self._wrap_coroutine(func)
        elif flags & callables.CO_GENERATOR:
            wrapper = self._wrap_generator(func)
            if flags & callables.CO_ITERABLE_COROUTINE:
                # @types.coroutine: the wrapper must be awaitable too.
                import types  # noqa: PLC0415 (only here)

                wrapper = types.coroutine(wrapper)
        else:

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                self.enable_by_count()
                try:
                    return func(*args, **kwargs)
                finally:
                    self.disable_by_count()

        import functools  # wrapping only: see callables._loaded_functools

        functools.update_wrapper(wrapper, func)
        # Set after update_wrapper, which copies the __dict__ (and so another profiler's mark)
        # of the function it wraps.
        vars(wrapper)[_WRAPPER_MARK] = self
        return wrapper

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
                    # The generator's own cleanup (its finally, an except GeneratorExit) runs
                    # now, and profiles as any resumption does.
                    self.enable_by_count()
                    try:
                        gen.close()
                    finally:
                        self.disable_by_count()
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
                    self.enable_by_count()  # as in _wrap_generator
                    try:
                        await agen.aclose()
                    finally:
                        self.disable_by_count()
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
        table = self._tracer.stats()  # in the clock's units: ns, or the TSC's ticks
        scale = clock.ns_per_unit() if table else 1.0
        for code, units in table:
            key = (code.co_filename, code.co_firstlineno, self._qualnames[id(code)])
            # A line that ran with no start of its own here (in progress when profiling
            # started, or where a generator resumed) counts one hit: a row with time and no
            # hit has no time per hit, and line_profiler's viewer divides by it.
            rows = [
                (line, hits or (1 if t else 0), round(t * scale), round(s * scale))
                for line, hits, t, s in units
            ]
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
            since = self._enabled_since  # read once, as in disable()
            if since is not None:
                duration += perf_counter() - since
        stats = LineStats(
            timings,
            1e-9,
            sources=capture_sources(timings),
            subtracted=subtracted if subtract else None,
            raw=not subtract,
            memory=self._memory_figures() if self._tracer.memory else None,
        )
        stats._metadata_of_this_process(self._started_at, duration)
        return stats

    def _memory_figures(self) -> dict[tuple[str, int, str], dict[int, tuple[int, int, int]]]:
        figures: dict[tuple[str, int, str], dict[int, tuple[int, int, int]]] = {}
        for code, rows in self._tracer.memory_stats():
            key = (code.co_filename, code.co_firstlineno, self._qualnames[id(code)])
            per_line = figures.setdefault(key, {})
            for line, alloc, net, peak in rows:
                a, n, p = per_line.get(line, (0, 0, 0))
                per_line[line] = (a + alloc, n + net, max(p, peak))
        return figures

    @property
    def wrap_trace(self) -> bool:
        """Before 3.12: another tool's trace function keeps being called while lineprof's
        runs (line_profiler 5's ``wrap_trace``).  Set while not recording."""
        return bool(self._tracer.wrap_trace)

    @wrap_trace.setter
    def wrap_trace(self, value: bool) -> None:
        self._tracer.wrap_trace = bool(value)

    @property
    def memory(self) -> bool:
        """Memory mode: each line's Alloc, Net and Peak are recorded beside its times."""
        return self._tracer.memory

    def clear(self) -> None:
        """Forget everything recorded so far (registrations stay)."""
        self._tracer.clear()
        self._started_at = None
        self._enabled_seconds = 0.0
        if self._enabled_since is not None:
            self._started_at = wall_clock()
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


# Whether this interpreter has sys.monitoring (CPython 3.12+).
_HAVE_MONITORING = "monitoring" in _lineprof.BACKENDS

# Set on a wrapper from LineProfiler._wrap_function: the profiler it switches on.
_WRAPPER_MARK = "__lineprof_profiler__"


def _warn(message: str) -> None:
    import warnings  # noqa: PLC0415 (only to warn: ~0.4 ms of start-up)

    warnings.warn(f"lineprof: {message}", RuntimeWarning, stacklevel=4)


def _merge_lines(
    a: list[tuple[int, int, int]], b: list[tuple[int, int, int]]
) -> list[tuple[int, int, int]]:
    merged: dict[int, tuple[int, int]] = {}
    for line, hits, time in [*a, *b]:
        h, t = merged.get(line, (0, 0))
        merged[line] = (h + hits, t + time)
    return [(line, h, t) for line, (h, t) in sorted(merged.items())]


def _threading_hooks() -> tuple[object, object]:
    """Another tool's trace and profile functions that threading gives the threads it starts
    (threading.settrace and setprofile): none before the program imports threading, which
    lineprof does not, and lineprof's own (a session is on) is none."""
    threading = sys.modules.get("threading")
    if threading is None:
        return None, None
    # Half imported when a signal handler's profiled call runs during lineprof's own first
    # import of it: no hooks can be set there yet.
    gettrace = getattr(threading, "gettrace", None)
    getprofile = getattr(threading, "getprofile", None)
    if gettrace is None or getprofile is None:
        return None, None
    tracer, profiler = gettrace(), getprofile()
    return (
        None if getattr(tracer, "__self__", None) is _lineprof else tracer,
        None if getattr(profiler, "__self__", None) is _lineprof else profiler,
    )


def _follow_greenlets() -> None:
    """If greenlet is imported, time each greenlet as a thread (greenlets.py): this thread's
    now, every other thread's from its first profiled event of the session."""
    if "greenlet" in sys.modules:
        from lineprof import greenlets  # noqa: PLC0415  (not on every session's path)

        greenlets.follow_every_thread()


def _watch_numpy() -> None:
    """If NumPy is imported, have memory mode count its arrays' data too (docs/memory.md): NumPy
    takes it from its own allocator, which lineprof wraps through NumPy's C API.  NumPy is never
    imported here."""
    if "numpy" not in sys.modules:
        return
    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        module = sys.modules.get(name)
        api = getattr(module, "_ARRAY_API", None)
        if api is not None:
            _lineprof.memory_watch_numpy(api)
            return

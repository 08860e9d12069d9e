"""The pytest plugin: line-by-line timings of the code a test suite runs.

    pytest --lineprof=mypkg                 profile mypkg and its submodules in every test
    pytest --lineprof=mypkg.parse.tokenize  one function (``mod.Class`` and paths work too)
    @pytest.mark.lineprof(tokenize, Parser) profile these during this one test only
    @pytest.mark.lineprof("mypkg.parse.tokenize")        one: by name, or .with_args(tokenize)

A marker given one function or class alone would decorate it (pytest's rule for a mark called
with a single callable): name it as a string, in a list, or with ``.with_args(func)``.

``--lineprof`` takes what ``lineprof -p`` takes (``autoprofile.py`` resolves it).  Profiling is
on only while the setup, call and teardown of a test that asks run; every test's results are
merged into one set, written once at the end of the session (``--lineprof-out``, default
``.lineprof.json``; the format follows the extension, as ``LineStats.dump``) and shown in the
terminal summary: the report at the default verbosity, one line with ``-q``, nothing with
``-qq``.  Under pytest-xdist every worker profiles its tests and sends its results to the
controller (``workeroutput``), which merges, writes and shows them once.

Installed with lineprof (the ``pytest11`` entry point), the plugin stays out of the way of a
session that does not ask: it adds its options and the marker, looks once over the collected
tests for the marker, and that is all.  Nothing else of lineprof is imported then (the imports
of ``lineprof.*`` below are inside functions for that reason), no profiler is made and no
per-test hook is registered; the plugin object that does the work (``_Plugin``) is registered
only when an option or the marker asks for it.  Under xdist the controller always registers
one: it runs no test, and only listens for the workers' results (a hook call per worker).

The plugin never changes a test's outcome: what goes wrong inside it becomes a warning
(``LineprofWarning``, and a line in the terminal summary), never an error of the test.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import warnings
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lineprof.autoprofile import AutoProfiler
    from lineprof.profiler import LineProfiler
    from lineprof.stats import LineStats

__all__ = ["DEFAULT_OUT", "LineprofWarning"]

DEFAULT_OUT = ".lineprof.json"  # in the directory pytest was started from
MARKER = "lineprof"
PLUGIN_NAME = "lineprof-session"  # the registered _Plugin, once something asks for it
_WORKER_KEY = "lineprof"  # a worker's results in xdist's workeroutput: LineStats JSON
_WORKER_PROBLEMS = "lineprof_problems"


class LineprofWarning(pytest.PytestWarning):
    """Something went wrong inside lineprof's pytest plugin; the test's outcome stands."""


# ---- always: the options, the marker, and one look for the marker ----------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lineprof", "line-by-line timing with lineprof")
    group.addoption(
        "--lineprof",
        action="append",
        default=[],
        metavar="TARGET",
        dest="lineprof_targets",
        help="profile TARGET line by line while tests run: a module, a package (with its "
        "submodules), mod.func, mod.Class, a file or a directory, as 'lineprof -p' takes it "
        "(repeatable, or comma-separated)",
    )
    group.addoption(
        "--lineprof-out",
        metavar="FILE",
        default=None,
        dest="lineprof_out",
        help=f"write the session's merged results to FILE (default {DEFAULT_OUT}, only when "
        "something was profiled); .lprof: line_profiler's format, .html: the HTML report, "
        "anything else lineprof's JSON ('lineprof show FILE' shows it)",
    )
    group.addoption(
        "--lineprof-html",
        metavar="FILE",
        default=None,
        dest="lineprof_html",
        help="also write the HTML report of the session's results to FILE",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(func, ...): profile these functions, classes, modules or dotted names line "
        "by line during this test only; one callable alone: "
        f"{MARKER}.with_args(func) or {MARKER}('mod.func') (lineprof)",
    )
    if config.option.collectonly:
        return
    role = _role(config)
    if _options_given(config) or role == "controller":
        plugin = _Plugin(config, role, _Options.from_config(config))
        plugin.start()  # raises UsageError when a target names nothing
        config.pluginmanager.register(plugin, PLUGIN_NAME)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """A test marked ``lineprof`` in a session given no option: start the plugin now."""
    if config.option.collectonly or config.pluginmanager.has_plugin(PLUGIN_NAME):
        return
    if not any(item.get_closest_marker(MARKER) is not None for item in items):
        return
    plugin = _Plugin(config, _role(config), _Options.from_config(config))
    plugin.start()
    config.pluginmanager.register(plugin, PLUGIN_NAME)


# ---- what was asked -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Options:
    targets: list[str]
    out: str | None  # as given on the command line
    html: str | None

    @classmethod
    def from_config(cls, config: pytest.Config) -> _Options:
        from lineprof.autoprofile import split_targets

        return cls(
            split_targets(config.getoption("lineprof_targets") or []),
            config.getoption("lineprof_out"),
            config.getoption("lineprof_html"),
        )

    @property
    def given(self) -> bool:
        return bool(self.targets or self.out or self.html)


def _options_given(config: pytest.Config) -> bool:
    """Any lineprof option on the command line (``--lineprof=`` alone too), found without
    importing the rest of lineprof."""
    names = ("lineprof_targets", "lineprof_out", "lineprof_html")
    return any(config.getoption(name) for name in names)


def _role(config: pytest.Config) -> str:
    """'worker' (an xdist worker), 'controller' (xdist's controller: it runs no test) or
    'local' (pytest alone)."""
    if hasattr(config, "workerinput"):
        return "worker"
    if config.pluginmanager.has_plugin("xdist"):
        if config.getoption("dist", "no") != "no" and config.getoption("tx", None):
            return "controller"
    return "local"


# ---- the plugin at work -----------------------------------------------------------------------


class _Plugin:
    """Profiles the tests that ask, merges their results and reports them."""

    def __init__(self, config: pytest.Config, role: str, options: _Options) -> None:
        self.config = config
        self.role = role
        self.options = options
        base = str(config.invocation_params.dir)
        self.out_shown = options.out or DEFAULT_OUT
        self.out_path = os.path.join(base, self.out_shown)
        self.html_path = os.path.join(base, options.html) if options.html else None
        self.profiler: LineProfiler | None = None  # --lineprof targets, in every test
        self.auto: AutoProfiler | None = None
        self.per_test: dict[str, LineProfiler] = {}  # nodeid -> the marker's profiler
        self.results: list[LineStats] = []  # finished marked tests' (or workers') results
        self.problems: list[str] = []
        self.asked = bool(options.targets)  # a target, a marker, or a worker's results
        self.stats: LineStats | None = None  # the session's, once finished
        self.written: list[str] = []  # what was written, as shown to the user

    def start(self) -> None:
        """Resolve the targets (a UsageError names the first that names nothing); outside
        xdist's controller, profile the target modules imported from now on."""
        if not self.options.targets:
            return
        from lineprof.autoprofile import AutoProfiler, TargetError
        from lineprof.profiler import LineProfiler

        try:
            profiler = LineProfiler()
        except ValueError as exc:  # LINEPROF_BACKEND names a hook this Python lacks
            raise pytest.UsageError(f"--lineprof: {exc}") from None
        auto = AutoProfiler(profiler)
        for target in self.options.targets:
            try:
                auto.add_targets([target])
            except TargetError as exc:
                why = str(exc).removeprefix(f"-p {target}: ")
                raise pytest.UsageError(f"--lineprof={target}: {why}") from None
        if self.role == "controller":
            return  # the workers profile; the controller only checked the targets
        self.profiler, self.auto = profiler, auto
        auto.install()

    # ---- collection: test modules imported through pytest's own loader ------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """pytest imports test modules with its assertion-rewriting loader, which the import
        hook cannot see into: register the target modules imported so far once more."""
        if self.auto is None:
            return
        try:
            self.auto.uninstall()
            self.auto.install()
        except Exception as exc:
            self._problem(f"registering the targets failed: {_describe(exc)}")

    # ---- each test: on during setup, call and teardown ----------------------------------

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        self._begin(item)
        return (yield from self._profiled(item))

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        return (yield from self._profiled(item))

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> Generator[None, object, object]:
        try:
            return (yield from self._profiled(item))
        finally:
            self._end(item)

    def _profiled(self, item: pytest.Item) -> Generator[None, object, object]:
        profilers = self._profilers(item)
        self._switch(profilers, on=True, item=item)
        try:
            return (yield)  # the test's own exception, if any, goes through unchanged
        finally:
            self._switch(profilers, on=False, item=item)

    def _profilers(self, item: pytest.Item) -> list[LineProfiler]:
        found = [self.profiler] if self.profiler is not None else []
        marked = self.per_test.get(item.nodeid)
        if marked is not None:
            found.append(marked)
        return found

    def _switch(self, profilers: Sequence[LineProfiler], *, on: bool, item: pytest.Item) -> None:
        for profiler in profilers:
            try:
                if on:
                    profiler.enable()
                else:
                    profiler.disable()
            except Exception as exc:
                what = "start" if on else "stop"
                self._problem(f"{item.nodeid}: could not {what} profiling: {_describe(exc)}")

    def _begin(self, item: pytest.Item) -> None:
        """A marked test: a profiler of its own for what the marker names."""
        named = [arg for mark in item.iter_markers(MARKER) for arg in mark.args]
        if not named and item.get_closest_marker(MARKER) is None:
            return
        self.asked = True
        try:
            from lineprof.profiler import LineProfiler

            profiler = LineProfiler()
            for obj in named:
                # What it says of an object it cannot profile (a C function) is a problem
                # of the marker, not a warning of the test.
                failed: list[str] = []
                with warnings.catch_warnings(record=True) as said:
                    warnings.simplefilter("always")
                    try:
                        _register(profiler, obj)
                    except Exception as exc:
                        failed.append(str(exc))
                for why in [*(str(w.message) for w in said), *failed]:
                    why = why.removeprefix("lineprof: ")
                    self._problem(f"{item.nodeid}: @pytest.mark.{MARKER}: {why}")
            if not profiler.functions:
                if not named:
                    self._problem(f"{item.nodeid}: @pytest.mark.{MARKER}() names nothing")
                return
            self.per_test[item.nodeid] = profiler
        except Exception as exc:
            self._problem(f"{item.nodeid}: cannot profile this test: {_describe(exc)}")

    def _end(self, item: pytest.Item) -> None:
        profiler = self.per_test.pop(item.nodeid, None)
        if profiler is None:
            return
        try:
            self.results.append(profiler.get_stats())
        except Exception as exc:
            self._problem(f"{item.nodeid}: its results are lost: {_describe(exc)}")

    # ---- xdist: the controller gathers what the workers send ----------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", None) or {}
        self.problems.extend(p for p in output.get(_WORKER_PROBLEMS, ()) if isinstance(p, str))
        text = output.get(_WORKER_KEY)
        if text is None:
            if error is not None and self.options.targets:
                name = getattr(getattr(node, "gateway", None), "id", "?")
                self._problem(f"worker {name} went down before sending its results")
            return
        self.asked = True
        try:
            from lineprof.results import LineStats

            self.results.append(LineStats.from_dict(json.loads(text), source="an xdist worker"))
        except Exception as exc:
            self._problem(f"a worker's results could not be read: {_describe(exc)}")

    # ---- the end of the session -------------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        try:
            self._finish()
        except Exception as exc:
            self._problem(f"the session's results are lost: {_describe(exc)}")

    def _finish(self) -> None:
        if self.auto is not None:
            self.auto.uninstall()
            self.problems.extend(self.auto.warnings)
        if not self.asked:
            return
        from lineprof.results import LineStats
        from lineprof.stats import Metadata

        for profiler in self.per_test.values():  # tests interrupted before their teardown
            self.results.append(profiler.get_stats())
        self.per_test.clear()
        parts = list(self.results)
        if self.profiler is not None:
            whole = self.profiler.get_stats()
            # A function the targets name was recorded by the session's profiler in the
            # marked tests as well: count it once.
            for part in parts:
                for key in whole.timings.keys() & part.timings.keys():
                    del part.timings[key]
                    part.sources.pop(key, None)
                    if part.subtracted is not None:
                        part.subtracted.pop(key, None)
            parts.insert(0, whole)
        stats = LineStats.merge(parts)
        # The command line that ran the session (not an xdist worker's).
        argv = Metadata.current().command_line
        stats.metadata = stats.metadata._replace(command_line=argv)
        if self.role == "worker":
            output: dict[str, Any] = self.config.workeroutput  # type: ignore[attr-defined]
            output[_WORKER_KEY] = stats.to_json()
            output[_WORKER_PROBLEMS] = list(dict.fromkeys(self.problems))
            return
        self.stats = stats
        from lineprof.results import dump_with_fallback

        try:
            path, error = dump_with_fallback(stats, self.out_path)
            if error is not None:
                self._problem(
                    f"cannot write the results to {self.out_shown} ({_describe(error)}): "
                    f"written to {path} instead"
                )
                self.out_shown = path
            self.written.append(self.out_shown)
        except OSError as exc:
            self._problem(f"cannot write the results to {self.out_shown}: {_describe(exc)}")
        if self.html_path is not None and self.options.html:
            from lineprof.html import write_html

            try:
                write_html(stats, self.html_path)
                self.written.append(self.options.html)
            except OSError as exc:
                why = _describe(exc)
                self._problem(f"cannot write the HTML report to {self.options.html}: {why}")

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int) -> None:
        if self.role == "worker":
            return
        try:
            self._summary(terminalreporter)
        except Exception as exc:  # a broken terminal: the results are saved already
            _warn(f"lineprof could not show its report: {_describe(exc)}")

    def _summary(self, tr: Any) -> None:
        verbosity = int(self.config.getoption("verbose") or 0)
        problems = list(dict.fromkeys(self.problems))
        if verbosity <= -2 or not (self.asked or problems or self.options.given):
            return
        stats = self.stats
        functions = len(stats.timings) if stats is not None else 0
        if verbosity == -1:
            where = f"; results in {' and '.join(self.written)}" if self.written else ""
            tr.write_line(f"lineprof: {functions} function(s) profiled{where}")
            for problem in problems:
                tr.write_line(f"lineprof: warning: {problem}")
            return
        tr.write_sep("=", "lineprof")
        for problem in problems:
            tr.write_line(f"lineprof: warning: {problem}")
        if stats is None:
            if not self.asked:
                tr.write_line(
                    "lineprof: nothing to profile: name targets with --lineprof=TARGET or "
                    f"mark tests with @pytest.mark.{MARKER}(func, ...)"
                )
            return
        from lineprof.report import format_text, ran

        if any(ran(rows) for rows in stats.timings.values()):
            tr.write(
                format_text(
                    stats.timings,
                    stats.unit,
                    stripzeros=True,  # a package's functions the tests never called
                    sources=stats.sources,
                    times=stats.times,
                )
            )
        else:
            tr.write_line(f"lineprof: none of the {functions} profiled function(s) ran")
        for shown in self.written:
            tr.write_line(f"Wrote profile results to {shown}")
        if self.out_shown in self.written:
            tr.write_line(f"Inspect results with: lineprof show {self.out_shown}")

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """An in-process session (pytester) leaves no import hook or profiling behind."""
        if self.auto is not None:
            self.auto.uninstall()
        for profiler in [self.profiler, *self.per_test.values()]:
            if profiler is not None:
                try:
                    profiler.disable()
                except Exception:
                    pass

    def _problem(self, message: str) -> None:
        self.problems.append(message)
        _warn(message)


def _register(profiler: LineProfiler, obj: object) -> None:
    """What a marker names: a class (its methods), a module (its functions and classes),
    anything ``add_function`` takes, a dotted name of one of those (imported now), or a list
    or tuple of them.  TypeError when it names nothing with Python code."""
    from lineprof.scoping import OWN_MEMBERS

    if isinstance(obj, list | tuple):
        for each in obj:
            _register(profiler, each)
        return
    if isinstance(obj, str):
        obj = _import_name(obj)
    if isinstance(obj, type):
        profiler.add_class(obj, scoping_policy=OWN_MEMBERS)
    elif isinstance(obj, types.ModuleType):
        profiler.add_module(obj, scoping_policy=OWN_MEMBERS)
    else:
        profiler.add_function(obj)


def _import_name(name: str) -> object:
    """``pkg.mod.func`` or ``pkg.mod.Class.method``: the longest prefix that is a module,
    imported, then attributes.  TypeError saying why when that finds nothing."""
    import importlib

    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as exc:
            if exc.name is not None and not ".".join(parts[:cut]).startswith(exc.name):
                raise  # the module exists, and imports one that does not
            continue
        try:
            for part in parts[cut:]:
                obj = getattr(obj, part)
        except AttributeError:
            module = ".".join(parts[:cut])
            rest = ".".join(parts[cut:])
            raise TypeError(f"{name!r}: module {module!r} has no {rest!r}") from None
        return obj
    raise TypeError(f"{name!r}: no module named {parts[0]!r}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:  # its reason, not a temporary file's name
        return f"{type(exc).__name__}: {exc.strerror}"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _warn(message: str) -> None:
    """A LineprofWarning for pytest's warnings summary.  Where warnings are errors (``-W
    error``) it is dropped here, not raised into the test: the terminal summary has it."""
    try:
        warnings.warn(LineprofWarning(f"lineprof: {message}"), stacklevel=2)
    except Exception:
        pass

"""The ``%lprun`` line magic and the ``%%lprun`` and ``%%lprun_all`` cell magics for IPython and
Jupyter.

Imported only by ``lineprof.load_ipython_extension`` (``%load_ext lineprof``), so importing
lineprof never imports IPython.  Options, their letters and the messages printed follow
line_profiler's ``%lprun``, so the same lines work with ``lineprof`` in place of
``line_profiler``.  The results display as the text report in a terminal and as an HTML table
in Jupyter (``lprun_display``).
"""

from __future__ import annotations

import builtins
import dataclasses
import importlib
import inspect
import io
import linecache
import math
import os
import shlex
import sys
import time
import traceback
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_cell_magic, magics_class, no_var_expand
from IPython.display import display

from lineprof.lprun_display import LprunReport
from lineprof.profiler import LineProfiler
from lineprof.scoping import OWN_MEMBERS
from lineprof.stats import FunctionKey

__all__ = ["LineProfilerMagics", "load_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%lprun``, ``%%lprun`` and ``%%lprun_all`` with the shell."""
    ipython.register_magics(LineProfilerMagics)


# ---- options ----------------------------------------------------------------------------

_FLAGS = {"r": "return_profiler", "s": "stripzeros", "z": "stripzeros", "M": "memory"}
_VALUED = "fmDTu"
_LONG = {"--summarize": "summarize", "--sort": "sort"}
_ALLOWED = "-f -m -D -T -u -r -s -z -M --summarize --sort"
# %%lprun_all's, as line_profiler's: no -f, -m or -s; -t and -p.
_ALL_FLAGS = {"r": "return_profiler", "z": "stripzeros", "t": "total_time", "p": "top_level"}
_ALL_VALUED = "DTu"
_ALL_ALLOWED = "-D -T -u -r -z -t -p --summarize --sort"


@dataclasses.dataclass
class _Options:
    functions: list[str] = dataclasses.field(default_factory=list)  # -f expressions
    modules: list[str] = dataclasses.field(default_factory=list)  # -m module names
    dump: str | None = None  # -D: results file
    text: str | None = None  # -T: text report file
    output_unit: float | None = None  # -u
    return_profiler: bool = False  # -r
    stripzeros: bool = False  # -z, and -s as in line_profiler
    summarize: bool = False  # --summarize
    sort: bool = False  # --sort
    total_time: bool = False  # %%lprun_all -t: the run's seconds in _total_time_taken
    top_level: bool = False  # %%lprun_all -p: the cell's own lines, not its functions'
    memory: bool = False  # -M: memory mode (lineprof's own; line_profiler has no -M)


def _parse_options(
    line: str,
    magic: str,
    flags: dict[str, str] = _FLAGS,
    valued: str = _VALUED,
    allowed: str = _ALLOWED,
) -> tuple[_Options, str]:
    """Split ``line`` into the options in front and the statement after them.

    The statement is kept verbatim (quotes, spacing, braces: it is Python).  Option values are
    read like shell words, so ``-T "my report.txt"`` and ``-f "d['key']"`` work.  ``--`` ends
    the options, for a statement that starts with ``-``."""
    opts = _Options()
    pos = 0
    while True:
        while pos < len(line) and line[pos].isspace():
            pos += 1
        end = pos
        while end < len(line) and not line[end].isspace():
            end += 1
        word = line[pos:end]
        if word == "--":
            pos = end
            break
        if word.startswith("--"):
            if word not in _LONG:
                raise UsageError(f"{magic}: unknown option {word} (options: {allowed})")
            setattr(opts, _LONG[word], True)
            pos = end
            continue
        if len(word) < 2 or word[0] != "-" or not word[1].isalpha():
            break  # the statement starts here
        pos += 1
        while pos < end:
            letter = line[pos]
            pos += 1
            if letter in flags:
                setattr(opts, flags[letter], True)
            elif letter in valued:
                value, pos = _read_value(line, pos, f"{magic} -{letter}")
                _set_value(opts, letter, value, magic)
                break
            else:
                raise UsageError(
                    f"{magic}: unknown option -{letter} (options: {allowed}; put -- before "
                    f"a statement that starts with '-')"
                )
    return opts, line[pos:].strip()


def _read_value(line: str, pos: int, option: str) -> tuple[str, int]:
    """The shell word at ``pos`` (after any spaces) and the position after it."""
    stream = io.StringIO(line[pos:])
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        value = lexer.get_token()
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"{option}: {exc}") from None
    if value is None or value == lexer.eof:
        raise UsageError(f"{option} needs a value")
    return value, pos + stream.tell()


def _set_value(opts: _Options, letter: str, value: str, magic: str) -> None:
    if letter == "f":
        opts.functions.append(value)
    elif letter == "m":
        opts.modules.append(value)
    elif letter == "D":
        opts.dump = value
    elif letter == "T":
        opts.text = value
    else:
        try:
            unit = float(value)
        except ValueError:
            # What line_profiler raises: code that catches it keeps working.
            raise TypeError("Timer unit setting must be a float.") from None
        if not (math.isfinite(unit) and unit > 0):
            raise UsageError(
                f"{magic} -u {value}: the output unit is a number of seconds, e.g. -u 1e-6"
            )
        opts.output_unit = unit


def _output_path(value: str, option: str) -> str:
    """``value`` as an absolute path, checked before the run so that a typo does not cost
    the results of a long one."""
    path = os.path.abspath(os.path.expanduser(value))
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise UsageError(f"{option} {value}: the directory {directory} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"{option} {value}: is a directory")
    return path


# ---- what a cell defines ----------------------------------------------------------------


def _cell_functions(code: types.CodeType) -> list[tuple[types.CodeType, str]]:
    """The functions and methods defined in a cell's code, at any depth, with their qualified
    names.  Lambdas, comprehensions and class bodies are left out: their time is charged to
    the line that runs them."""
    found: list[tuple[types.CodeType, str]] = []

    def visit(parent: types.CodeType, prefix: str) -> None:
        for const in parent.co_consts:
            if not isinstance(const, types.CodeType):
                continue
            qualname = str(getattr(const, "co_qualname", prefix + const.co_name))
            if const.co_flags & inspect.CO_NEWLOCALS and not const.co_name.startswith("<"):
                found.append((const, qualname))
                visit(const, qualname + ".<locals>.")
            else:
                visit(const, qualname + ".")

    visit(code, "")
    return found


# ---- running ----------------------------------------------------------------------------

_ABSENT = object()


@contextmanager
def _profile_in_builtins(profiler: LineProfiler) -> Iterator[None]:
    """A bare ``profile`` (kernprof -b style ``@profile``) is this profiler during the run, as
    in line_profiler's %lprun."""
    namespace = vars(builtins)
    saved = namespace.get("profile", _ABSENT)
    namespace["profile"] = profiler
    try:
        yield
    finally:
        if saved is _ABSENT:
            namespace.pop("profile", None)
        else:
            namespace["profile"] = saved


def _user_frames(tb: types.TracebackType | None, filename: str) -> types.TracebackType | None:
    """``tb`` from the profiled statement's frame on: lineprof's own frames left out."""
    entry = tb
    while entry is not None and entry.tb_frame.f_code.co_filename != filename:
        entry = entry.tb_next
    return entry if entry is not None else tb


@magics_class
class LineProfilerMagics(Magics):
    """``%lprun`` and ``%%lprun``."""

    @no_var_expand  # the statement is Python: {braces} and $names are not IPython's to expand
    @line_cell_magic
    def lprun(self, line: str = "", cell: str | None = None) -> LineProfiler | None:
        """Run a statement, or a whole cell, under lineprof's line-by-line profiler.

        Usage::

            %lprun [options] statement
            %%lprun [options]
            cell body

        ``%lprun`` profiles the functions named with ``-f`` and ``-m`` while the statement
        runs.  ``%%lprun`` profiles every line of the cell and every function and method
        defined in it (plus any named with ``-f`` and ``-m``) and shows the whole cell.

        The results display as lineprof's text report in a terminal and as an HTML table in
        Jupyter.  The options are line_profiler's:

        ``-f <function>``: profile this function; any expression that gives a function,
        method, property, partial, class (all its methods) or module, evaluated in the user
        namespace.  Repeatable.

        ``-m <module>``: profile every function and class defined in this module (imported by
        name).  Repeatable.

        ``-D <filename>``: save the results to a file, as ``LineProfiler.dump_stats`` does.

        ``-T <filename>``: save the text report to a file.

        ``-r``: return the ``LineProfiler`` after profiling.

        ``-z``, ``-s``: leave out functions that took no time.

        ``-u <seconds>``: the time unit of the report, e.g. ``-u 1e-3`` for milliseconds.

        ``--summarize``: add a summary, one line per function with its total time.

        ``--sort``: order the functions by total time, the most expensive last.

        ``-M``: memory mode (lineprof's own option): each line's Alloc, Net and Peak too.

        Put ``--`` before a statement that starts with ``-``.  A ``SystemExit`` or
        ``KeyboardInterrupt`` in the statement is caught and reported after the results;
        any other exception is raised after the results are shown and saved.
        """
        __tracebackhide__ = True  # IPython leaves this frame out of tracebacks
        magic = "%lprun" if cell is None else "%%lprun"
        opts, statement = _parse_options(line, magic)
        if cell is None and not statement:
            raise UsageError("%lprun needs a statement to run, e.g. %lprun -f f f(10)")
        if cell is not None and statement:
            raise UsageError(
                f"%%lprun takes only options on its first line; {statement!r} is not one "
                "(put the code in the cell body)"
            )
        return self._run(opts, magic, statement, cell, cell_functions=True)

    @no_var_expand
    @cell_magic
    def lprun_all(self, line: str = "", cell: str = "") -> LineProfiler | None:
        """Run the whole cell under lineprof's line-by-line profiler: line_profiler 5's
        ``%%lprun_all``.

        Usage::

            %%lprun_all [options]
            cell body

        Profiles every line of the cell and every function and method defined in it, at any
        depth, and shows the whole cell (what ``%%lprun`` does without ``-f``/``-m``).  The
        options are line_profiler's: ``-D``, ``-T``, ``-r``, ``-z`` and ``-u`` as for
        ``%lprun``, and

        ``-p``: profile only the cell's own lines, not the functions it defines.

        ``-t``: store the seconds the cell took in ``_total_time_taken`` in the user
        namespace.

        ``--summarize`` and ``--sort`` work as for ``%lprun``.
        """
        __tracebackhide__ = True
        magic = "%%lprun_all"
        opts, statement = _parse_options(line, magic, _ALL_FLAGS, _ALL_VALUED, _ALL_ALLOWED)
        if statement:
            raise UsageError(
                f"%%lprun_all takes only options on its first line; {statement!r} is not one "
                "(put the code in the cell body)"
            )
        if not cell.strip():
            cell = "...\n"  # as line_profiler: an empty cell is one line that does nothing
        return self._run(opts, magic, "", cell, cell_functions=not opts.top_level)

    def _run(
        self, opts: _Options, magic: str, statement: str, cell: str | None, cell_functions: bool
    ) -> LineProfiler | None:
        """Profile the statement (``cell`` None) or the cell, show and save the results."""
        __tracebackhide__ = True
        dump = _output_path(opts.dump, "-D") if opts.dump is not None else None
        text = _output_path(opts.text, "-T") if opts.text is not None else None
        profiler = self._profiler(opts, magic)
        if cell is None:
            code, filename = self._compile(statement, statement, magic)
            whole: list[FunctionKey] = []
        else:
            code, filename = self._compile(self._shell.transform_cell(cell), cell, magic)
            profiler.add_code(code, "<module>")
            if cell_functions:
                for function_code, qualname in _cell_functions(code):
                    profiler.add_code(function_code, qualname)
            whole = [(filename, code.co_firstlineno, "<module>")]

        caught: BaseException | None = None
        started = time.perf_counter()
        with _profile_in_builtins(profiler):
            try:
                profiler.runctx(code, self._shell.user_global_ns, self._shell.user_ns)
            except (SystemExit, KeyboardInterrupt, Exception) as exc:
                caught = exc
        if opts.total_time:
            self._shell.user_ns["_total_time_taken"] = time.perf_counter() - started

        report = LprunReport(
            profiler.get_stats(),
            output_unit=opts.output_unit,
            stripzeros=opts.stripzeros,
            summarize=opts.summarize,
            sort=opts.sort,
            whole=whole,
        )
        display(report)  # type: ignore[no-untyped-call]
        if dump is not None:
            report.stats.dump(dump)  # as dump_stats does, with the whole cell's source
            print(f"\n*** Profile results saved to file {dump!r}.")
        if text is not None:
            with open(text, "w", encoding="utf-8") as stream:
                stream.write(repr(report) + "\n")
            print(f"\n*** Profile printout saved to text file {text!r}.")
        if not report.stats.timings:
            print("\n*** Nothing was profiled: name functions with -f or modules with -m.")
        if isinstance(caught, SystemExit | KeyboardInterrupt):
            print(f"\n*** {type(caught).__name__} exception caught in code being profiled.")
        elif caught is not None:
            print(
                f"\n*** {type(caught).__name__} raised in the code being profiled: "
                "the results above stop there."
            )
            raise caught.with_traceback(_user_frames(caught.__traceback__, filename))
        return profiler if opts.return_profiler else None

    @property
    def _shell(self) -> Any:
        assert self.shell is not None, "the magics are registered with a shell"
        return self.shell

    def _profiler(self, opts: _Options, magic: str) -> LineProfiler:
        """A profiler with the -f functions and -m modules registered."""
        __tracebackhide__ = True
        shell = self._shell
        try:
            profiler = LineProfiler(memory=True if opts.memory else None)
        except ValueError as exc:  # LINEPROF_BACKEND names a backend this Python lacks
            raise UsageError(f"{magic}: {exc}") from None
        for expression in opts.functions:
            try:
                target = eval(expression, shell.user_global_ns, shell.user_ns)
            except Exception as exc:
                raise UsageError(
                    f"{magic} -f {expression}: could not find it ({type(exc).__name__}: {exc})"
                ) from None
            try:
                if isinstance(target, type):
                    profiler.add_class(target, scoping_policy=OWN_MEMBERS)
                elif isinstance(target, types.ModuleType):
                    profiler.add_module(target, scoping_policy=OWN_MEMBERS)
                else:
                    profiler.add_function(target)
            except TypeError as exc:
                raise UsageError(f"{magic} -f {expression}: {exc}") from None
        for name in opts.modules:
            try:
                module = importlib.import_module(name)
            except Exception as exc:
                raise UsageError(
                    f"{magic} -m {name}: could not import it ({type(exc).__name__}: {exc})"
                ) from None
            profiler.add_module(module, scoping_policy=OWN_MEMBERS)
        return profiler

    def _cell_number(self) -> int:
        """The number of the cell running the magic (In[n]), so that tracebacks and reports
        name the statement's and the cell's code after it.  The running cell's code is on the
        stack; ``execution_count`` is not enough (IPython 9 counts it up before the cell runs,
        8 after)."""
        shell = self._shell
        numbers = getattr(shell.compile, "_filename_map", {})  # cell code name -> number
        frame: types.FrameType | None = sys._getframe(1)
        while frame is not None:
            number = numbers.get(frame.f_code.co_filename)
            if isinstance(number, int):
                return number
            frame = frame.f_back
        return int(shell.execution_count)

    def _compile(self, source: str, raw: str, magic: str) -> tuple[types.CodeType, str]:
        """Compile as IPython compiles a cell (its __future__ flags and AST transformers), under
        a name that puts the source in ``linecache`` for the report and tracebacks."""
        __tracebackhide__ = True
        shell = self._shell
        filename: str = shell.compile.cache(source, self._cell_number(), raw_code=raw)
        raw_lines = [line + "\n" for line in raw.splitlines()]
        if raw != source and len(linecache.getlines(filename)) == len(raw_lines):
            # Show what was typed (`x = !ls`, not its translation) when lines correspond.
            linecache.cache[filename] = (len(raw), None, raw_lines, filename)
        try:
            tree = shell.compile.ast_parse(source, filename=filename)
        except SyntaxError as exc:
            # As a usage error: the message alone, with no traceback through lineprof.
            message = "".join(traceback.format_exception_only(type(exc), exc)).rstrip()
            message = message.replace(f'File "{filename}", ', "")
            name = type(exc).__name__
            if name.startswith("_"):  # 3.13's _IncompleteInputError: call it a SyntaxError
                public = next(c for c in type(exc).__mro__ if not c.__name__.startswith("_"))
                message = message.replace(f"\n{name}: ", f"\n{public.__name__}: ")
            raise UsageError(f"{magic}: the code does not compile:\n{message}") from None
        tree = shell.transform_ast(tree)
        code: types.CodeType = shell.compile(tree, filename, "exec")
        return code, filename

"""The ``lineprof`` command's argparse parsers: the program's (for what cli_options.py does
not read itself, for --help and for error messages), ``show``'s and ``diff``'s.  Imported
only when one of them is needed: argparse, with the re, enum, functools and gettext it brings,
costs a short profiled program ~8 ms of start-up.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from lineprof._typing import TYPE_CHECKING
from lineprof._version import __version__
from lineprof.cli_options import BOOLEAN_WORDS, CliError, is_boolean_word

if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["build_diff_parser", "build_parser", "build_show_parser", "switches"]


USAGE = """\
lineprof [options] script.py [args ...]
       lineprof [options] -m module [args ...]
       lineprof [options] -c "code" [args ...]
       lineprof [options] - [args ...]
       lineprof show [options] FILE [FILE ...]
       lineprof diff [options] OLD NEW"""

DESCRIPTION = """\
Run a Python program as __main__ and profile it: with -l line by line, the functions decorated
with @profile (from lineprof import profile, or a bare @profile) and whole scripts, modules and
packages named with -p; without -l, as kernprof does, under cProfile (script.py.prof, pstats'
format).  The results are saved (script.py.lprof by default) even when the program fails or
is interrupted; view them with -v now, or later with 'lineprof show FILE'.  The program's
exit status is lineprof's.  Options go before the script; everything after it is the script's
arguments ('--' ends the options, so 'lineprof -- show' runs a script called show)."""

EPILOG = """\
As kernprof's, the long form of a switch takes a value: --builtin=yes, --rich off,
--line-by-line=0 (yes/no, y/n, true/false, t/f, on/off, 1/0).
Defaults for these options can be set in [tool.lineprof] of the nearest pyproject.toml, using
the long option names (line-by-line = true, unit = 1e-6, prof-mod = ["mypkg"], ...).
Run 'lineprof show --help' for the results viewer.

Child processes (multiprocessing with any start method, concurrent.futures, Python
subprocesses) are profiled too and merged into the results; --no-children (or
LINEPROF_CHILDREN=0) profiles the program's own process only.

Without this command: LINE_PROFILE=1 python script.py profiles the functions decorated with
@profile (from lineprof import profile) and writes profile_output.txt and profile_output.lprof
at exit."""

SHOW_DESCRIPTION = """\
Print the report of one or more results files (written by lineprof, by @profile under
LINE_PROFILE=1 or by LineProfiler.dump_stats).  Several files are merged into one report:
hits and times are summed line by line."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's, told the terminal's width: left to find it, argparse imports shutil (with
    its compression modules, ~2 ms) for every parser it builds, help printed or not."""

    def __init__(self, prog: str, *args: Any, **kwargs: Any) -> None:
        if len(args) < 3 and "width" not in kwargs:
            kwargs["width"] = _terminal_columns() - 2  # what argparse takes off shutil's
        super().__init__(prog, *args, **kwargs)


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _Parser(argparse.ArgumentParser):
    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        return super().parse_args(_switch_values(list(args or [])), namespace)

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see '{self.prog} --help')")


class _Level(argparse.Action):
    """-v and -q: each use raises the level by one, as kernprof counts them (-vv, -qq);
    --no-view and --no-quiet set it to 0, over a pyproject.toml default."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if option_string is not None and option_string.startswith("--no-"):
            setattr(namespace, self.dest, 0)
        else:
            setattr(namespace, self.dest, (getattr(namespace, self.dest, None) or 0) + 1)


BOOLEAN_METAVAR = "yes|no"


class _Flag(argparse.Action):
    """A switch as kernprof 5.1 has them: ``--name`` (True) and ``--no-name`` (False); a value
    given to either (``--name=no``, ``--name off``) is turned into one of the two before
    argparse sees it (``_Parser.parse_args``).  A short form (``-b``) takes no value, so
    that letters combine (``-lbv``)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        names = list(option_strings)
        names += ["--no-" + name[2:] for name in option_strings if name.startswith("--")]
        kwargs.setdefault("default", None)
        super().__init__(names, dest, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        off = option_string is not None and option_string.startswith("--no-")
        setattr(namespace, self.dest, not off)

    def format_usage(self) -> str:
        return " | ".join(self.option_strings)


def _switch_values(tokens: Sequence[str]) -> list[str]:
    """kernprof's switch values, ``--name=VALUE`` or ``--name VALUE`` with VALUE one of its
    words (yes/no, y/n, true/false, t/f, on/off, 1/0), as ``--name`` or ``--no-name``
    (``--no-name=yes`` is ``--no-name``)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "--":
            out.extend(tokens[i:])
            break
        name, equals, value = token.partition("=")
        if name in _SWITCHES:
            if not equals and i + 1 < len(tokens) and is_boolean_word(tokens[i + 1]):
                equals, value = "=", tokens[i + 1]
                i += 1
            if equals:
                if not is_boolean_word(value):
                    raise CliError(
                        f"argument {name}: expected yes/no, true/false, on/off or 1/0, "
                        f"got {value!r}"
                    )
                on = BOOLEAN_WORDS[value.casefold()]
                base = name[len("--no-") :] if name.startswith("--no-") else name[2:]
                if name.startswith("--no-"):
                    on = not on
                token = f"--{base}" if on else f"--no-{base}"
        out.append(token)
        i += 1
    return out


def _add_flag(parser: Any, *names: str, help: str) -> None:
    """A switch: ``-x``, ``--name`` and ``--no-name`` (``_Flag``)."""
    action = parser.add_argument(*names, action=_Flag, help=help)
    _SWITCHES.update(name for name in action.option_strings if name.startswith("--"))


# The long switches (and their --no- forms), which may take a value: --builtin=no, --rich on.
_SWITCHES: set[str] = set()


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _add_view_options(parser: Any, show: bool) -> None:
    """-u, -z, -r, --summarize (and --sort for show), --html, --config: on a parser or a
    group."""
    parser.add_argument(
        "-u",
        "--unit",
        type=_positive_seconds,
        metavar="SECONDS",
        help="output unit of the times in the report, e.g. 1e-6 for microseconds "
        "(default: the timer unit, 1e-9)",
    )
    _add_flag(
        parser,
        "-z",
        "--skip-zero",
        help="hide functions that never ran",
    )
    _add_flag(
        parser,
        "-r",
        "--rich",
        help="colour the report with rich when it is installed and the output is a "
        "terminal (plain text otherwise)",
    )
    summarize = ["-m", "--summarize"] if show else ["--summarize"]
    _add_flag(
        parser,
        *summarize,
        help="after the report, one line per function with its total time",
    )
    if show:
        _add_flag(
            parser,
            "-t",
            "--sort",
            help="functions from least to most total time (default: by file and line)",
        )
    parser.add_argument(
        "--html",
        metavar="FILE",
        help="also write the HTML report (one self-contained page) to FILE",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="read defaults from this pyproject.toml (default: the nearest one above the "
        "working directory)",
    )
    parser.add_argument(
        "--no-config", action="store_true", help="ignore pyproject.toml [tool.lineprof]"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lineprof",
        usage=USAGE,
        description=DESCRIPTION,
        epilog=EPILOG,
        allow_abbrev=False,
        formatter_class=_Formatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"lineprof {__version__}")
    what = parser.add_argument_group(
        "what to run",
        "a script (a path, or the name of a script on PATH), or one of these;\n"
        "'-' instead of a script reads the code from stdin (profiled whole, as -c)",
    )
    what.add_argument("-m", metavar="MODULE", help="run a module as python -m does")
    what.add_argument("-c", metavar="CODE", help="run this code (profiled whole)")
    prof = parser.add_argument_group("what to profile")
    _add_flag(
        prof,
        "-l",
        "--line-by-line",
        help="profile line by line (lineprof's profiler); implies --builtin, as with "
        "kernprof.  Without it, as kernprof does, the whole program runs under cProfile and "
        "the results go to SCRIPT.prof (pstats' format; -v prints them)",
    )
    _add_flag(
        prof,
        "-b",
        "--builtin",
        help="put 'profile' in the builtins, so that a bare @profile works without an import",
    )
    prof.add_argument(
        "-p",
        "--prof-mod",
        action="append",
        metavar="TARGET",
        help="profile every function of a script, module or package without decorators: a "
        "path or a dotted name (pkg.mod, pkg.mod.func; a package includes its submodules, "
        "pkg.__init__ only itself).  Repeat it or separate targets with commas; '-p "
        "script.py' profiles the script itself, its module-level code included; an "
        "empty value drops the targets before it",
    )
    _add_flag(
        prof,
        "--prof-imports",
        help="also profile the modules (and functions) the script imports directly",
    )
    _add_flag(
        prof,
        "--preimports",
        help="import the -p targets (a package with all its submodules) before the program "
        "runs, so that all their functions are in the report; --no-preimports profiles them "
        "only when the program imports them (default: on, as kernprof's; with -l only)",
    )
    _add_flag(
        prof,
        "--children",
        help="profile the program's child processes too (multiprocessing, "
        "concurrent.futures, Python subprocesses) and merge their results into its own "
        "(default: on; --no-children, or LINEPROF_CHILDREN=0, switches it off)",
    )
    _add_flag(
        prof,
        "--memory",
        help="memory mode: also record what each line allocates (Alloc), leaves allocated "
        "(Net) and peaks at (Peak), callees included, shown as three more columns (default: "
        "off, or LINEPROF_MEMORY=1)",
    )
    prof.add_argument(
        "-s",
        "--setup",
        metavar="FILE",
        help="run this Python file first, unprofiled (for slow imports, say)",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "-o",
        "--outfile",
        metavar="FILE",
        help="save the results to FILE (default: SCRIPT.lprof in the working directory; "
        "MODULE.lprof with -m; lineprof-command.lprof with -c; lineprof-stdin.lprof with "
        "-); the extension picks the format: .lprof line_profiler's, .json lineprof's JSON",
    )
    out.add_argument(
        "-v",
        "--view",
        "--verbose",
        "--no-view",
        dest="view",
        action=_Level,
        help="print the report after the run; -vv also says on stderr what runs and how "
        "(the backend, the -p targets, where the results go)",
    )
    out.add_argument(
        "-q",
        "--quiet",
        "--no-quiet",
        dest="quiet",
        action=_Level,
        help="do not print where the results were written; -qq also silences standard "
        "output, the program's included; -qqq standard error too (a traceback of the "
        "program still shows)",
    )
    out.add_argument(
        "-i",
        "--output-interval",
        type=_positive_seconds,
        nargs="?",
        const=1.0,
        metavar="SECONDS",
        help="also save the results so far every SECONDS (default 1 when the value is "
        "left out), replacing the file atomically",
    )
    _add_view_options(out, show=False)
    return parser


def build_show_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lineprof show",
        description=SHOW_DESCRIPTION,
        epilog="Defaults come from [tool.lineprof] of the nearest pyproject.toml (unit,\n"
        "skip-zero, sort, summarize, rich).  -m and -t are line_profiler's letters.",
        allow_abbrev=False,
        formatter_class=_Formatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="results files")
    parser.add_argument(
        "--raw",
        action="store_true",
        help="the times as the clock read them, without taking out what lineprof measured "
        "of its own cost (the file records how much that was, per line)",
    )
    _add_view_options(parser, show=True)
    return parser


def build_diff_parser() -> argparse.ArgumentParser:
    # lineprof.diff is imported by `lineprof diff` only: running a program does not pay for it.
    from lineprof.diff import NOISE_FLOOR, NOISE_SHARE

    def percent(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value < float("inf"):
            raise argparse.ArgumentTypeError(f"expected a percentage >= 0, got {text!r}")
        return value

    parser = _Parser(
        prog="lineprof diff",
        description="Compare two results files (any format 'lineprof show' reads) line by "
        "line: one table per function of either run, biggest change first, its rows matched "
        "by source text so that lines that moved still pair.  Markers: + a line only in NEW, "
        "- only in OLD, ! its text changed, ~ its change is noise: hits equal and time "
        f"changed by less than {100 * NOISE_SHARE:g}% of the old time or by less than "
        f"{NOISE_FLOOR * 1e6:g} microsecond.",
        allow_abbrev=False,
    )
    parser.add_argument("old", metavar="OLD", help="the results before")
    parser.add_argument("new", metavar="NEW", help="the results after")
    parser.add_argument(
        "-u",
        "--unit",
        type=_positive_seconds,
        metavar="SECONDS",
        help="output unit of the times, e.g. 1e-6 for microseconds (default: the finer of "
        "the two files' timer units)",
    )
    parser.add_argument(
        "-z", "--skip-zero", action="store_true", help="hide functions that ran in neither run"
    )
    parser.add_argument(
        "--html", metavar="FILE", help="also write the comparison as one self-contained page"
    )
    parser.add_argument(
        "--fail-over",
        type=percent,
        metavar="PERCENT",
        help="exit with status 1, naming what grew on stderr, when a function found in both "
        "runs grew by more than PERCENT %% of its OLD total time, or a line's share of its "
        "function's total time grew by more than PERCENT percentage points; changes within "
        "noise (~) do not count",
    )
    return parser


def switches() -> set[str]:
    """The long switches and their --no- forms, which may take a yes/no value (what
    cli_options.SWITCHES lists)."""
    if not _SWITCHES:
        build_parser()
    return _SWITCHES

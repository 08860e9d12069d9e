"""The ``lineprof`` command: kernprof's command line, and ``lineprof show`` for saved results.

    lineprof [options] script.py [args...]      (also -m module, -c "code", - for stdin)
    lineprof show [options] FILE [FILE...]

This file parses options, reads ``[tool.lineprof]`` defaults (config.py), and reports.
Running the program is runner.py, profiling whole modules autoprofile.py, the session that
writes results at exit session.py, and collecting child processes' results children.py.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import io
import os
import shlex
import sys
from typing import IO, Any, NamedTuple, NoReturn

from lineprof import _config, runner
from lineprof._version import __version__
from lineprof.autoprofile import AutoProfiler, TargetError, imported_names, split_targets
from lineprof.config import ConfigError, find_pyproject, load_config
from lineprof.stats import LineStats, ResultsFileError, load_stats

__all__ = ["main"]

USAGE = """\
lineprof [options] script.py [args ...]
       lineprof [options] -m module [args ...]
       lineprof [options] -c "code" [args ...]
       lineprof [options] - [args ...]
       lineprof show [options] FILE [FILE ...]
       lineprof diff [options] OLD NEW"""

DESCRIPTION = """\
Run a Python program as __main__ and profile it line by line: functions decorated with
@profile (from lineprof import profile; or a bare @profile with -b), and whole scripts,
modules and packages named with -p.  The results are saved (script.py.lprof by default) even
when the program fails or is interrupted; view them with -v now, or later with
'lineprof show FILE'.  The program's exit status is lineprof's.  Options go before the
script; everything after it is the script's arguments ('--' ends the options, so
'lineprof -- show' runs a script called show)."""

EPILOG = """\
Defaults for these options can be set in [tool.lineprof] of the nearest pyproject.toml, using
the long option names (builtin = true, unit = 1e-6, prof-mod = ["mypkg"], ...).
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

# Options that take a value, and -i whose value is optional (as in kernprof).
_VALUE_OPTIONS = {"-o", "--outfile", "-s", "--setup", "-u", "--unit", "-p", "--prof-mod"}
_VALUE_OPTIONS |= {"--config", "--html"}
_OPTIONAL_VALUE_OPTIONS = {"-i", "--output-interval"}
_SHORT_WITH_VALUE = set("osup")


class CliError(Exception):
    """Bad input: one line for stderr, and the exit status."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see '{self.prog} --help')")


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
    bool_action: Any = argparse.BooleanOptionalAction
    parser.add_argument(
        "-u",
        "--unit",
        type=_positive_seconds,
        metavar="SECONDS",
        help="output unit of the times in the report, e.g. 1e-6 for microseconds "
        "(default: the timer unit, 1e-9)",
    )
    parser.add_argument(
        "-z",
        "--skip-zero",
        action=bool_action,
        help="hide functions that never ran",
    )
    parser.add_argument(
        "-r",
        "--rich",
        action=bool_action,
        help="colour the report with rich when it is installed and the output is a "
        "terminal (plain text otherwise)",
    )
    summarize = ["-m", "--summarize"] if show else ["--summarize"]
    parser.add_argument(
        *summarize,
        action=bool_action,
        help="after the report, one line per function with its total time",
    )
    if show:
        parser.add_argument(
            "-t",
            "--sort",
            action=bool_action,
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
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"lineprof {__version__}")
    what = parser.add_argument_group(
        "what to run",
        "a script (a path, or the name of a script on PATH), or one of these;\n"
        "'-' instead of a script reads the code from stdin (profiled whole, as -c)",
    )
    what.add_argument("-m", metavar="MODULE", help="run a module as python -m does")
    what.add_argument("-c", metavar="CODE", help="run this code (profiled whole)")
    bool_action: Any = argparse.BooleanOptionalAction
    prof = parser.add_argument_group("what to profile")
    prof.add_argument(
        "-l",
        "--line-by-line",
        action="store_true",
        default=None,
        help="accepted for kernprof compatibility: lineprof always profiles line by line; "
        "as with kernprof, implies --builtin",
    )
    prof.add_argument(
        "-b",
        "--builtin",
        action=bool_action,
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
    prof.add_argument(
        "--prof-imports",
        action=bool_action,
        help="also profile the modules (and functions) the script imports directly",
    )
    prof.add_argument(
        "--children",
        action=bool_action,
        help="profile the program's child processes too (multiprocessing, "
        "concurrent.futures, Python subprocesses) and merge their results into its own "
        "(default: on; --no-children, or LINEPROF_CHILDREN=0, switches it off)",
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
        action=bool_action,
        help="print the report after the run",
    )
    out.add_argument(
        "-q",
        "--quiet",
        action=bool_action,
        help="do not print where the results were written",
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
        formatter_class=argparse.RawDescriptionHelpFormatter,
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


# ---- splitting the command line -----------------------------------------------------------


class Command(NamedTuple):
    options: list[str]  # lineprof's own options, for argparse
    kind: str | None  # "script", "module", "command", "stdin"; None: nothing to run
    target: str
    args: list[str]  # the program's arguments


def split_command_line(argv: list[str]) -> Command:
    """Find where lineprof's options end: at the script, ``-m MODULE``, ``-c CODE``, ``-`` or
    ``--``.  Everything after belongs to the program."""
    options: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            if i + 1 >= len(argv):
                raise CliError("no script after '--'")
            return Command(options, "script", argv[i + 1], argv[i + 2 :])
        if token == "-":
            return Command(options, "stdin", "-", argv[i + 1 :])
        if token.startswith("--"):
            options.append(token)
            name, equals, _ = token.partition("=")
            if not equals and i + 1 < len(argv):
                if name in _VALUE_OPTIONS or (
                    name in _OPTIONAL_VALUE_OPTIONS and _is_number(argv[i + 1])
                ):
                    options.append(argv[i + 1])
                    i += 1
            i += 1
            continue
        if token.startswith("-") and len(token) > 1:
            for j in range(1, len(token)):
                letter = token[j]
                if letter in "mc":
                    if j > 1:
                        options.append(token[:j])
                    value = token[j + 1 :]
                    if not value:
                        if i + 1 >= len(argv):
                            raise CliError(f"-{letter} needs an argument")
                        i += 1
                        value = argv[i]
                    kind = "module" if letter == "m" else "command"
                    return Command(options, kind, value, argv[i + 1 :])
                if letter in _SHORT_WITH_VALUE or letter == "i":
                    if j == len(token) - 1 and i + 1 < len(argv):
                        if letter != "i" or _is_number(argv[i + 1]):
                            options.extend([token, argv[i + 1]])
                            i += 2
                            break
                    options.append(token)
                    i += 1
                    break
            else:
                options.append(token)
                i += 1
            continue
        return Command(options, "script", token, argv[i + 1 :])
    return Command(options, None, "", [])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ---- options and defaults -----------------------------------------------------------------


def _defaults(options: argparse.Namespace) -> dict[str, Any]:
    """[tool.lineprof] values, paths made relative to the pyproject.toml's directory."""
    if options.no_config:
        return {}
    path = options.config
    if path is not None and not os.path.isfile(path):
        raise CliError(f"--config {path}: no such file")
    config = load_config(path if path is not None else find_pyproject())
    if config.path is None:
        return {}
    base = os.path.dirname(os.path.abspath(config.path))
    values = dict(config.values)
    for key in ("setup", "outfile", "html"):
        if key in values and values[key]:
            values[key] = os.path.join(base, values[key])
    if "prof-mod" in values:
        values["prof-mod"] = [
            os.path.join(base, item) if os.path.exists(os.path.join(base, item)) else item
            for item in values["prof-mod"]
        ]
    return values


def _setting(options: argparse.Namespace, defaults: dict[str, Any], key: str) -> Any:
    value = getattr(options, key.replace("-", "_"), None)
    return defaults.get(key) if value is None else value


class Settings(NamedTuple):
    builtin: bool
    prof_mod: list[str]
    prof_imports: bool
    setup: str | None
    outfile: str | None
    view: bool
    quiet: bool
    interval: float | None
    unit: float | None
    skip_zero: bool
    rich: bool
    summarize: bool
    sort: bool
    children: bool
    html: str | None


def _settings(options: argparse.Namespace, defaults: dict[str, Any]) -> Settings:
    def flag(key: str) -> bool:
        return bool(_setting(options, defaults, key))

    prof_mod = list(defaults.get("prof-mod", []))
    prof_mod += getattr(options, "prof_mod", None) or []
    return Settings(
        builtin=flag("builtin") or flag("line-by-line"),
        prof_mod=split_targets(prof_mod),
        prof_imports=flag("prof-imports"),
        setup=_setting(options, defaults, "setup") or None,
        outfile=_setting(options, defaults, "outfile") or None,
        view=flag("view"),
        quiet=flag("quiet"),
        interval=_setting(options, defaults, "output-interval"),
        unit=_setting(options, defaults, "unit"),
        skip_zero=flag("skip-zero"),
        rich=flag("rich"),
        summarize=flag("summarize"),
        sort=flag("sort"),
        children=_on_unless_off(_setting(options, defaults, "children")),
        html=_setting(options, defaults, "html") or None,
    )


def _on_unless_off(value: bool | None) -> bool:
    return _config.children_requested() if value is None else value


# ---- entry point --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (an exception from the profiled
    program propagates, so that Python prints its traceback and sets the status)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["show"]:
            return _show(argv[1:])
        if argv[:1] == ["diff"]:
            return _diff(argv[1:])
        return _run(argv)
    except (CliError, runner.RunError, TargetError, ConfigError) as exc:
        status = getattr(exc, "status", 2)
        print(f"lineprof: error: {exc}", file=sys.stderr)
        return int(status)


def _run(argv: list[str]) -> int:
    launcher = _launcher()
    command = split_command_line(argv)
    options = build_parser().parse_args(command.options)
    if command.kind is None:
        raise CliError("no script given (lineprof [options] script.py [args ...]; see --help)")
    defaults = _defaults(options)
    settings = _settings(options, defaults)
    outfile = settings.outfile or _default_outfile(command.kind, command.target)
    _check_writable(outfile, "results")
    if settings.html:
        _check_writable(settings.html, "the HTML report")
    if settings.setup and not os.path.isfile(settings.setup):
        raise CliError(f"--setup {settings.setup}: no such file")
    if command.kind == "script" and command.target.endswith((".lprof", ".json")):
        if os.path.isfile(command.target):
            raise CliError(
                f"{command.target} looks like a results file; to display it run: "
                f"{launcher} show {shlex.quote(command.target)}"
            )

    prepared = runner.prepare(command.kind, command.target)
    runner.enter_main(prepared, command.args)  # sys.argv, sys.path[0], sys.modules["__main__"]

    from lineprof.decorator import profile
    from lineprof.profiler import LineProfiler
    from lineprof.session import Session

    try:
        profiler = LineProfiler()  # LINEPROF_BACKEND may name a backend this Python lacks
    except ValueError as exc:
        raise CliError(str(exc)) from None
    auto = AutoProfiler(profiler)
    auto.add_targets(settings.prof_mod)
    if settings.prof_imports and prepared.source is not None:
        auto.add_targets(imported_names(prepared.source), strict=False)
    notes = auto.warnings  # printed at exit, with the results
    # The results go where the user meant even if the program changes directory.
    results_path = os.path.abspath(outfile)
    html_path = os.path.abspath(settings.html) if settings.html else None

    collector = None
    if settings.children:
        from lineprof.children import Collector

        collector = Collector.start(auto, settings.builtin)

    def finish(stats: LineStats) -> None:
        if collector is not None:
            stats = collector.merge(stats)
        _finish(stats, settings, outfile, results_path, html_path, launcher, notes)

    try:
        session = Session(profiler, finish, collector.on_fork if collector else None)
        profile._use_session(session)  # @profile registers here from now on, setup included
        if settings.builtin:
            builtins.__dict__["profile"] = profile
        auto.install()
        if settings.setup:
            runner.run_setup(settings.setup)  # before recording starts
        if command.kind in ("command", "stdin") or auto.wants(
            prepared.module_name, prepared.filename
        ):
            auto.register_code(prepared.code, with_module_code=True)
        if settings.interval is not None:
            session.write_every(settings.interval, lambda stats: stats.dump(results_path))
        try:
            session.start()
        except RuntimeError as exc:  # the backend LINEPROF_BACKEND insists on is taken
            raise CliError(f"cannot start profiling: {exc}") from None
    except BaseException:
        if collector is not None:
            collector.close()  # no session to finish: nothing would remove the directory
        raise
    if collector is not None:
        collector.after_start()
    try:
        runner.run(prepared)
    except NameError as exc:
        if getattr(exc, "name", None) == "profile" and not settings.builtin:
            notes.append(
                "'profile' is not defined: add 'from lineprof import profile' to the "
                "script, or run lineprof with -b to put profile in the builtins"
            )
        raise
    return 0


def _launcher() -> str:
    """How the user called lineprof, for the hints we print."""
    if os.path.basename(sys.argv[0] or "") == "lineprof":
        return "lineprof"
    from lineprof.decorator import _python_command

    return f"{_python_command()} -m lineprof"


def _default_outfile(kind: str, target: str) -> str:
    if kind == "script":
        return os.path.basename(target) + ".lprof"
    if kind == "module":
        return target + ".lprof"
    return f"lineprof-{kind}.lprof"


def _check_writable(outfile: str, what: str) -> None:
    """Fail before running anything when ``outfile`` cannot be written."""
    directory = os.path.dirname(os.path.abspath(outfile))
    if not os.path.isdir(directory):
        raise CliError(f"cannot write {what} to {outfile}: no directory {directory}")
    if not os.access(directory, os.W_OK):
        raise CliError(f"cannot write {what} to {outfile}: {directory} is not writable")
    if os.path.isdir(outfile):
        raise CliError(f"cannot write {what} to {outfile}: it is a directory")


def _finish(
    stats: LineStats,
    settings: Settings,
    outfile: str,
    results_path: str,
    html_path: str | None,
    launcher: str,
    warnings: list[str],
) -> None:
    """At exit: save the results (and the HTML report), say where, and show the report
    with -v."""
    for warning in warnings:
        print(f"lineprof: warning: {warning}", file=sys.stderr)
    if not stats.timings and not warnings:
        print(
            "lineprof: nothing was profiled: decorate functions with @profile (from lineprof "
            "import profile, or a bare @profile with -b) or name what to profile with -p",
            file=sys.stderr,
        )
    try:
        stats.dump(results_path)
    except OSError as exc:
        print(f"lineprof: error: cannot write results to {outfile}: {exc}", file=sys.stderr)
        return
    html_written = html_path is not None and _write_html(stats, settings.html, html_path)
    try:
        if not settings.quiet:
            print(f"Wrote profile results to {outfile}")
            if html_written:
                print(f"Wrote the HTML report to {settings.html}")
        if settings.view:
            _print_report(stats, settings, sys.stdout)
        elif not settings.quiet:
            print(f"Inspect results with:\n{launcher} show {shlex.quote(outfile)}")
        sys.stdout.flush()
    except (OSError, ValueError):  # stdout closed or a broken pipe: the results are saved
        pass


def _write_html(stats: LineStats, shown: str | None, path: str) -> bool:
    from lineprof.html import write_html

    try:
        write_html(stats, path)  # atomically
    except OSError as exc:
        why = exc.strerror or exc
        print(f"lineprof: error: cannot write the HTML report to {shown}: {why}", file=sys.stderr)
        return False
    return True


def _show(argv: list[str]) -> int:
    options = build_show_parser().parse_args(argv)
    settings = _settings(options, _defaults(options))
    if settings.html:
        _check_writable(settings.html, "the HTML report")
    loaded = []
    for path in options.files:
        try:
            loaded.append(load_stats(path))
        except ResultsFileError as exc:
            raise CliError(str(exc), 1) from None
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror or exc}", 1) from None
    merged = LineStats.merge(loaded)
    if options.raw:
        try:
            merged = merged.raw()
        except ValueError as exc:
            raise CliError(f"--raw: {exc}", 1) from None
    _print_report(merged, settings, sys.stdout)
    if settings.html and not _write_html(merged, settings.html, os.path.abspath(settings.html)):
        return 1
    return 0


def _diff(argv: list[str]) -> int:
    from lineprof.diff import diff_stats, fail_over, format_diff

    options = build_diff_parser().parse_args(argv)
    if options.html:
        _check_writable(options.html, "the HTML comparison")
    loaded = []
    for path in (options.old, options.new):
        try:
            loaded.append(load_stats(path))
        except ResultsFileError as exc:
            raise CliError(str(exc), 1) from None
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror or exc}", 1) from None
    diff = diff_stats(loaded[0], loaded[1])
    names = (options.old, options.new)
    sys.stdout.write(format_diff(diff, options.unit, options.skip_zero, names))
    status = 0
    if options.html:
        from lineprof.diff_html import write_diff_html

        try:
            write_diff_html(diff, options.html, options.unit, options.skip_zero, names)
        except OSError as exc:
            why = exc.strerror or exc
            print(f"lineprof: error: cannot write {options.html}: {why}", file=sys.stderr)
            status = 1
    if options.fail_over is not None:
        exceeded = fail_over(diff, options.fail_over)
        for message in exceeded:
            print(f"lineprof: fail-over: {message}", file=sys.stderr)
        if exceeded:
            status = 1
    return status


# ---- the report ---------------------------------------------------------------------------


def _print_report(stats: LineStats, settings: Settings, stream: IO[str]) -> None:
    buffer = io.StringIO()
    stats.print(
        stream=buffer,
        output_unit=settings.unit,
        stripzeros=settings.skip_zero,
        summarize=settings.summarize,
        sort=settings.sort,
    )
    text = buffer.getvalue()
    if settings.rich and _is_terminal(stream) and _print_rich(text, stream):
        return
    stream.write(text)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# Columns of a report row (report.py): line, hits, time, per hit, % time, then the source.
_CODE_COLUMN = 49
_PERCENT = slice(40, 48)


def _print_rich(text: str, stream: IO[str]) -> bool:
    """The report with the source highlighted and the hot lines coloured; False when rich is
    not installed."""
    try:  # optional: imported here, and only here
        console_module: Any = importlib.import_module("rich.console")
        syntax_module: Any = importlib.import_module("rich.syntax")
        text_module: Any = importlib.import_module("rich.text")
    except ImportError:
        return False
    Text = text_module.Text
    console = console_module.Console(file=stream, highlight=False, soft_wrap=True)
    syntax = syntax_module.Syntax("", "python", theme="ansi_dark", background_color="default")
    for line in text.splitlines():
        head = line[:_CODE_COLUMN]
        if len(line) >= _CODE_COLUMN - 2 and head[:6].strip().isdigit():
            try:
                percent = float(line[_PERCENT])
            except ValueError:
                percent = 0.0
            style = "bold red" if percent >= 20 else "yellow" if percent >= 5 else ""
            row = Text()
            row.append(head, style=style)  # the numbers: hot lines stand out
            row.append_text(syntax.highlight(line[_CODE_COLUMN:]))
            row.rstrip()
            console.print(row)
        elif line.startswith(("Timer unit", "Total time", "File:", "Function:", "Line #")):
            console.print(Text(line, style="bold"))
        else:
            console.print(Text(line))
    return True

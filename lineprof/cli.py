"""The ``lineprof`` command: kernprof's command line, and ``lineprof show`` for saved results.

    lineprof [options] script.py [args...]      (also -m module, -c "code", - for stdin)
    lineprof show [options] FILE [FILE...]

This file reads ``[tool.lineprof]`` defaults (config.py), runs, and reports; the options
and their parsing are cli_options.py (and cli_parsers.py, argparse's parsers).
Running the program is runner.py, profiling whole modules autoprofile.py, the session that
writes results at exit session.py, and collecting child processes' results children.py.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal without its enums (session.py)
import atexit
import builtins
import importlib
import io
import os
import sys

from lineprof import environment, report, runner
from lineprof._typing import TYPE_CHECKING, NamedTuple
from lineprof.autoprofile import AutoProfiler, TargetError, imported_names, split_targets
from lineprof.cli_options import CliError, Command, Options, read_common, split_command_line
from lineprof.config import ConfigError, find_pyproject, load_config
from lineprof.results import LineStats, dump_with_fallback, load_stats
from lineprof.stats import ResultsFileError, write_target

if TYPE_CHECKING:  # imported when a program is run: `lineprof show` does not pay for them
    import contextlib
    from typing import IO, Any

    from lineprof.profiler import LineProfiler
    from lineprof.session import Session

__all__ = ["main"]

# ---- options and defaults -----------------------------------------------------------------


def _defaults(options: Options) -> dict[str, Any]:
    """[tool.lineprof] values (else line_profiler's configuration, translated), paths made
    relative to the directory of the file they come from."""
    if options.no_config:
        return {}
    path = options.config
    if path is not None and not os.path.isfile(path):
        raise CliError(f"--config {path}: no such file")
    config = load_config(path if path is not None else find_pyproject(), explicit=path is not None)
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


def _parse_with_argparse(tokens: list[str]) -> Options:
    """The options read_common leaves (argparse, with its re, enum and gettext, costs a run
    ~8 ms of start-up: not paid for -l, -v, -q, -b, -o and -p)."""
    from lineprof.cli_parsers import build_parser  # noqa: PLC0415

    return build_parser().parse_args(tokens)


def _setting(options: Options, defaults: dict[str, Any], key: str) -> Any:
    value = getattr(options, key.replace("-", "_"), None)
    return defaults.get(key) if value is None else value


class Settings(NamedTuple):
    builtin: bool
    prof_mod: list[str]
    prof_imports: bool
    setup: str | None
    outfile: str | None
    view: int  # -v: 1 the report, 2 also what runs and how
    quiet: int  # -q: 1 no "Wrote ...", 2 nothing on stdout, 3 nor on stderr
    interval: float | None
    unit: float | None
    skip_zero: bool
    rich: bool
    summarize: bool
    sort: bool
    children: bool
    html: str | None
    memory: bool | None = None  # None: LINEPROF_MEMORY decides
    line_by_line: bool = True  # -l; without it the program runs under cProfile, as kernprof's
    preimports: bool = True  # import the -p targets before the program, as kernprof 5.1


def _settings(options: Options, defaults: dict[str, Any]) -> Settings:
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
        view=_level(options, defaults, "view"),
        quiet=_level(options, defaults, "quiet"),
        interval=_setting(options, defaults, "output-interval"),
        unit=_setting(options, defaults, "unit"),
        skip_zero=flag("skip-zero"),
        rich=flag("rich"),
        summarize=flag("summarize"),
        sort=flag("sort"),
        children=_on_unless_off(_setting(options, defaults, "children")),
        html=_setting(options, defaults, "html") or None,
        memory=_setting(options, defaults, "memory"),
        line_by_line=flag("line-by-line"),
        preimports=_setting(options, defaults, "preimports") is not False,
    )


def _level(options: Options, defaults: dict[str, Any], key: str) -> int:
    """-v's or -q's count; without the option, 1 when pyproject.toml says true."""
    value = getattr(options, key, None)
    return int(bool(defaults.get(key))) if value is None else int(value)


def _on_unless_off(value: bool | None) -> bool:
    return environment.children_requested() if value is None else value


# ---- entry point --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    ``main()`` without arguments is the command itself (the console script and ``python -m
    lineprof`` call it so): it reads ``sys.argv``, and the program is the process's
    ``__main__`` from then on.  The results are written when the process ends, however it
    ends (normally, an exception, ``sys.exit()``, Ctrl-C, SIGTERM), so that the program's
    non-daemon threads and atexit handlers are recorded to the end; an exception of the
    program, SystemExit included, propagates, so that Python prints its traceback and exits
    with the program's status.

    ``main(argv)`` is a call from Python code (a tool, a test): it ends the profiling session
    before it returns or raises, so that the results are written and -v's report printed by
    then, and it puts back ``sys.argv``, ``sys.path``, ``sys.modules['__main__']``,
    ``sys.excepthook`` and ``builtins.profile`` as they were.  As from kernprof 5.1's
    ``main``, an exception of the program propagates, SystemExit and KeyboardInterrupt
    included: a program's ``sys.exit(3)`` raises ``SystemExit(3)`` out of ``main``, after
    the results are written (and --help and --version raise SystemExit, as argparse does).
    """
    in_process = argv is not None
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["show"]:
            return _show(argv[1:])
        if argv[:1] == ["diff"]:
            return _diff(argv[1:])
        if not in_process:
            return _run(argv, None)
        import contextlib  # noqa: PLC0415 (main(argv) only: one more module for a run to load)

        with contextlib.ExitStack() as undo:
            undo.callback(runner.save_state())
            return _run(argv, undo)
    except (CliError, runner.RunError, TargetError, ConfigError) as exc:
        status = getattr(exc, "status", 2)
        print(f"lineprof: error: {exc}", file=sys.stderr)
        return int(status)


def _run(argv: list[str], undo: contextlib.ExitStack | None) -> int:
    """Run the program; ``undo`` (in process only) takes what must be put back when main()
    returns, the session's end first."""
    launcher = _launcher()
    command = split_command_line(argv)
    options = read_common(command.options) or _parse_with_argparse(command.options)
    if command.kind is None:
        raise CliError("no script given (lineprof [options] script.py [args ...]; see --help)")
    defaults = _defaults(options)
    settings = _settings(options, defaults)
    if not settings.line_by_line:
        return _run_cprofile(command, settings, launcher, undo)
    outfile = settings.outfile or _default_outfile(command.kind, command.target)
    if not settings.outfile and _memory_on(settings):
        # line_profiler's .lprof has no place for the memory columns; lineprof's JSON keeps them.
        outfile = outfile.removesuffix(".lprof") + ".json"
    _check_writable(outfile, "results")
    if settings.html:
        _check_writable(settings.html, "the HTML report")
    if settings.setup and not os.path.isfile(settings.setup):
        raise CliError(f"--setup {settings.setup}: no such file")
    _refuse_results_file(command, launcher)

    prepared = runner.prepare(command.kind, command.target)
    runner.enter_main(prepared, command.args)  # sys.argv, sys.path[0], sys.modules["__main__"]
    aliased = _alias_line_profiler(prepared, undo)

    from lineprof.decorator import profile
    from lineprof.profiler import LineProfiler
    from lineprof.session import Session

    try:
        # LINEPROF_BACKEND may name a backend this Python lacks
        profiler = LineProfiler(memory=settings.memory)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    auto = AutoProfiler(profiler)
    # A target that names nothing is a warning, and the run goes on, as with kernprof: a
    # pyproject.toml's or a script's list of targets may name optional modules.
    for message in auto.add_targets(settings.prof_mod, strict=False):
        if settings.quiet < 3:
            print(f"lineprof: warning: {message}", file=sys.stderr)
    if settings.prof_imports and prepared.source is not None:
        auto.add_targets(imported_names(prepared.source), strict=False)
    notes = auto.warnings  # printed at the end, with the results
    # The results go where the user meant even if the program changes directory.
    results_path = os.path.abspath(outfile)
    html_path = os.path.abspath(settings.html) if settings.html else None

    collector = None
    if settings.children:
        from lineprof.children import Collector

        collector = Collector.start(auto, settings.builtin, profiler.memory, aliased)

    def finish(stats: LineStats) -> None:
        if collector is not None:
            stats = collector.merge(stats)
        with runner.Silence(settings.quiet):
            _finish(stats, settings, outfile, results_path, html_path, launcher, notes)

    silence = runner.Silence(settings.quiet)  # -qq: from the setup file to the program's end
    try:
        session = Session(profiler, finish, collector.on_fork if collector else None)
        if undo is not None:
            undo.callback(auto.uninstall)
            undo.callback(profile._use_session, profile._session)
            undo.callback(_end_session, session)
        profile._use_session(session)  # @profile registers here from now on, setup included
        if settings.builtin:
            builtins.__dict__["profile"] = profile
        auto.install()
        silence.start()
        if settings.setup:
            runner.run_setup(settings.setup)  # before recording starts
        if settings.preimports and settings.prof_mod:
            # as kernprof 5.1: the -p targets imported (and registered) before the program
            for message in auto.preimport(settings.prof_mod, exclude=[prepared.filename]):
                if settings.quiet < 3:
                    print(f"lineprof: warning: {message}", file=sys.stderr)
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
        silence.stop()
        if collector is not None:
            collector.close()  # no session to finish: nothing would remove the directory
        raise
    if collector is not None and undo is None:
        collector.after_start()  # at exit, multiprocessing ends its children first
    if settings.view >= 2:
        _diagnose(prepared, profiler, settings, results_path, collector is not None)
    try:
        try:
            runner.run(prepared)
        finally:
            silence.stop()
    except NameError as exc:
        if getattr(exc, "name", None) == "profile" and not settings.builtin:
            notes.append(
                "'profile' is not defined: add 'from lineprof import profile' to the "
                "script, or run lineprof with -b to put profile in the builtins"
            )
        raise
    return 0


def _refuse_results_file(command: Command, launcher: str) -> None:
    if command.kind == "script" and command.target.endswith((".lprof", ".json", ".prof")):
        if os.path.isfile(command.target):
            show = "python -m pstats" if command.target.endswith(".prof") else f"{launcher} show"
            from lineprof.decorator import shell_quote

            raise CliError(
                f"{command.target} looks like a results file; to display it run: "
                f"{show} {shell_quote(command.target)}"
            )


def _run_cprofile(
    command: Command, settings: Settings, launcher: str, undo: contextlib.ExitStack | None
) -> int:
    """Without -l, as kernprof: the program under cProfile (cprofile_mode.py)."""
    from lineprof import cprofile_mode

    assert command.kind is not None  # _run said so
    outfile = settings.outfile or cprofile_mode.default_outfile(command.kind, command.target)
    _check_writable(outfile, "results")
    if settings.setup and not os.path.isfile(settings.setup):
        raise CliError(f"--setup {settings.setup}: no such file")
    _refuse_results_file(command, launcher)
    unused = [
        name
        for name, value in (
            ("-p", settings.prof_mod),
            ("--prof-imports", settings.prof_imports),
            ("--memory", settings.memory),
            ("--html", settings.html),
            ("-i", settings.interval),
        )
        if value
    ]
    if unused and settings.quiet < 3:
        print(
            f"lineprof: warning: {', '.join(unused)} work with -l (line by line) only; "
            "without it the program runs under cProfile, as with kernprof",
            file=sys.stderr,
        )
    if outfile.endswith((".lprof", ".json")) and settings.quiet < 3:
        print(
            f"lineprof: warning: {outfile} will hold cProfile's results (pstats' format, "
            "read with python -m pstats); -l for line-by-line results",
            file=sys.stderr,
        )
    prepared = runner.prepare(command.kind, command.target)
    runner.enter_main(prepared, command.args)
    _alias_line_profiler(prepared, undo)
    return cprofile_mode.run(
        prepared,
        outfile=outfile,
        setup=settings.setup,
        builtin=settings.builtin,
        view=settings.view,
        quiet=settings.quiet,
        launcher=launcher,
        undo=undo,
    )


def _alias_line_profiler(prepared: runner.Prepared, undo: contextlib.ExitStack | None) -> bool:
    """``from line_profiler import profile`` records into lineprof while the program runs,
    unless the program is kernprof or line_profiler itself (line_profiler_alias.py)."""
    from lineprof import line_profiler_alias

    if line_profiler_alias.wanted_for_itself(prepared.module_name, prepared.filename):
        return False
    alias = line_profiler_alias.Alias()
    alias.install()
    if undo is not None:
        undo.callback(alias.uninstall)
    return True


def _end_session(session: Session) -> None:
    """In process: finish the session now (the results are written, the children's merged),
    and take back the exit and SIGTERM hooks it installed for the end of the process."""
    session.finish()
    atexit.unregister(session.finish)
    handler = session._sigterm_handler
    if handler is not None and _signal.getsignal(_signal.SIGTERM) is handler:
        try:
            _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)  # it is installed only over SIG_DFL
        except ValueError:
            pass  # not the main thread, where signal.signal only works


def _diagnose(
    prepared: runner.Prepared,
    profiler: LineProfiler,
    settings: Settings,
    results_path: str,
    children: bool,
) -> None:
    """-vv: what runs and how, on stderr."""
    lines = [
        f"running {prepared.filename} as __main__ with sys.argv {sys.argv!r}",
        f"backend: {profiler.backend}",
        "profiled whole (-p): " + (", ".join(settings.prof_mod) or "nothing"),
        "child processes: " + ("profiled and merged" if children else "not profiled"),
        f"results: {results_path}",
    ]
    for line in lines:
        print(f"lineprof: {line}", file=sys.stderr)


def _launcher() -> str:
    """How the user called lineprof, for the hints we print."""
    if os.path.basename(sys.argv[0] or "") == "lineprof":
        return "lineprof"
    from lineprof.decorator import _python_command

    return f"{_python_command()} -m lineprof"


def _memory_on(settings: Settings) -> bool:
    return settings.memory if settings.memory is not None else environment.memory()


def _default_outfile(kind: str, target: str) -> str:
    if kind == "script":
        return os.path.basename(target) + ".lprof"
    if kind == "module":
        return target + ".lprof"
    return f"lineprof-{kind}.lprof"


def _check_writable(outfile: str, what: str) -> None:
    """Fail before running anything when ``outfile`` cannot be written."""
    if os.path.isdir(outfile):
        raise CliError(f"cannot write {what} to {outfile}: it is a directory")
    path, in_place = write_target(outfile)
    if in_place:  # /dev/null, /dev/stdout, a FIFO: written into, as it is
        if not os.access(path, os.W_OK):
            raise CliError(f"cannot write {what} to {outfile}: it is not writable")
        return
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise CliError(f"cannot write {what} to {outfile}: no directory {directory}")
    if not os.access(directory, os.W_OK):
        raise CliError(f"cannot write {what} to {outfile}: {directory} is not writable")


def _finish(
    stats: LineStats,
    settings: Settings,
    outfile: str,
    results_path: str,
    html_path: str | None,
    launcher: str,
    warnings: list[str],
) -> None:
    """When the session finishes (at exit, or before an in-process main returns): save the
    results (and the HTML report), say where, and show the report with -v."""
    for warning in warnings:
        print(f"lineprof: warning: {warning}", file=sys.stderr)
    if not stats.timings and not warnings:
        print(
            "lineprof: nothing was profiled: decorate functions with @profile (from lineprof "
            "import profile, or a bare @profile with -b) or name what to profile with -p",
            file=sys.stderr,
        )
    written: str | None = outfile
    try:
        path, error = dump_with_fallback(stats, results_path)
        if error is not None:
            written = path
            print(
                f"lineprof: error: cannot write results to {outfile} ({_why(error)}): "
                f"written to {path} instead",
                file=sys.stderr,
            )
    except OSError as exc:
        written = None
        print(f"lineprof: error: cannot write results to {outfile}: {_why(exc)}", file=sys.stderr)
    html_written = html_path is not None and _write_html(stats, settings.html, html_path)
    try:
        if not settings.quiet:
            if written is not None:
                print(f"Wrote profile results to {written}")
            if html_written:
                print(f"Wrote the HTML report to {settings.html}")
        if settings.view:
            _print_report(stats, settings, sys.stdout)
        elif not settings.quiet and written is not None:
            from lineprof.decorator import shell_quote

            print(f"Inspect results with:\n{launcher} show {shell_quote(written)}")
        sys.stdout.flush()
    except (OSError, ValueError):  # stdout closed or a broken pipe: the results are saved
        pass


def _why(exc: OSError) -> str:
    """An OSError in a message: its reason alone, without the (temporary) file name."""
    return exc.strerror or str(exc)


def _write_html(stats: LineStats, shown: str | None, path: str) -> bool:
    from lineprof.html import write_html

    try:
        write_html(stats, path)  # atomically
    except OSError as exc:
        why = _why(exc)
        print(f"lineprof: error: cannot write the HTML report to {shown}: {why}", file=sys.stderr)
        return False
    return True


def _show(argv: list[str]) -> int:
    from lineprof.cli_parsers import build_show_parser  # noqa: PLC0415

    options = build_show_parser().parse_args(argv)
    settings = _settings(options, _defaults(options))
    if settings.html:
        _check_writable(settings.html, "the HTML report")
    merged = LineStats.merge(_load_results(options.files))
    if options.raw:
        try:
            merged = merged.raw()
        except ValueError as exc:
            raise CliError(f"--raw: {exc}", 1) from None
    _print_report(merged, settings, sys.stdout)
    if settings.html and not _write_html(merged, settings.html, os.path.abspath(settings.html)):
        return 1
    return 0


def _load_results(paths: list[str]) -> list[LineStats]:
    """Each results file, or a one-line CliError (exit status 1) for the first that cannot
    be read."""
    loaded = []
    for path in paths:
        try:
            loaded.append(load_stats(path))
        except ResultsFileError as exc:
            hint = "; a .prof file is cProfile's: python -m pstats reads it"
            raise CliError(f"{exc}{hint if path.endswith('.prof') else ''}", 1) from None
        except OSError as exc:
            raise CliError(f"cannot read {path}: {_why(exc)}", 1) from None
    return loaded


def _diff(argv: list[str]) -> int:
    from lineprof.cli_parsers import build_diff_parser  # noqa: PLC0415
    from lineprof.diff import diff_stats, fail_over, format_diff

    options = build_diff_parser().parse_args(argv)
    if options.html:
        _check_writable(options.html, "the HTML comparison")
    old, new = _load_results([options.old, options.new])
    diff = diff_stats(old, new)
    names = (options.old, options.new)
    sys.stdout.write(format_diff(diff, options.unit, options.skip_zero, names))
    status = 0
    if options.html:
        from lineprof.diff_html import write_diff_html

        try:
            write_diff_html(diff, options.html, options.unit, options.skip_zero, names)
        except OSError as exc:
            print(f"lineprof: error: cannot write {options.html}: {_why(exc)}", file=sys.stderr)
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
    report.write(stream, text)  # what the terminal cannot encode, escaped


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
    code_column = _CODE_COLUMN
    for line in text.splitlines():
        if line.startswith("Line #") and "Line Contents" in line:
            code_column = line.index("Line Contents")  # memory mode's columns come first
        head = line[:code_column]
        if len(line) >= code_column - 2 and head[:6].strip().isdigit():
            try:
                percent = float(line[_PERCENT])
            except ValueError:
                percent = 0.0
            style = "bold red" if percent >= 20 else "yellow" if percent >= 5 else ""
            row = Text()
            row.append(head, style=style)  # the numbers: hot lines stand out
            row.append_text(syntax.highlight(line[code_column:]))
            row.rstrip()
            console.print(row)
        elif line.startswith(
            ("Timer unit", "Total time", "Memory:", "File:", "Function:", "Line #")
        ):
            console.print(Text(line, style="bold"))
        else:
            console.print(Text(line))
    return True

"""``lineprof.cli.main(argv)`` called in process, as tools and tests call it: it returns with
the results written (and -v's report printed) and the process as it was before.

The command run as a program (``python -m lineprof``, the console script), whose results are
written when the process ends, is tests/test_cli.py's: in subprocesses.
"""

from __future__ import annotations

import builtins
import multiprocessing.util  # noqa: F401  # imported by workers.py; its atexit hook now
import os
import signal
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineprof import cli
from tests.scripts._run import IMPORT_ROOT, SCRIPTS, hits, load, run_python

PROGRAM = """\
import sys
from lineprof import profile


@profile
def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


print("work", work(4), work(2))
print("argv", sys.argv[1:])
action = sys.argv[1] if len(sys.argv) > 1 else ""
sys.path.insert(0, "added-by-the-program")
sys.argv.append("added-by-the-program")
sys.argv = ["replaced-by-the-program"]
if action == "exit":
    sys.exit(3)
if action == "exit-message":
    sys.exit("goodbye")
if action == "raise":
    raise ValueError("failing on purpose")
if action == "interrupt":
    raise KeyboardInterrupt
"""

WORK_HITS = {"total = 0": 2, "for i in range(n):": 8, "total += i": 6, "return total": 2}
WARNING = "lineprof: warning: -p no_such_module_anywhere: no such file, directory or module"


class ProcessState:
    """What an in-process main() must leave as it found it."""

    def __init__(self) -> None:
        self.argv, self.argv_items = sys.argv, list(sys.argv)
        self.path, self.path_items = sys.path, list(sys.path)
        self.main = sys.modules["__main__"]
        self.excepthook = sys.excepthook
        self.builtin_profile = builtins.__dict__.get("profile")
        self.environ = dict(os.environ)
        self.sigterm = signal.getsignal(signal.SIGTERM)
        self.meta_path = list(sys.meta_path)

    def assert_unchanged(self) -> None:
        assert sys.argv is self.argv and sys.argv == self.argv_items
        assert sys.path is self.path and sys.path == self.path_items
        assert sys.modules["__main__"] is self.main
        assert sys.excepthook is self.excepthook
        assert builtins.__dict__.get("profile") is self.builtin_profile
        assert dict(os.environ) == self.environ  # the children's PYTHONPATH is gone
        assert signal.getsignal(signal.SIGTERM) is self.sigterm
        assert sys.meta_path == self.meta_path  # -p's import hook


@pytest.fixture
def program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """prog.py in a fresh working directory, with the environment a test needs: children
    that import this lineprof, and a private directory for their results."""
    for name in ("LINE_PROFILE", "LINEPROF_OUTPUT", "LINEPROF_CHILDREN", "PYTHONSAFEPATH"):
        monkeypatch.delenv(name, raising=False)
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", IMPORT_ROOT + (os.pathsep + path if path else ""))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    script = work / "prog.py"
    script.write_text(PROGRAM)
    yield script
    assert list(scratch.iterdir()) == []  # the children's directory was removed


def run(*args: str) -> int:
    return cli.main(["--no-config", "-l", *args])


def test_returns_with_the_results_written_and_the_process_as_it_was(
    program: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = ProcessState()
    assert run("-b", "-o", "out.lprof", str(program), "a", "b") == 0
    state.assert_unchanged()
    assert hits(load(program.parent / "out.lprof"), "work") == WORK_HITS
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[:3] == ["work 6 1", "argv ['a', 'b']", "Wrote profile results to out.lprof"]
    assert lines[-1].endswith(" show out.lprof")
    assert err == ""
    # and again, in the same process: nothing of the first run is in the way
    assert run("-o", "again.lprof", str(program)) == 0
    state.assert_unchanged()
    assert hits(load(program.parent / "again.lprof"), "work") == WORK_HITS


def test_view_prints_the_report_before_returning(
    program: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("-v", str(program)) == 0
    out = capsys.readouterr().out
    assert "Wrote profile results to prog.py.lprof" in out
    report = out[out.index("Timer unit:") :]
    assert "Function: work at line 5" in report
    assert "total += i" in report
    assert hits(load(program.parent / "prog.py.lprof"), "work") == WORK_HITS


def test_very_verbose_says_what_runs_on_stderr(
    program: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("-vv", "-o", "out.json", str(program)) == 0
    out, err = capsys.readouterr()
    assert "Timer unit:" in out
    lines = err.splitlines()
    assert lines[0] == f"lineprof: running {program} as __main__ with sys.argv {[str(program)]}"
    assert lines[1].startswith("lineprof: backend: ")
    assert lines[-1] == f"lineprof: results: {program.parent / 'out.json'}"


def test_quiet_levels(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("-q", "-o", "q.lprof", str(program)) == 0
    out, err = capsys.readouterr()
    assert out == "work 6 1\nargv []\n"  # no "Wrote ...", no hint
    assert err == ""
    # -qq: nothing on stdout, the program's output included; warnings still on stderr
    assert run("-qq", "-v", "-p", "no_such_module_anywhere", "-o", "qq.lprof", str(program)) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [WARNING]
    assert hits(load(program.parent / "qq.lprof"), "work") == WORK_HITS
    # -qqq: stderr too
    assert run("-q", "-qq", "-p", "no_such_module_anywhere", "-o", "q3.lprof", str(program)) == 0
    assert capsys.readouterr() == ("", "")
    assert hits(load(program.parent / "q3.lprof"), "work") == WORK_HITS
    assert sys.stdout is sys.__stdout__ or not sys.stdout.closed  # put back, open


@pytest.mark.parametrize(
    ("action", "exception", "value"),
    [
        ("exit", SystemExit, 3),  # as kernprof 5.1's main: SystemExit(3), not a return
        ("exit-message", SystemExit, "goodbye"),
        ("raise", ValueError, "failing on purpose"),
        ("interrupt", KeyboardInterrupt, ""),
    ],
)
def test_an_exception_propagates_once_the_results_are_written(
    program: Path,
    capsys: pytest.CaptureFixture[str],
    action: str,
    exception: type[BaseException],
    value: object,
) -> None:
    state = ProcessState()
    with pytest.raises(exception) as info:
        run("-o", "out.lprof", str(program), action)
    if isinstance(info.value, SystemExit):
        assert info.value.code == value
    else:
        assert str(info.value) == value
    state.assert_unchanged()
    assert hits(load(program.parent / "out.lprof"), "work") == WORK_HITS
    assert "Wrote profile results to out.lprof" in capsys.readouterr().out


def test_a_target_that_names_nothing_is_a_warning(
    program: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["-p", "no_such_module_anywhere", "-p", "nodir/x.py", "-o", "out.lprof"]
    state = ProcessState()
    assert run(*args, str(program)) == 0
    state.assert_unchanged()
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        WARNING,
        "lineprof: warning: -p nodir/x.py: no such file, directory or module",
    ]
    assert "work 6 1" in out
    assert hits(load(program.parent / "out.lprof"), "work") == WORK_HITS


@pytest.mark.parametrize("preimports", ["--no-preimports", "--preimports=yes"])
def test_preimports_of_the_program_itself(
    program: Path, capsys: pytest.CaptureFixture[str], preimports: str
) -> None:
    """The program named with -p is not pre-imported (as kernprof): it runs once."""
    state = ProcessState()
    assert run(preimports, "-p", str(program), "-o", "out.lprof", str(program)) == 0
    state.assert_unchanged()
    stats = load(program.parent / "out.lprof")
    assert hits(stats, "work") == WORK_HITS
    assert hits(stats, "<module>")['print("work", work(4), work(2))'] == 1
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--preimports, --no-preimports import the -p targets (a package with" in help_text
    assert "-v, --view, --verbose, --no-view print the report after the run; -vv" in help_text
    assert "-q, --quiet, --no-quiet do not print where the results were written; -qq" in help_text


def test_child_processes_are_merged(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = ProcessState()
    workers = str(SCRIPTS / "workers.py")
    assert run("-q", "-o", "out.lprof", workers, "subprocess") == 0
    state.assert_unchanged()
    # the program's own call, and the subprocess's three
    assert hits(load(program.parent / "out.lprof"), "work") == {"return x * x": 4}
    assert capsys.readouterr() == ("done subprocess\n", "")


def test_nothing_is_left_for_the_exit(tmp_path: Path) -> None:
    """In a process of its own: the results are written once, before main() returns, and
    nothing more happens at exit (the caller's directory may be gone by then)."""
    (tmp_path / "prog.py").write_text(PROGRAM)
    caller = """\
        import os
        from lineprof import cli
        status = cli.main(["--no-config", "-lv", "-o", "out.lprof", "prog.py"])
        os.rename("out.lprof", "moved.lprof")
        print("main returned", status, flush=True)
    """
    result = run_python("-c", textwrap.dedent(caller), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.count("Wrote profile results to out.lprof") == 1
    assert result.stdout.count("Timer unit:") == 1
    assert result.stdout.splitlines()[-1] == "main returned 0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moved.lprof", "prog.py"]


def test_cprofile_mode_in_process(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without -l: the .prof file is written before main() returns, and profile, the
    builtins and SIGTERM are as they were."""
    import pstats

    from lineprof import profile

    state = ProcessState()
    assert cli.main(["--no-config", "-b", "-o", "out.prof", str(program)]) == 0
    state.assert_unchanged()
    assert profile._stand_in is None
    stats = pstats.Stats(str(program.parent / "out.prof")).stats  # type: ignore[attr-defined]
    assert {name: v[1] for (_, _, name), v in stats.items() if name == "work"} == {"work": 2}
    assert "Wrote profile results to out.prof" in capsys.readouterr().out


def test_line_profiler_is_put_back(program: Path) -> None:
    """The program's line_profiler import goes to lineprof during main() only."""
    from lineprof import profile

    program.write_text(
        "from line_profiler import profile\n\n\n@profile\ndef work(n):\n    return n\n\n\nwork(1)\n"
    )
    before = sys.modules.get("line_profiler")
    state = ProcessState()
    assert run("-q", "-o", "out.lprof", str(program)) == 0
    state.assert_unchanged()
    assert hits(load(program.parent / "out.lprof"), "work") == {"return n": 1}
    after = sys.modules.get("line_profiler")
    assert after is before or not getattr(after, "__lineprof_stand_in__", False)
    assert after is None or getattr(after, "profile", None) is not profile

"""The lineprof command, in subprocesses: ``python -m lineprof ...`` (and the ``lineprof``
console script when it is installed)."""

from __future__ import annotations

import html
import json
import os
import pickle
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import lineprof
from lineprof import LineStats, cli, config
from tests.scripts._run import (
    SCRIPTS,
    copy_script,
    default_sigint,
    environment,
    functions,
    hits,
    lineprof_script,
    load,
    read_only_directory,
    run_lineprof,
    run_python,
    stderr_lines,
)

PROBE = str(SCRIPTS / "mainprobe.py")


def source_line(path: str, text: str) -> int:
    """The number of the line of ``path`` whose stripped text is ``text``."""
    lines = [line.strip() for line in Path(path).read_text().splitlines()]
    return lines.index(text) + 1


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """Bad input: a non-zero status, one line on stderr, no traceback."""
    assert result.returncode != 0
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lineprof: error: ")
    return lines[0]


# ---- the seed workflow and running as __main__ ------------------------------------------


def test_seed_kernprof_workflow(tmp_path: Path) -> None:
    """lineprof -lv script.py in.txt out.txt, the script using a bare @profile."""
    copy_script("kern_script.py", tmp_path)
    (tmp_path / "in.txt").write_text("alpha\nbeta\ngamma\n")
    result = run_lineprof("-lv", "kern_script.py", "in.txt", "out.txt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.txt").read_text() == "ALPHA\nBETA\nGAMMA\n"
    assert "Wrote profile results to kern_script.py.lprof" in result.stdout
    assert "Function: transform at line 6" in result.stdout
    assert "result.append(line.upper())" in result.stdout
    stats = load(tmp_path / "kern_script.py.lprof")
    assert hits(stats, "transform") == {
        "result = []": 1,
        "for line in lines:": 4,
        "result.append(line.upper())": 3,
        "return result": 1,
    }


def test_console_script(tmp_path: Path) -> None:
    script = lineprof_script()
    if script is None:
        pytest.skip("the lineprof console script is not installed for this interpreter")
    copy_script("kern_script.py", tmp_path)
    (tmp_path / "in.txt").write_text("x\n")
    result = subprocess.run(
        [script, "-lv", "kern_script.py", "in.txt", "out.txt"],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.txt").read_text() == "X\n"
    assert "lineprof show kern_script.py.lprof" not in result.stdout  # -v: the report instead
    assert "Function: transform" in result.stdout


def test_runs_as_main(tmp_path: Path) -> None:
    result = run_lineprof("-l", PROBE, "a", "--b", "-c", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert f"argv {[PROBE, 'a', '--b', '-c']}" in out
    assert "path0 True" in out
    assert "file True mainprobe.py" in out
    assert "name __main__ None True" in out
    assert "pickle 5" in out
    assert "Wrote profile results to mainprobe.py.lprof" in out
    assert out[-1].endswith("-m lineprof show mainprobe.py.lprof")
    stats = load(tmp_path / "mainprobe.py.lprof")
    assert functions(stats) == {"work", "never_called"}
    assert hits(stats, "work") == {
        "total = 0": 2,
        "for i in range(n):": 8,
        "total += i": 6,
        "return total": 2,
    }
    assert hits(stats, "never_called") == {}


def test_script_on_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tool-script").write_text("import sys\nprint('tool', sys.argv[1:])\n")
    env = environment(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    result = run_lineprof("-l", "-q", "tool-script", "x", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "tool ['x']\n"


# ---- how the program ends -----------------------------------------------------------------


def test_exit_status_is_the_programs(tmp_path: Path) -> None:
    result = run_lineprof("-l", PROBE, "exit", "5", cwd=tmp_path)
    assert result.returncode == 5
    assert (tmp_path / "mainprobe.py.lprof").exists()
    result = run_lineprof("-l", PROBE, "exit-message", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("goodbye\n")


def test_failing_script_traceback_is_the_programs(tmp_path: Path) -> None:
    plain = subprocess.run(
        [sys.executable, PROBE, "raise"],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    result = run_lineprof("-l", PROBE, "raise", cwd=tmp_path)
    assert plain.returncode == result.returncode == 1
    assert result.stderr == plain.stderr  # no lineprof frames
    raise_line = source_line(PROBE, 'raise ValueError("failing on purpose")')
    assert result.stderr.splitlines()[1] == f'  File "{PROBE}", line {raise_line}, in <module>'
    assert "Wrote profile results to mainprobe.py.lprof" in result.stdout
    assert hits(load(tmp_path / "mainprobe.py.lprof"), "work")["total = 0"] == 2


def spin(tmp_path: Path, *options: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "lineprof", *options, str(SCRIPTS / "spin.py"), "builtin"],
        cwd=tmp_path,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("ready"), process.stderr
    return process


def test_ctrl_c(tmp_path: Path) -> None:
    process = spin(tmp_path, "-lb")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGINT
    lines = err.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1].startswith(f'  File "{SCRIPTS / "spin.py"}"')  # the program's frames only
    assert lines[-1] == "KeyboardInterrupt"
    assert "Wrote profile results to spin.py.lprof" in out
    assert hits(load(tmp_path / "spin.py.lprof"), "step")["return i * 2"] >= 10


def test_sigterm(tmp_path: Path) -> None:
    process = spin(tmp_path, "-lb", "-o", "term.lprof")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGTERM
    assert "not interrupted" not in out
    assert "Wrote profile results to term.lprof" in out
    assert hits(load(tmp_path / "term.lprof"), "step")["return i * 2"] >= 10


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing(tmp_path: Path, method: str) -> None:
    result = run_lineprof("-l", str(SCRIPTS / "mp_pool.py"), method, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "pool 55" in result.stdout and "child exit 0" in result.stdout
    assert result.stdout.count("Wrote profile results") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mp_pool.py.lprof"]
    # 6 calls in the pool's workers, 1 in a Process, 1 in the parent (tests/test_children.py
    # has the rest)
    assert hits(load(tmp_path / "mp_pool.py.lprof"), "square") == {"return x * x": 8}
    result = run_lineprof("-l", "--no-children", str(SCRIPTS / "mp_pool.py"), method, cwd=tmp_path)
    assert hits(load(tmp_path / "mp_pool.py.lprof"), "square") == {"return x * x": 1}


# ---- -m, -c, stdin ------------------------------------------------------------------------


def test_module(tmp_path: Path) -> None:
    copy_script("pkgdemo", tmp_path)
    result = run_lineprof("-l", "-m", "pkgdemo.sub.mod", "x", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pkgdemo.sub.mod.lprof").exists()
    result = run_lineprof("-l", "-p", "pkgdemo", "-mpkgdemo", "x", "-v", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    main_file = tmp_path / "pkgdemo" / "__main__.py"
    assert f"main {[str(main_file), 'x', '-v']} 2 6" in result.stdout
    stats = load(tmp_path / "pkgdemo.lprof")
    assert hits(stats, "Counter.add") == {
        "def double(i):": 1,
        "for i in range(n):": 4,
        "self.count += double(i)": 3,
        "return self.count": 1,
    }
    assert hits(stats, "<module>", "__main__.py")["from pkgdemo import top"] == 1


def test_module_errors(tmp_path: Path) -> None:
    copy_script("pkgdemo", tmp_path)
    assert "no module named nosuchmodule" in one_error_line(
        run_lineprof("-l", "-m", "nosuchmodule", cwd=tmp_path)
    )
    assert "cannot be directly executed" in one_error_line(
        run_lineprof("-l", "-m", "pkgdemo.sub", cwd=tmp_path)
    )
    assert "No module named 'nosuchpackage'" in one_error_line(
        run_lineprof("-l", "-m", "nosuchpackage.mod", cwd=tmp_path)
    )


def test_module_whose_package_raises(tmp_path: Path) -> None:
    # An exception raised by the package's own code (its __init__) is the program's, as with
    # python -m: its traceback and status 1, not lineprof's one-line error nor its frames.
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "__init__.py").write_text(
        "def helper():\n    raise KeyError('deep')\nhelper()\n"
    )
    (tmp_path / "broken" / "mod.py").write_text("print('never')\n")
    for error in ("KeyError: 'deep'", "ValueError: top"):
        if error.startswith("ValueError"):
            (tmp_path / "broken" / "__init__.py").write_text("raise ValueError('top')\n")
        result = run_lineprof("-l", "-m", "broken.mod", cwd=tmp_path)
        assert result.returncode == 1
        lines = result.stderr.splitlines()
        assert lines[0] == "Traceback (most recent call last):"
        assert lines[1].startswith(f'  File "{tmp_path / "broken" / "__init__.py"}"')
        assert lines[-1] == error
        assert "lineprof" not in result.stderr


def test_command(tmp_path: Path) -> None:
    code = "import sys\ndef f(n):\n    return n * 2\nprint(f(3), sys.argv)\n"
    result = run_lineprof("-l", "-c", code, "a", "-v", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "6 ['-c', 'a', '-v']" in result.stdout
    stats = load(tmp_path / "lineprof-command.lprof")
    assert functions(stats) == {"<module>", "f"}  # -c code is profiled whole
    rows = {line: count for line, count, _ in next(iter(stats.timings.values()))}
    assert rows[4] == 1


def test_stdin(tmp_path: Path) -> None:
    code = "import sys\ndef f(n):\n    return n * 2\nprint(f(4), sys.argv)\n"
    result = run_lineprof("-l", "-v", "-", "x", cwd=tmp_path, input=code)
    assert result.returncode == 0, result.stderr
    assert "8 ['-', 'x']" in result.stdout
    assert "File: <stdin>" in result.stdout
    assert "    return n * 2" in result.stdout  # the source is shown
    assert functions(load(tmp_path / "lineprof-stdin.lprof")) == {"<module>", "f"}


def test_stdin_source_is_read_in_its_declared_coding(tmp_path: Path) -> None:
    source = '# -*- coding: latin-1 -*-\ns = "caf\xe9"\nprint(s)\n'.encode("latin-1")
    done = subprocess.run(
        [sys.executable, "-m", "lineprof", "-lq", "-o", "r.json", "-"],
        input=source,
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8") == "caf\xe9\n"
    stats = load(tmp_path / "r.json")
    assert stats.sources[("<stdin>", 1, "<module>")][1] == 's = "caf\xe9"'  # kept for show


def test_a_command_the_locale_cannot_decode_is_one_error_line(tmp_path: Path) -> None:
    result = run_lineprof("-l", "-c", "print(1)\n# \udce9", cwd=tmp_path)  # byte 0xe9, as given
    assert "unable to decode the command from the command line" in one_error_line(result)


@pytest.mark.parametrize("mode", ["script", "-c", "-", "-m"])
def test_main_modules_names_are_pythons(tmp_path: Path, mode: str) -> None:
    # __annotations__ in every mode, __file__ for stdin as for a script, none for -c.
    code = "print(sorted(globals()), __annotations__, globals().get('__file__'))\n"
    (tmp_path / "names.py").write_text(code)
    args = {"script": ["names.py"], "-c": ["-c", code], "-": ["-"], "-m": ["-m", "names"]}[mode]
    plain = run_python(*args, cwd=tmp_path, input=code)
    profiled = run_lineprof("-lq", *args, cwd=tmp_path, input=code)
    assert plain.returncode == 0, plain.stderr
    assert (profiled.returncode, profiled.stdout) == (0, plain.stdout), profiled.stderr


# ---- options ------------------------------------------------------------------------------


def test_builtin(tmp_path: Path) -> None:
    copy_script("kern_script.py", tmp_path)
    (tmp_path / "in.txt").write_text("a\n")
    result = run_lineprof("-l", "-b", "kern_script.py", "in.txt", "out.txt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "transform" in functions(load(tmp_path / "kern_script.py.lprof"))


def test_without_builtin_a_bare_profile_fails_with_a_hint(tmp_path: Path) -> None:
    copy_script("kern_script.py", tmp_path)
    (tmp_path / "in.txt").write_text("a,b\n")
    result = run_lineprof("kern_script.py", "in.txt", "out.txt", cwd=tmp_path)  # cProfile mode
    assert result.returncode == 1
    assert "NameError: name 'profile' is not defined" in result.stderr
    assert "lineprof: warning: 'profile' is not defined" in result.stderr
    assert "-b" in result.stderr.splitlines()[-1]


def test_outfile(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    result = run_lineprof("-l", "-o", "results/run.json", "-q", PROBE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Wrote" not in result.stdout  # -q
    assert hits(load(tmp_path / "results" / "run.json"), "work")["return total"] == 2
    assert not (tmp_path / "mainprobe.py.lprof").exists()
    assert "no directory" in one_error_line(
        run_lineprof("-l", "-o", "nodir/x.lprof", PROBE, cwd=tmp_path)
    )


def test_results_kept_when_their_directory_goes(tmp_path: Path) -> None:
    # The program removes the directory named by -o while it runs: the results go to TMPDIR,
    # the error line says where, and -v still shows the report.
    (tmp_path / "out").mkdir()
    (tmp_path / "tmp").mkdir()
    (tmp_path / "prog.py").write_text(
        "import shutil\n@profile\ndef f():\n    return 1\nf(); f()\nshutil.rmtree('out')\n"
    )
    env = environment(TMPDIR=str(tmp_path / "tmp"))
    result = run_lineprof("-lv", "-o", "out/r.lprof", "prog.py", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    [kept] = (tmp_path / "tmp").iterdir()
    assert kept.name.startswith("lineprof-r-") and kept.suffix == ".lprof"
    assert hits(load(kept), "f") == {"return 1": 2}
    assert stderr_lines(result) == [
        "lineprof: error: cannot write results to out/r.lprof (No such file or directory): "
        f"written to {kept} instead"
    ]
    assert f"Wrote profile results to {kept}" in result.stdout
    assert "Function: f at line 2" in result.stdout


def test_warnings_the_program_makes_errors_are_printed_not_raised(tmp_path: Path) -> None:
    # Under -W error a warning of lineprof's at the start (another tool's trace function,
    # replaced) stopped the program with lineprof's traceback, and one at the end (the results
    # are incomplete) lost the results.  Both are printed, and the run goes on.
    (tmp_path / "setup_tracer.py").write_text("import sys\nsys.settrace(lambda *a: None)\n")
    (tmp_path / "prog.py").write_text(
        "import sys\n@profile\ndef f():\n    sys.settrace(None)\n    return 1\nprint(f())\n"
    )
    env = environment(LINEPROF_BACKEND="settrace")
    argv = ["-W", "error", "-m", "lineprof", "-lq", "-s", "setup_tracer.py", "-o", "r.json"]
    result = run_python(*argv, "prog.py", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1\n"
    assert hits(load(tmp_path / "r.json"), "f") == {"sys.settrace(None)": 1}
    [start, end] = stderr_lines(result)
    assert start.startswith("lineprof: replacing this thread's trace function")
    assert end.startswith("lineprof: another tool's") and "results are incomplete" in end


def test_setup(tmp_path: Path) -> None:
    (tmp_path / "setup_file.py").write_text(
        "import builtins, sys\nbuiltins.FROM_SETUP = sys.argv[1:]\nprint('setup ran')\n"
    )
    (tmp_path / "main.py").write_text("print('main sees', FROM_SETUP)\n")
    result = run_lineprof("-l", "-s", "setup_file.py", "-q", "main.py", "x", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "setup ran\nmain sees ['x']\n"
    assert "no such file" in one_error_line(
        run_lineprof("-l", "-s", "nope.py", PROBE, cwd=tmp_path)
    )


def test_unit_skip_zero_summarize(tmp_path: Path) -> None:
    plain = run_lineprof("-l", "-v", PROBE, cwd=tmp_path).stdout
    assert "Timer unit: 1e-09 s" in plain
    assert "Function: never_called" in plain
    assert " seconds - " not in plain
    result = run_lineprof("-l", "-v", "-u", "1e-3", "-z", "--summarize", PROBE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Timer unit: 0.001 s" in result.stdout
    assert "Function: never_called" not in result.stdout  # -z
    summary = [line for line in result.stdout.splitlines() if " seconds - " in line]
    assert len(summary) == 1 and summary[0].endswith(" - work")


INTERVAL_SCRIPT = """\
import os, sys, time
from lineprof import load_stats
from lineprof.decorator import profile

@profile
def step(i):
    return i + 1

def hits_written():
    # the first write may come before step(0) when the start is slow (sanitizers)
    if not os.path.exists(sys.argv[1]):
        return 0
    rows = [r for rows in load_stats(sys.argv[1]).timings.values() for r in rows]
    return sum(hits for _, hits, _ in rows)

step(0)
deadline = time.monotonic() + 120
while hits_written() == 0 and time.monotonic() < deadline:
    step(1)
    time.sleep(0.01)
print("intermediate hits", hits_written() > 0)
"""


def test_output_interval(tmp_path: Path) -> None:
    (tmp_path / "interval.py").write_text(INTERVAL_SCRIPT)
    result = run_lineprof(
        "-l", "-i", "0.05", "-o", "out.lprof", "interval.py", "out.lprof", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "intermediate hits True" in result.stdout
    assert hits(load(tmp_path / "out.lprof"), "step")["return i + 1"] >= 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".lineprof-")] == []


def test_rich_without_a_terminal_is_plain(tmp_path: Path) -> None:
    plain = run_lineprof("-l", "-v", "-u", "1", PROBE, cwd=tmp_path)
    coloured = run_lineprof("-l", "-v", "-r", "-u", "1", PROBE, cwd=tmp_path)
    assert coloured.returncode == 0, coloured.stderr
    assert "\x1b[" not in coloured.stdout

    def table(text: str) -> list[str]:  # times differ between runs; the layout must not
        lines = [line for line in text.splitlines() if not line.startswith("Total time")]
        return [line[:20] + line[49:] for line in lines]

    assert table(coloured.stdout) == table(plain.stdout)


def test_rich_in_a_terminal(tmp_path: Path) -> None:
    pytest.importorskip("rich")
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "lineprof", "-lv", "-r", PROBE],
        cwd=tmp_path,
        env=environment(TERM="xterm-256color", NO_COLOR=None),
        stdout=follower,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=180)
    os.close(leader)
    output = b"".join(chunks).decode()
    assert process.returncode == 0
    assert "\x1b[" in output
    assert "total += i" in output


# ---- pyproject.toml -----------------------------------------------------------------------

PYPROJECT = """\
[project]
name = "demo"

[tool.lineprof]  # defaults for the lineprof command
view = true
unit = 1e-3
outfile = "results/custom.lprof"
skip-zero = true
prof-mod = [
    "helpers.py",  # a path, relative to this file
]

[tool.other]
view = false
"""


def test_pyproject_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "results").mkdir()
    (tmp_path / "helpers.py").write_text("def helper(x):\n    return x + 1\n")
    work = tmp_path / "src" / "deep"
    work.mkdir(parents=True)
    (work / "app.py").write_text(
        "import sys\nsys.path.insert(0, sys.argv[1])\nimport helpers\nprint(helpers.helper(1))\n"
    )
    result = run_lineprof("-l", "app.py", str(tmp_path), cwd=work)
    assert result.returncode == 0, result.stderr
    assert "Timer unit: 0.001 s" in result.stdout  # view and unit
    assert "Function: helper at line 1" in result.stdout  # prof-mod
    stats = load(tmp_path / "results" / "custom.lprof")  # outfile, relative to pyproject.toml
    assert hits(stats, "helper") == {"return x + 1": 1}
    # the command line wins; --no-config forgets the file
    result = run_lineprof("-l", "-u", "1", "-q", "-o", "x.lprof", "app.py", str(tmp_path), cwd=work)
    assert "Timer unit: 1 s" in result.stdout
    assert "Wrote" not in result.stdout
    result = run_lineprof("-l", "--no-view", "app.py", str(tmp_path), cwd=work)
    assert "Timer unit" not in result.stdout
    assert "Wrote profile results to" in result.stdout
    result = run_lineprof("-l", "--no-config", "app.py", str(tmp_path), cwd=work)
    assert "Timer unit" not in result.stdout
    assert functions(load(work / "app.py.lprof")) == set()


def test_pyproject_errors(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.lineprof]\nvieww = true\n")
    assert "no option 'vieww'" in one_error_line(run_lineprof("-l", PROBE, cwd=tmp_path))
    (tmp_path / "pyproject.toml").write_text("[tool.lineprof]\nunit = 'fast'\n")
    assert "unit must be a positive number" in one_error_line(
        run_lineprof("-l", PROBE, cwd=tmp_path)
    )
    (tmp_path / "pyproject.toml").write_text("[tool.lineprof]\nview = true\n")
    (tmp_path / "other.toml").write_text("[tool.lineprof]\nview = false\n")
    result = run_lineprof("-l", "--config", "other.toml", PROBE, cwd=tmp_path)
    assert "Timer unit" not in result.stdout
    assert "Timer unit" in run_lineprof("-l", PROBE, cwd=tmp_path).stdout


def test_nearest_pyproject_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.lineprof]\nview = true\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert config.find_pyproject(str(inner / "a" / "b")) is None or True
    assert config.find_pyproject(str(inner)) == str(inner / "pyproject.toml")
    assert "Timer unit" not in run_lineprof("-l", PROBE, cwd=inner).stdout


TOML_SAMPLES = [
    PYPROJECT,
    "[tool.lineprof]\nbuiltin = false\noutput-interval = 2\nsetup = 'a#b.py'\n",
    '[tool.lineprof]\n"prof-mod" = ["a", "b,c"]  # two\nunit = 1_000e-9\n[tool.lineprof.x]\n',
    "[tool]\nx = 1\n",
    "",
]


@pytest.mark.parametrize("text", TOML_SAMPLES)
def test_fallback_toml_reader(text: str) -> None:
    """The 3.10 reader agrees with tomllib on [tool.lineprof] tables."""
    table = config._read_lineprof_table(text, "pyproject.toml")
    if sys.version_info >= (3, 11):
        import tomllib

        expected = tomllib.loads(text).get("tool", {}).get("lineprof", {})
        expected = {k: v for k, v in expected.items() if not isinstance(v, dict)}
        assert table == expected
    assert all(not isinstance(v, dict) for v in table.values())


def test_fallback_toml_reader_known_values() -> None:
    table = config._read_lineprof_table(PYPROJECT, "p")
    assert table == {
        "view": True,
        "unit": 1e-3,
        "outfile": "results/custom.lprof",
        "skip-zero": True,
        "prof-mod": ["helpers.py"],
    }


# ---- lineprof show ------------------------------------------------------------------------


def test_show_and_merge(tmp_path: Path) -> None:
    run_lineprof("-l", "-o", "one.lprof", PROBE, cwd=tmp_path)
    run_lineprof("-l", "-o", "two.lprof", PROBE, cwd=tmp_path)
    result = run_lineprof("show", "one.lprof", "two.lprof", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Timer unit: 1e-09 s")
    assert f"Function: work at line {source_line(PROBE, 'def work(n):') - 1}" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.endswith("total += i"))
    assert row.split()[:2] == [str(source_line(PROBE, "total += i")), "12"]  # 6 in each
    merged = load(tmp_path / "one.lprof") + load(tmp_path / "two.lprof")
    assert hits(merged, "work")["total += i"] == 12


def test_show_options(tmp_path: Path) -> None:
    run_lineprof("-l", "-o", "one.lprof", PROBE, cwd=tmp_path)
    plain = run_lineprof("show", "one.lprof", cwd=tmp_path).stdout
    assert "Function: never_called" in plain
    result = run_lineprof("show", "-z", "-u", "1e-6", "--summarize", "one.lprof", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Timer unit: 1e-06 s" in result.stdout
    assert "never_called" not in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].endswith(" - work")
    letters = run_lineprof("show", "-rmtz", "one.lprof", cwd=tmp_path)  # line_profiler's
    assert letters.returncode == 0, letters.stderr
    assert letters.stdout.rstrip().splitlines()[-1].endswith(" - work")
    ordered = run_lineprof("show", "--sort", "one.lprof", cwd=tmp_path).stdout
    assert ordered.index("never_called") < ordered.index("Function: work")


def test_show_errors(tmp_path: Path) -> None:
    assert "cannot read missing.lprof" in one_error_line(
        run_lineprof("show", "missing.lprof", cwd=tmp_path)
    )
    (tmp_path / "junk.lprof").write_text("not results")
    assert "not a lineprof results file" in one_error_line(
        run_lineprof("show", "junk.lprof", cwd=tmp_path)
    )
    assert "required" in one_error_line(run_lineprof("show", cwd=tmp_path))
    (tmp_path / "nothing.py").write_text("pass\n")
    cprofile = run_python("-m", "cProfile", "-o", "run.prof", "nothing.py", cwd=tmp_path)
    assert cprofile.returncode == 0, cprofile.stderr
    assert one_error_line(run_lineprof("show", "run.prof", cwd=tmp_path)).endswith(
        "; a .prof file is cProfile's: python -m pstats reads it"
    )


# ---- the HTML report ----------------------------------------------------------------------


def html_rows(path: Path) -> dict[str, int]:
    """{line contents: hits} of the rows of an HTML report that ran."""
    rows = re.findall(
        r'<tr class="run"[^>]*><td class="ln">\d+</td><td class="num">(\d+)</td>'
        r".*?<code>(.*?)</code></td></tr>",
        path.read_text(encoding="utf-8"),
    )
    found: dict[str, int] = {}
    for count, code in rows:
        text = html.unescape(code).strip()
        found[text] = found.get(text, 0) + int(count)
    return found


WORK_ROWS = {"total = 0": 2, "for i in range(n):": 8, "total += i": 6, "return total": 2}


def test_html_report(tmp_path: Path) -> None:
    result = run_lineprof("-l", "--html", "report.html", "-o", "one.json", PROBE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Wrote the HTML report to report.html" in result.stdout.splitlines()
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert '<span class="name">work</span>' in page
    assert '<span class="name">never_called</span>' in page
    assert html_rows(tmp_path / "report.html") == WORK_ROWS
    assert hits(load(tmp_path / "one.json"), "work") == WORK_ROWS  # the results as usual
    quiet = run_lineprof("-l", "-q", "--html", "quiet.html", "-o", "two.json", PROBE, cwd=tmp_path)
    assert "Wrote" not in quiet.stdout
    assert html_rows(tmp_path / "quiet.html") == WORK_ROWS
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_show_html_report(tmp_path: Path) -> None:
    run_lineprof("-l", "-q", "-o", "one.lprof", PROBE, cwd=tmp_path)
    run_lineprof("-l", "-q", "-o", "two.json", PROBE, cwd=tmp_path)
    result = run_lineprof("show", "--html", "both.html", "one.lprof", "two.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Function: work at line" in result.stdout  # the report as usual
    assert html_rows(tmp_path / "both.html") == {k: 2 * v for k, v in WORK_ROWS.items()}


def test_dash_dash_show_runs_a_script_called_show(tmp_path: Path) -> None:
    (tmp_path / "show").write_text("print('I am show')\n")
    result = run_lineprof("-l", "-q", "--", "show", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "I am show\n"
    assert (tmp_path / "show.lprof").exists()


# ---- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py"], "cannot find script 'missing.py'"),
        (["bad_syntax.py"], "SyntaxError in bad_syntax.py, line 2"),
        (["--frobnicate", "x.py"], "unrecognized arguments: --frobnicate"),
        (["-x", "x.py"], "unrecognized arguments: -x"),
        (["-u", "fast", "x.py"], "-u/--unit: expected a positive number of seconds"),
        (["-u", "0", "x.py"], "-u/--unit: expected a positive number of seconds"),
        (["-i", "-1", "x.py"], "-i/--output-interval: expected a positive number"),
        ([], "no script given"),
        (["-m"], "-m needs an argument"),
        (["--"], "no script after '--'"),
        (["results.lprof"], "looks like a results file"),
        (["show", "missing.lprof"], "cannot read missing.lprof"),
        (["show", "x.py"], "x.py: not a lineprof results file"),
        (["a_directory"], "a_directory is a directory"),
        (["image.png"], "image.png: not Python source (it contains null bytes)"),
        (["latin1.py"], "SyntaxError in latin1.py, line 1: (unicode error)"),
        (["-l", "--html", "nodir/x.html", "x.py"], "cannot write the HTML report to nodir/x.html"),
        (["--no-children=maybe", "x.py"], "--no-children: expected yes/no, true/false, on/off"),
        (["show", "a_directory"], "cannot read a_directory"),
        (["show", "truncated.json"], "truncated.json: not a lineprof results file, or truncated"),
        (["show", "truncated.lprof"], "truncated.lprof: not a lineprof results file, or trunc"),
        (["show", "corrupt.json"], "corrupt.json: not a lineprof results file (function #0 is"),
        (["show", "foreign.json"], "foreign.json: not a lineprof results file (no 'format'"),
        (["show", "foreign.lprof"], "foreign.lprof: not a lineprof results file: a pickle of"),
        (["show", "image.png"], "image.png: not a lineprof results file (neither"),
        (["show", "future.json"], "future.json: written by a newer lineprof (schema version 3"),
        (["show", "--html", "nodir/x.html", "good.json"], "cannot write the HTML report"),
    ],
)
def test_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "x.py").write_text("print('never runs')\n")
    (tmp_path / "bad_syntax.py").write_text("x = 1\ndef f(:\n")
    (tmp_path / "results.lprof").write_text("{}")
    write_bad_inputs(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_lineprof(*args, cwd=tmp_path)
    assert message in one_error_line(result)
    assert "never runs" not in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_a_target_that_names_nothing_is_a_warning(tmp_path: Path) -> None:
    """As with kernprof, a -p target that names nothing is one line on stderr before the
    program runs, and the program runs (lineprof used to stop with an error)."""
    args = ["-lq", "-p", "no_such_module_anywhere", "-p", "nodir/x.py", PROBE]
    result = run_lineprof(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert stderr_lines(result) == [
        "lineprof: warning: -p no_such_module_anywhere: no such file, directory or module",
        "lineprof: warning: -p nodir/x.py: no such file, directory or module",
    ]
    assert hits(load(tmp_path / "mainprobe.py.lprof"), "work")["total = 0"] == 2


def write_bad_inputs(directory: Path) -> None:
    """A directory, binary and mis-encoded files, and broken, foreign and future results."""
    (directory / "a_directory").mkdir()
    (directory / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    (directory / "latin1.py").write_bytes(b"print('caf\xe9')\n")
    good = LineStats({(str(directory / "f.py"), 1, "f"): [(2, 3, 400)]}, 1e-9)
    good.dump(directory / "good.json")
    good.dump(directory / "good.lprof")
    for suffix in ("json", "lprof"):
        data = (directory / f"good.{suffix}").read_bytes()
        (directory / f"truncated.{suffix}").write_bytes(data[: len(data) // 2])
    document = json.loads((directory / "good.json").read_text())
    document["functions"][0]["lines"] = [[2, -3, 400]]
    (directory / "corrupt.json").write_text(json.dumps(document))
    document = json.loads((directory / "good.json").read_text())
    document["schema_version"] = 3
    (directory / "future.json").write_text(json.dumps(document))
    (directory / "foreign.json").write_text('{"name": "not results", "version": 1}')
    (directory / "foreign.lprof").write_bytes(pickle.dumps({"timings": {}}, protocol=4))


def test_bad_output_directory(tmp_path: Path) -> None:
    """-o and --html in a directory that cannot be written: nothing runs, nothing is left."""
    (tmp_path / "x.py").write_text("print('never runs')\n")
    read_only = tmp_path / "ro"
    read_only.mkdir()
    LineStats({("f.py", 1, "f"): [(2, 3, 400)]}, 1e-9).dump(tmp_path / "good.json")
    cases = [
        (["-o", "ro/out.lprof", "x.py"], "cannot write results to ro/out.lprof"),
        (["-l", "--html", "ro/x.html", "x.py"], "cannot write the HTML report to ro/x.html"),
        (["show", "--html", "ro/x.html", "good.json"], "cannot write the HTML report to ro/x"),
    ]
    with read_only_directory(read_only):
        for args, message in cases:
            result = run_lineprof(*args, cwd=tmp_path)
            line = one_error_line(result)
            assert message in line and "is not writable" in line
            assert "never runs" not in result.stdout
            assert list(read_only.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.json", "ro", "x.py"]


def help_has(text: str, *names: str) -> bool:
    """An option line of ``text`` starting with the first name and listing all of them
    (argparse writes '-o FILE, --outfile FILE' before 3.13 and '-o, --outfile FILE' since)."""
    for line in text.splitlines():
        words = line.strip().replace(",", " ").split()
        if words[:1] == [names[0]] and all(name in words for name in names):
            return True
    return False


def test_help_and_version(tmp_path: Path) -> None:
    result = run_lineprof("-l", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for names in [
        ("-l", "--line-by-line"),
        ("-b", "--builtin", "--no-builtin"),
        ("-v", "--view", "--no-view"),
        ("-q", "--quiet"),
        ("-o", "--outfile"),
        ("-s", "--setup"),
        ("-u", "--unit"),
        ("-z", "--skip-zero", "--no-skip-zero"),
        ("-r", "--rich", "--no-rich"),
        ("--summarize", "--no-summarize"),
        ("-i", "--output-interval"),
        ("-p", "--prof-mod"),
        ("--prof-imports", "--no-prof-imports"),
        ("--children", "--no-children"),
        ("--html", "FILE"),
        ("-m", "MODULE"),
        ("-c", "CODE"),
        ("--config", "FILE"),
        ("--no-config",),
        ("-V", "--version"),
    ]:
        assert help_has(result.stdout, *names), names
    for text in ["lineprof show", "[tool.lineprof]", "script.py [args ...]", "stdin"]:
        assert text in result.stdout
    show_help = run_lineprof("show", "--help", cwd=tmp_path).stdout
    for names in [
        ("-u", "--unit"),
        ("-z", "--skip-zero"),
        ("-t", "--sort"),
        ("-m", "--summarize"),
        ("-r", "--rich"),
        ("--html", "FILE"),
    ]:
        assert help_has(show_help, *names), names
    version = run_lineprof("-l", "--version", cwd=tmp_path)
    assert version.stdout == f"lineprof {lineprof.__version__}\n"


# ---- the command line, split (in process: no global state) --------------------------------


@pytest.mark.parametrize(
    ("argv", "options", "kind", "target", "args"),
    [
        (["-lv", "s.py", "-v", "x"], ["-lv"], "script", "s.py", ["-v", "x"]),
        (["-o", "out", "s.py"], ["-o", "out"], "script", "s.py", []),
        (["-oout", "s.py"], ["-oout"], "script", "s.py", []),
        (
            ["--outfile", "o", "-p", "a,b", "s.py"],
            ["--outfile", "o", "-p", "a,b"],
            "script",
            "s.py",
            [],
        ),
        (["--unit=1e-3", "s.py"], ["--unit=1e-3"], "script", "s.py", []),
        (["-i", "s.py"], ["-i"], "script", "s.py", []),
        (["-i", "2", "s.py"], ["-i", "2"], "script", "s.py", []),
        (["-l", "-m", "pkg.mod", "-v"], ["-l"], "module", "pkg.mod", ["-v"]),
        (["-lvmpkg", "a"], ["-lv"], "module", "pkg", ["a"]),
        (["-c", "print(1)", "a"], [], "command", "print(1)", ["a"]),
        (["-v", "-", "a"], ["-v"], "stdin", "-", ["a"]),
        (["-v", "--", "-m", "a"], ["-v"], "script", "-m", ["a"]),
        (["-v"], ["-v"], None, "", []),
    ],
)
def test_split_command_line(
    argv: list[str], options: list[str], kind: str | None, target: str, args: list[str]
) -> None:
    command = cli.split_command_line(argv)
    assert (command.options, command.kind, command.target, command.args) == (
        options,
        kind,
        target,
        args,
    )


def test_results_land_where_asked_when_the_program_changes_directory(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "wander.py").write_text("import os\nos.chdir('elsewhere')\n")
    result = run_lineprof("-l", "-q", "-o", "out.lprof", "wander.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.lprof").exists()
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_unavailable_backend_is_one_line(tmp_path: Path) -> None:
    env = environment(LINEPROF_BACKEND="no-such-backend")
    result = run_lineprof("-l", PROBE, cwd=tmp_path, env=env)
    assert "backend 'no-such-backend' is not available" in one_error_line(result)

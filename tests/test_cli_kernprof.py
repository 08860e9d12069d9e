"""What kernprof 5.1 does, the lineprof command does (issue 15): its cProfile mode (no -l), its
switches' values, eager pre-imports, and ``from line_profiler import profile`` recording into
lineprof.  In subprocesses; exact call and hit counts."""

from __future__ import annotations

import importlib.util
import pstats
from pathlib import Path

import pytest

from lineprof.line_profiler_alias import wanted_for_itself
from tests.scripts._run import (
    IMPORT_ROOT,
    environment,
    functions,
    hits,
    load,
    run_lineprof,
    run_python,
    stderr_lines,
)

CALLS = """\
def g():
    return 1


def f(n):
    return sum(range(n)) + g()


def main():
    for _ in range(3):
        f(10)
    g()


main()
print("done")
"""

MARKED = """\
def g():
    return 1


@profile
def f(n):
    return sum(range(n)) + g()


def h():
    return 2


def main():
    for _ in range(3):
        f(10)
    g()
    with profile:
        h()
    h()


main()
"""

HAS_LINE_PROFILER = importlib.util.find_spec("line_profiler") is not None


def calls(path: Path) -> dict[str, int]:
    """{function name: number of calls} of the functions defined in the program's files, as
    pstats reads the file cProfile wrote."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    found: dict[str, int] = {}
    for (filename, _, name), (_, ncalls, _, _, _) in stats.items():
        if filename.startswith(str(path.parent)):
            found[name] = found.get(name, 0) + ncalls
    return found


# ---- cProfile mode: no -l --------------------------------------------------------------------


def test_without_l_the_whole_program_runs_under_cprofile(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(CALLS)
    result = run_lineprof("prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["done", "Wrote profile results to prog.py.prof", "Inspect results with:"]
    assert lines[3].endswith("python -m pstats prog.py.prof") and len(lines) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prog.py", "prog.py.prof"]
    assert calls(tmp_path / "prog.py.prof") == {"<module>": 1, "main": 1, "f": 3, "g": 4}
    assert stderr_lines(result) == []


def test_view_prints_cprofiles_report(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(CALLS)
    result = run_lineprof("-v", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["done", "Wrote profile results to prog.py.prof"]
    assert "   Ordered by: standard name" in lines  # cProfile's print_stats(), as kernprof's
    rows = {line.split()[-1]: line.split()[0] for line in lines if "prog.py:" in line}
    assert rows == {"prog.py:1(g)": "4", "prog.py:5(f)": "3", "prog.py:9(main)": "1"} | {
        "prog.py:1(<module>)": "1"
    }
    assert "Inspect results with:" not in result.stdout


def test_builtin_profiles_only_what_profile_marks(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(MARKED)
    result = run_lineprof("-b", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # f's three calls and the g they make; h inside `with profile:` once; not main's own
    assert calls(tmp_path / "prog.py.prof") == {"f": 3, "g": 3, "h": 1}


@pytest.mark.parametrize("value", ["--builtin=yes", "--builtin=on", "--builtin", "-b"])
def test_builtin_values(tmp_path: Path, value: str) -> None:
    (tmp_path / "prog.py").write_text(MARKED)
    result = run_lineprof(value, "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path / "prog.py.prof")["f"] == 3


def test_builtin_no_leaves_profile_undefined(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(MARKED)
    result = run_lineprof("--builtin=no", "prog.py", cwd=tmp_path)
    assert result.returncode == 1
    assert "NameError: name 'profile' is not defined" in result.stderr
    assert stderr_lines(result)[-1].startswith("lineprof: warning: 'profile' is not defined")


def test_line_by_line_values(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(MARKED.replace("    with profile:\n        h()\n", ""))
    (tmp_path / "pyproject.toml").write_text("[tool.lineprof]\nline-by-line = true\n")
    result = run_lineprof("-q", "prog.py", cwd=tmp_path)  # line by line, from the config
    assert result.returncode == 0, result.stderr
    assert hits(load(tmp_path / "prog.py.lprof"), "f") == {"return sum(range(n)) + g()": 3}
    result = run_lineprof("-bq", "--no-line-by-line", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path / "prog.py.prof")["f"] == 3
    (tmp_path / "prog.py.lprof").unlink()
    result = run_lineprof("-q", "--line-by-line", "yes", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert hits(load(tmp_path / "prog.py.lprof"), "f") == {"return sum(range(n)) + g()": 3}


def test_view_takes_no_value(tmp_path: Path) -> None:
    """kernprof 5.1 refuses --view=no too: -v and -q count."""
    (tmp_path / "prog.py").write_text(CALLS)
    result = run_lineprof("--view=no", "prog.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "--view" in result.stderr and "done" not in result.stdout


def test_module_and_code_targets(tmp_path: Path) -> None:
    (tmp_path / "calls_mod.py").write_text(CALLS)
    result = run_lineprof("-q", "-m", "calls_mod", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path / "calls_mod.prof") == {"<module>": 1, "main": 1, "f": 3, "g": 4}
    code = "import calls_mod"
    result = run_lineprof("-q", "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path / "lineprof-command.prof") == {"<module>": 1, "main": 1, "f": 3, "g": 4}
    result = run_lineprof("-q", "-o", "named.prof", "calls_mod.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert calls(tmp_path / "named.prof")["f"] == 3


def test_setup_file_runs_first_unprofiled(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(CALLS)
    (tmp_path / "setup_code.py").write_text(
        "def warm():\n    return 1\n\n\nwarm()\nprint('setup ran')\n"
    )
    result = run_lineprof("-s", "setup_code.py", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["setup ran", "done"]
    assert calls(tmp_path / "prog.py.prof") == {"<module>": 1, "main": 1, "f": 3, "g": 4}


def test_line_by_line_options_warn_without_l(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(CALLS)
    result = run_lineprof("-q", "-p", "prog.py", "--prof-imports", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert stderr_lines(result) == [
        "lineprof: warning: -p, --prof-imports work with -l (line by line) only; without it "
        "the program runs under cProfile, as with kernprof"
    ]
    assert calls(tmp_path / "prog.py.prof")["f"] == 3


def test_a_line_profiler_name_for_cprofile_results_is_warned_about(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(CALLS)
    result = run_lineprof("-q", "-o", "out.lprof", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert stderr_lines(result) == [
        "lineprof: warning: out.lprof will hold cProfile's results (pstats' format, read with "
        "python -m pstats); -l for line-by-line results"
    ]
    assert calls(tmp_path / "out.lprof")["f"] == 3


def test_cprofile_results_written_when_the_program_fails(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(CALLS.replace('print("done")', "raise SystemExit(3)"))
    result = run_lineprof("-q", "prog.py", cwd=tmp_path)
    assert result.returncode == 3
    assert calls(tmp_path / "prog.py.prof") == {"<module>": 1, "main": 1, "f": 3, "g": 4}


# ---- --prof-imports ----------------------------------------------------------------------------

IMPORTS = """\
import json
from textwrap import dedent

import helper
from helper import twice


def main():
    json.dumps([1])
    dedent("  x")
    return twice(helper.once(2))


main()
"""

HELPER = """\
def once(x):
    return x


def twice(x):
    return 2 * once(x)
"""


def test_prof_imports_leaves_the_standard_library_out(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(IMPORTS)
    (tmp_path / "helper.py").write_text(HELPER)
    result = run_lineprof("-lq", "--prof-imports", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    stats = load(tmp_path / "prog.py.lprof")
    assert functions(stats) == {"once", "twice"}  # nothing of json's or textwrap's
    assert hits(stats, "once") == {"return x": 2}
    assert hits(stats, "twice") == {"return 2 * once(x)": 1}


# ---- from line_profiler import profile ------------------------------------------------------

FROM_LINE_PROFILER = """\
import line_profiler
from line_profiler import profile


@profile
def f(n):
    total = 0
    for i in range(n):
        total += i
    return total


@line_profiler.profile
def g():
    return f(2)


f(3)
g()
"""


def run_without_line_profiler(*args: str, cwd: Path) -> object:
    """python -S: no site-packages, so no line_profiler; lineprof from the checkout."""
    env = environment(PYTHONPATH=IMPORT_ROOT)
    return run_python("-S", "-m", "lineprof", *args, cwd=cwd, env=env)


@pytest.mark.parametrize("installed", [True, False])
def test_from_line_profiler_import_profile_records_into_lineprof(
    tmp_path: Path, installed: bool
) -> None:
    if installed and not HAS_LINE_PROFILER:
        pytest.skip("line_profiler is not installed here")
    (tmp_path / "prog.py").write_text(FROM_LINE_PROFILER)
    if installed:
        result = run_lineprof("-lq", "prog.py", cwd=tmp_path)
    else:
        result = run_without_line_profiler("-lq", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    assert stderr_lines(result) == []  # type: ignore[arg-type]
    stats = load(tmp_path / "prog.py.lprof")
    assert hits(stats, "f") == {"total = 0": 2, "for i in range(n):": 7, "total += i": 5} | {
        "return total": 2
    }
    assert hits(stats, "g") == {"return f(2)": 1}
    assert not (tmp_path / "profile_output.lprof").exists()


def test_line_profilers_profile_in_cprofile_mode(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(FROM_LINE_PROFILER)
    result = run_without_line_profiler("-bq", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    assert calls(tmp_path / "prog.py.prof") == {"f": 2, "g": 1}  # f: one call, one from g


def test_the_stand_in_is_only_there_while_the_command_runs(tmp_path: Path) -> None:
    probe = (
        "import sys, line_profiler\n"
        "print(line_profiler.__lineprof_stand_in__, hasattr(line_profiler, '__version__'))\n"
        "try:\n    import line_profiler.line_profiler\n"
        "except ImportError:\n    print('no submodules')\n"
    )
    (tmp_path / "prog.py").write_text(probe)
    result = run_without_line_profiler("-lq", "prog.py", cwd=tmp_path)
    assert result.stdout.splitlines() == ["True False", "no submodules"]  # type: ignore[attr-defined]
    plain = run_python("-S", "prog.py", cwd=tmp_path, env=environment(PYTHONPATH=IMPORT_ROOT))
    assert "ModuleNotFoundError: No module named 'line_profiler'" in plain.stderr


def test_kernprof_and_line_profiler_keep_their_own() -> None:
    assert wanted_for_itself("kernprof", "/x/site-packages/kernprof.py")
    assert wanted_for_itself("line_profiler", "/x/line_profiler/__main__.py")
    assert wanted_for_itself("__main__", "/usr/bin/kernprof")
    assert not wanted_for_itself("__main__", "/home/me/script.py")
    assert not wanted_for_itself("mypkg.__main__", "/home/me/mypkg/__main__.py")


@pytest.mark.skipif(not HAS_LINE_PROFILER, reason="line_profiler is not installed here")
def test_kernprof_runs_under_lineprof(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(FROM_LINE_PROFILER)
    args = ("-lq", "-o", "outer.lprof", "-m", "kernprof", "-lq", "-o", "inner.lprof", "prog.py")
    result = run_lineprof(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    pickled = (tmp_path / "inner.lprof").read_bytes()
    assert b"line_profiler" in pickled  # kernprof's own results, through its own profile
    inner = load(tmp_path / "inner.lprof").timings
    rows = {name: [count for _, count, _ in lines] for (_, _, name), lines in inner.items()}
    assert rows == {"f": [2, 7, 5, 2], "g": [1]}


@pytest.mark.parametrize("mode", ["pool", "terminate"])
def test_cprofile_mode_with_forked_workers(tmp_path: Path, mode: str) -> None:
    """A forked worker does not inherit the SIGTERM handler that writes the results: Pool's
    SIGTERM kills it at once (it used to wait, now and then, for ever)."""
    workers = str(Path(__file__).parent / "scripts" / "workers.py")
    for _ in range(3):
        result = run_lineprof("-q", "-o", "out.prof", workers, mode, "fork", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"done {mode}" in result.stdout
        assert (tmp_path / "out.prof").exists()

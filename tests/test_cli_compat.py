"""The lineprof command where kernprof 5.1 users meet it: a failing script's traceback, a
terminal that cannot encode the source, kernprof's cProfile mode; in subprocesses, through
the ``lineprof`` console script when it is installed and ``python -m lineprof``."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from lineprof import LineProfiler, show_func
from tests.scripts._run import environment, lineprof_script, run_lineprof

FAILING = """\
def helper(x):
    return 1 / x


@profile
def main():
    helper(0)


main()
"""

SETUP_FAILING = "raise ValueError('from the setup file')\n"


def launchers() -> list[str]:
    found = ["-m"]
    if lineprof_script() is not None:
        found.append("script")
    return found


def run_command(
    launcher: str, *args: str, cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    if launcher == "-m":
        return run_lineprof(*args, cwd=cwd, env=environment(**env))
    script = lineprof_script()
    assert script is not None
    return subprocess.run(
        [script, *args],
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize("launcher", launchers())
def test_failing_script_traceback_is_the_scripts_own(tmp_path: Path, launcher: str) -> None:
    (tmp_path / "fail.py").write_text(FAILING)
    done = run_command(launcher, "-lv", "fail.py", cwd=tmp_path)
    assert done.returncode == 1
    trace = done.stderr[done.stderr.index("Traceback (most recent call last):") :].splitlines()
    files = [line.split('"')[1] for line in trace if line.startswith('  File "')]
    assert files == [str(tmp_path / "fail.py")] * 3  # <module>, main, helper: nothing else
    assert "    return 1 / x" in trace  # the failing source line
    assert trace[-1] == "ZeroDivisionError: division by zero"
    assert "lineprof" not in "\n".join(trace)
    assert "Function: main at line 5" in done.stdout  # -v's report all the same


@pytest.mark.parametrize("launcher", launchers())
def test_failing_setup_file_traceback_is_its_own(tmp_path: Path, launcher: str) -> None:
    (tmp_path / "setup_code.py").write_text(SETUP_FAILING)
    (tmp_path / "prog.py").write_text("print('ran')\n")
    done = run_command(launcher, "-l", "-s", "setup_code.py", "prog.py", cwd=tmp_path)
    assert done.returncode == 1
    trace = done.stderr[done.stderr.index("Traceback (most recent call last):") :].splitlines()
    assert trace[1] == f'  File "{tmp_path / "setup_code.py"}", line 1, in <module>'
    assert trace[-1] == "ValueError: from the setup file"
    assert "ran" not in done.stdout


SOURCE = """\
def greet():
    word = "héllo ✓"
    return word
"""


def test_report_to_an_ascii_stream_escapes_what_it_cannot_encode(tmp_path: Path) -> None:
    path = tmp_path / "greet.py"
    path.write_text(SOURCE, encoding="utf-8")
    namespace: dict[str, object] = {}
    exec(compile(SOURCE, str(path), "exec"), namespace)
    greet = namespace["greet"]
    lp = LineProfiler(greet)
    lp.runcall(greet)  # type: ignore[arg-type]
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    lp.print_stats(stream=stream)
    stream.flush()
    text = raw.getvalue().decode("ascii")
    # as line_profiler: the characters as backslash escapes, the rest of the line kept
    assert '      word = "h\\xe9llo \\u2713"\n' in text
    assert text.rstrip().endswith("return word")
    ((key, timings),) = lp.get_stats().timings.items()
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    show_func(*key, timings, 1e-9, stream=stream)
    stream.flush()
    assert '"h\\xe9llo \\u2713"' in raw.getvalue().decode("ascii")


def test_report_on_an_ascii_terminal(tmp_path: Path) -> None:
    (tmp_path / "greet.py").write_text(SOURCE + "\n\nprofile(greet)()\n", encoding="utf-8")
    done = run_lineprof("-lv", "greet.py", cwd=tmp_path, env=environment(PYTHONIOENCODING="ascii"))
    assert done.returncode == 0, done.stderr
    assert 'word = "h\\xe9llo \\u2713"' in done.stdout
    assert "UnicodeEncodeError" not in done.stderr

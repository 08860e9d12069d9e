"""``@profile`` and LINE_PROFILE=1: always in a subprocess (the session lasts until the
process ends), except the off state, which touches no global state."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import lineprof
from lineprof import environment as lineprof_environment
from lineprof.decorator import GlobalProfiler
from tests.scripts._run import (
    SCRIPTS,
    copy_script,
    default_sigint,
    environment,
    functions,
    hits,
    load,
    run_python,
    stderr_lines,
)

ON = environment(LINE_PROFILE="1")
OUTPUTS = {"profile_output.txt", "profile_output.lprof"}


def written(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir() if p.name.startswith("profile_output")}


# ---- off ----------------------------------------------------------------------------------


def test_off_returns_every_kind_of_object_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINE_PROFILE", raising=False)
    monkeypatch.setattr(sys, "argv", ["prog"])
    profile = GlobalProfiler()

    def f() -> int:
        return 1

    class C:
        pass

    things = [f, C, staticmethod(f), classmethod(f), property(f), functools.partial(f), len]
    for thing in things:
        assert profile(thing) is thing
    assert profile.profiler is None
    profile.show()  # prints nothing, raises nothing


@pytest.mark.parametrize(
    ("value", "argv", "expected"),
    [
        ("1", [], True),
        ("yes", [], True),
        ("0", [], False),
        ("off", [], False),
        ("", [], False),
        (None, ["--line-profile"], True),
        (None, ["--line_profile"], True),
        (None, [], False),
    ],
)
def test_line_profile_switch(
    monkeypatch: pytest.MonkeyPatch, value: str | None, argv: list[str], expected: bool
) -> None:
    if value is None:
        monkeypatch.delenv("LINE_PROFILE", raising=False)
    else:
        monkeypatch.setenv("LINE_PROFILE", value)
    monkeypatch.setattr(sys, "argv", ["prog", *argv])
    assert lineprof_environment.line_profile_requested() is expected


def test_off_in_a_subprocess_writes_nothing(tmp_path: Path) -> None:
    result = run_python(str(SCRIPTS / "decorated.py"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "identity True" in result.stdout
    assert "Wrote profile results" not in result.stdout
    assert result.stderr == ""
    assert written(tmp_path) == set()


def test_line_profile_zero_is_off(tmp_path: Path) -> None:
    result = run_python(
        str(SCRIPTS / "decorated.py"), cwd=tmp_path, env=environment(LINE_PROFILE="0")
    )
    assert result.returncode == 0
    assert written(tmp_path) == set()


# ---- on -----------------------------------------------------------------------------------


def test_every_kind_is_profiled(tmp_path: Path) -> None:
    result = run_python(str(SCRIPTS / "decorated.py"), cwd=tmp_path, env=ON)
    assert result.returncode == 0, result.stderr
    assert "identity True" in result.stdout  # profile(f) is f even when on: no wrapper
    assert written(tmp_path) == OUTPUTS
    stats = load(tmp_path / "profile_output.lprof")
    assert functions(stats) == {
        "plain",
        "gen",
        "coro",
        "agen",
        "Shapes.method",
        "Shapes.static",
        "Shapes.klass",
        "Shapes.area",
        "Whole.first",
        "Whole.second",
    }
    # plain(5) in the main thread and plain(2) in another thread
    assert hits(stats, "plain") == {
        "total = 0": 2,
        "for i in range(n):": 9,
        "total += i": 7,
        "return total": 2,
    }
    assert hits(stats, "gen") == {"for i in range(n):": 4, "yield i * 10": 3}
    assert hits(stats, "coro") == {"await asyncio.sleep(0)": 1, "return x + 1": 1}
    assert hits(stats, "agen") == {"for i in range(n):": 4, "yield i": 3}
    assert hits(stats, "Shapes.method") == {"return self._side * 4": 1}
    assert hits(stats, "Shapes.static") == {"return a * 3": 1}
    assert hits(stats, "Shapes.klass") == {"return cls.__name__": 1}
    assert hits(stats, "Shapes.area") == {"return self._side**2": 1}
    assert hits(stats, "Whole.second") == {"return self.first() + 1": 1}
    assert hits(stats, "Whole.first") == {"return 1": 1}
    # profile(len): a warning, and the program runs on
    assert stderr_lines(result) == [
        line for line in stderr_lines(result) if line.startswith("lineprof: @profile:")
    ]
    assert len(stderr_lines(result)) == 1


def test_exit_output(tmp_path: Path) -> None:
    result = run_python(str(SCRIPTS / "decorated.py"), cwd=tmp_path, env=ON)
    lines = result.stdout.splitlines()
    summary = [line for line in lines if " seconds - " in line]
    assert len(summary) == 10  # one line per function
    assert all(line.split(" - ")[1].startswith(str(SCRIPTS / "decorated.py")) for line in summary)
    assert "Wrote profile results to profile_output.txt" in lines
    assert "Wrote profile results to profile_output.lprof" in lines
    assert lines[-1].endswith("-m lineprof show profile_output.lprof")
    report = (tmp_path / "profile_output.txt").read_text()
    assert report.startswith("Timer unit: 1e-09 s")
    assert "Function: plain at line" in report
    assert "total += i" in report


def test_seed_workflow_pipeline(tmp_path: Path) -> None:
    """LINE_PROFILE=1 python pipeline.py, the script doing `from lineprof import profile`."""
    if not hasattr(lineprof, "profile"):
        pytest.skip("lineprof/__init__.py does not export profile yet")
    script = copy_script("pipeline.py", tmp_path)
    result = run_python("pipeline.py", cwd=tmp_path, env=ON)
    assert result.returncode == 0, result.stderr
    assert "the: 100" in result.stdout
    stats = load(tmp_path / "profile_output.lprof")
    assert hits(stats, "count", str(script))["counts[word] = counts.get(word, 0) + 1"] == 300
    assert hits(stats, "tokenize")["words.extend(line.split())"] == 100
    # off: the same script, no files
    (tmp_path / "profile_output.lprof").unlink()
    (tmp_path / "profile_output.txt").unlink()
    result = run_python("pipeline.py", cwd=tmp_path)
    assert result.returncode == 0 and "Wrote" not in result.stdout
    assert written(tmp_path) == set()


def test_line_profile_argument(tmp_path: Path) -> None:
    result = run_python(str(SCRIPTS / "decorated.py"), "--line-profile", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert written(tmp_path) == OUTPUTS


def test_output_prefix_knob(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    env = environment(LINE_PROFILE="1", LINEPROF_OUTPUT="out/run1")
    result = run_python(str(SCRIPTS / "decorated.py"), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"run1.txt", "run1.lprof"}
    assert "Wrote profile results to out/run1.lprof" in result.stdout


def test_results_kept_when_their_directory_goes(tmp_path: Path) -> None:
    # The program removes the directory the results were meant for: they go to TMPDIR, and the
    # summary says where, not only that the write failed.
    (tmp_path / "out").mkdir()
    (tmp_path / "tmp").mkdir()
    (tmp_path / "prog.py").write_text(
        "import shutil\n"
        "from lineprof import profile\n"
        "@profile\n"
        "def f():\n"
        "    return 1\n"
        "f(); f()\n"
        "shutil.rmtree('out')\n"
    )
    env = environment(LINE_PROFILE="1", LINEPROF_OUTPUT="out/run1", TMPDIR=str(tmp_path / "tmp"))
    result = run_python("prog.py", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    [kept] = (tmp_path / "tmp").iterdir()
    assert kept.name.startswith("lineprof-run1-") and kept.suffix == ".lprof"
    assert hits(load(kept), "f") == {"return 1": 2}
    assert "cannot write out/run1.lprof: No such file or directory" in result.stdout
    assert f"Wrote profile results to tmp/{kept.name}" in result.stdout  # below the cwd


# ---- how the program ends -----------------------------------------------------------------


def traceback_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    lines = result.stderr.splitlines()
    start = lines.index("Traceback (most recent call last):")
    return [line for line in lines[start:] if not line.startswith("lineprof: @profile")]


def test_uncaught_exception_keeps_traceback_and_status(tmp_path: Path) -> None:
    off = run_python(str(SCRIPTS / "decorated.py"), "raise", cwd=tmp_path)
    on = run_python(str(SCRIPTS / "decorated.py"), "raise", cwd=tmp_path, env=ON)
    assert off.returncode == on.returncode == 1
    assert traceback_of(on) == traceback_of(off)
    assert traceback_of(on)[-1] == "RuntimeError: failing on purpose"
    assert written(tmp_path) == OUTPUTS
    assert hits(load(tmp_path / "profile_output.lprof"), "plain")["total = 0"] == 2


def test_sys_exit_keeps_status(tmp_path: Path) -> None:
    result = run_python(str(SCRIPTS / "decorated.py"), "exit", cwd=tmp_path, env=ON)
    assert result.returncode == 3
    assert written(tmp_path) == OUTPUTS


def start_spin(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(SCRIPTS / "spin.py"), "decorator", *args],
        cwd=tmp_path,
        env=ON,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("ready")
    return process


def test_ctrl_c(tmp_path: Path) -> None:
    process = start_spin(tmp_path)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGINT  # Python dies of SIGINT, as without lineprof
    assert err.rstrip().endswith("KeyboardInterrupt")
    assert "Wrote profile results to profile_output.lprof" in out
    assert hits(load(tmp_path / "profile_output.lprof"), "step")["return i * 2"] >= 10


def test_sigterm(tmp_path: Path) -> None:
    process = start_spin(tmp_path)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == -signal.SIGTERM  # still dies of SIGTERM
    assert "not interrupted" not in out
    assert "Wrote profile results to profile_output.lprof" in out
    assert hits(load(tmp_path / "profile_output.lprof"), "step")["return i * 2"] >= 10


@pytest.mark.parametrize("when", ["own-handler", "late-handler"])
def test_sigterm_handled_by_the_program(tmp_path: Path, when: str) -> None:
    """The program's own SIGTERM handler runs; it exits with sys.exit(7), and the results are
    written on that exit."""
    process = start_spin(tmp_path, when)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 7, err
    assert out.count("own handler") == 1
    assert out.count("Wrote profile results to profile_output.lprof") == 1
    assert hits(load(tmp_path / "profile_output.lprof"), "step")["return i * 2"] >= 10


@pytest.mark.parametrize(
    ("method", "children"),
    [("fork", True), ("spawn", True), ("forkserver", True), ("spawn", False)],
)
def test_multiprocessing_children(tmp_path: Path, method: str, children: bool) -> None:
    env = ON if children else environment(LINE_PROFILE="1", LINEPROF_CHILDREN="0")
    result = run_python(str(SCRIPTS / "mp_pool.py"), method, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "pool 55" in result.stdout and "child exit 0" in result.stdout
    assert result.stdout.count("Wrote profile results to profile_output.lprof") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(OUTPUTS)
    # merged: 6 calls in the pool's workers, 1 in a Process, 1 in the parent; switched off:
    # the parent's own call (the children write nothing)
    expected = 8 if children else 1
    assert hits(load(tmp_path / "profile_output.lprof"), "square") == {"return x * x": expected}


# ---- explicit control ---------------------------------------------------------------------

CONTROL = """\
from lineprof.decorator import profile

@profile
def early(x):
    return x + 1

profile.enable()

@profile
def f(x):
    return x * 2

f(1)
profile.disable()
f(2)  # not recorded
profile.enable()
f(3)
early(1)
profile.show()
print("profiler", type(profile.profiler).__name__)
"""


def test_enable_disable_show(tmp_path: Path) -> None:
    (tmp_path / "control.py").write_text(CONTROL)
    result = run_python("control.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    stats = load(tmp_path / "profile_output.lprof")
    assert functions(stats) == {"f"}  # early was decorated while profiling was off
    assert hits(stats, "f") == {"return x * 2": 2}
    shown = result.stdout.split("profiler LineProfiler")[0]
    assert "Function: f at line 9" in shown and "return x * 2" in shown
    assert written(tmp_path) == OUTPUTS


def test_disable_first_keeps_it_off(tmp_path: Path) -> None:
    (tmp_path / "off.py").write_text(
        "from lineprof.decorator import profile\n"
        "profile.disable()\n"
        "@profile\n"
        "def f():\n"
        "    return 1\n"
        "print(f(), profile.profiler)\n"
    )
    result = run_python("off.py", cwd=tmp_path, env=ON)
    assert result.stdout == "1 None\n"
    assert written(tmp_path) == set()


def test_unavailable_backend_leaves_the_program_alone(tmp_path: Path) -> None:
    env = environment(LINE_PROFILE="1", LINEPROF_BACKEND="no-such-backend")
    result = run_python(str(SCRIPTS / "decorated.py"), cwd=tmp_path, env=env)
    assert result.returncode == 0
    assert "identity True" in result.stdout
    assert stderr_lines(result)[0].startswith("lineprof: @profile: profiling is off: backend")
    assert written(tmp_path) == set()


@pytest.mark.parametrize("how", ["LINE_PROFILE=1", "lineprof"])
def test_forked_children_die_of_sigterm_sent_at_once(tmp_path: Path, how: str) -> None:
    script = str(SCRIPTS / "forkkill.py")
    if how == "lineprof":
        result = run_python("-m", "lineprof", "-lq", script, "40", cwd=tmp_path)
    else:
        result = run_python(script, "40", cwd=tmp_path, env=ON)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "survivors 0"


@pytest.mark.parametrize(
    "text", ["", "plain/path-1.lprof", "with space", "it's", "ü", "a$b", "x;rm", "~user", "-n"]
)
def test_shell_quote_is_shlex_quote(text: str) -> None:
    import shlex

    from lineprof.decorator import shell_quote

    assert shell_quote(text) == shlex.quote(text)


def test_the_command_shown_at_exit_names_this_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'To view details run: python -m lineprof show ...' must run this Python: a virtual
    environment's python is a link to its base Python's, and the base one found first on PATH
    has none of the environment's packages."""
    from lineprof import decorator

    base, venv = tmp_path / "base" / "bin", tmp_path / "venv" / "bin"
    base.mkdir(parents=True)
    venv.mkdir(parents=True)
    real = base / "python3"
    real.write_text("#!/bin/sh\n")
    real.chmod(0o755)
    (venv / "python3").symlink_to(real)
    (tmp_path / "linked").symlink_to(tmp_path / "venv", target_is_directory=True)

    monkeypatch.setattr(sys, "executable", str(venv / "python3"))
    monkeypatch.setenv("PATH", str(base))
    assert decorator._python_command() == str(venv / "python3")  # the base one is not it
    monkeypatch.setenv("PATH", str(tmp_path / "linked" / "bin"))
    assert decorator._python_command() == "python3"  # the environment, through a link
    monkeypatch.setenv("PATH", f"{venv}{os.pathsep}{base}")
    assert decorator._python_command() == "python3"

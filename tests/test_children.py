"""Child processes: what multiprocessing workers, concurrent.futures workers, forked children
and Python subprocesses record is merged into the program's results, from the ``lineprof``
command and under LINE_PROFILE=1.  Everything runs in subprocesses (tests/scripts/workers.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lineprof import LineStats, children
from tests.scripts._run import (
    SCRIPTS,
    environment,
    functions,
    hits,
    load,
    read_only_directory,
    run_lineprof,
    run_python,
    stderr_lines,
)

WORKERS = str(SCRIPTS / "workers.py")
TASKS = 6  # workers.TASKS
WORK = "return x * x"  # the body of workers.work


def run_workers(
    tmp_path: Path, *args: str, how: str = "lineprof", options: tuple[str, ...] = (), **env: str
) -> tuple[subprocess.CompletedProcess[str], LineStats]:
    """Run workers.py ARGS under ``how``; check that it ran, that nothing was said on stderr
    and that nothing is left behind (the children's directory, temporary files); return the
    merged results."""
    scratch = tmp_path / "tmp"  # the session's private directory is made here
    scratch.mkdir()
    environ = environment(TMPDIR=str(scratch), **env)
    if how == "lineprof":
        result = run_lineprof(
            "-l", "-q", "-o", "out.lprof", *options, WORKERS, *args, cwd=tmp_path, env=environ
        )
        outputs = ["out.lprof"]
    else:
        environ["LINE_PROFILE"] = "1"
        result = run_python(WORKERS, *args, cwd=tmp_path, env=environ)
        outputs = ["profile_output.lprof", "profile_output.txt"]
    assert result.returncode == 0, result.stderr
    assert f"done {args[0]}" in result.stdout
    assert stderr_lines(result) == []
    assert list(scratch.iterdir()) == []
    scratch.rmdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == outputs
    return result, load(tmp_path / outputs[0])


# ---- issue 5's test: a Pool whose profiled function runs only in the workers --------------


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_workers(tmp_path: Path, method: str) -> None:
    # `with Pool() as pool:` ends with pool.terminate(): the workers die of SIGTERM
    _, stats = run_workers(tmp_path, "pool", method)
    assert hits(stats, "work") == {WORK: TASKS}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_workers_under_line_profile(tmp_path: Path, method: str) -> None:
    result, stats = run_workers(tmp_path, "pool", method, how="LINE_PROFILE=1")
    assert hits(stats, "work") == {WORK: TASKS}
    assert result.stdout.count("Wrote profile results to profile_output.lprof") == 1


def test_pool_workers_leaving_through_os_exit(tmp_path: Path) -> None:
    # close() and join(): each fork worker returns from its loop and multiprocessing ends it
    # with os._exit(), past atexit
    _, stats = run_workers(tmp_path, "pool-close", "fork")
    assert hits(stats, "work") == {WORK: TASKS}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_the_line_that_starts_the_pool_is_the_parents(tmp_path: Path, method: str) -> None:
    # A forked worker goes on inside the frames the parent was running, never returns to
    # them, and leaves through os._exit: the line in progress at the fork is not its own
    _, stats = run_workers(tmp_path, "pool-in", method)
    assert hits(stats, "work") == {WORK: TASKS}
    assert hits(stats, "starts_pool") == {
        "pool = context.Pool(2)": 1,
        "assert pool.map(work, range(TASKS)) == [x * x for x in range(TASKS)]": 1,
        "pool.close()": 1,
        "pool.join()": 1,
    }


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_workers_killed_by_pool_terminate(tmp_path: Path, method: str) -> None:
    """Both workers are inside ``busy``, spinning, when Pool.terminate() kills them."""
    _, stats = run_workers(tmp_path, "terminate", method)
    assert hits(stats, "busy")["STARTED.put(x)"] == 2


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_worker_blocked_when_sigterm_arrives(tmp_path: Path, method: str) -> None:
    """A SIGTERM whose Python handler is due just as the main thread blocks in C would wait
    for that call to return, maybe for ever (an idle Pool worker, terminated): lineprof's
    thread interrupts the call, so the handler runs, saves the results and dies of it."""
    result, stats = run_workers(tmp_path, "blocked", method)
    assert f"exit code {-signal.SIGTERM}" in result.stdout
    line = "threading.Timer(0.2, _thread.interrupt_main, args=(signal.SIGTERM,)).start()"
    assert hits(stats, "blocked")[line] == 1


# ---- other kinds of children --------------------------------------------------------------


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_process(tmp_path: Path, method: str) -> None:
    # the parent's call, and one in each of two Process children: a forked child does not
    # count the parent's call again
    _, stats = run_workers(tmp_path, "process", method)
    assert hits(stats, "work") == {WORK: 3}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_process_pool_executor(tmp_path: Path, method: str) -> None:
    _, stats = run_workers(tmp_path, "executor", method)
    assert hits(stats, "work") == {WORK: TASKS}


@pytest.mark.parametrize("how", ["lineprof", "LINE_PROFILE=1"])
def test_python_subprocess(tmp_path: Path, how: str) -> None:
    # subprocess.run([sys.executable, ...]): 1 call in the parent, 3 in the subprocess, which
    # writes no profile_output.* of its own under LINE_PROFILE=1 (run_workers checks)
    result, stats = run_workers(tmp_path, "subprocess", how=how)
    assert hits(stats, "work") == {WORK: 4}
    written = 0 if how == "lineprof" else 2  # -q; one .txt and one .lprof
    assert result.stdout.count("Wrote profile results") == written


def test_forked_child(tmp_path: Path) -> None:
    # os.fork(): the child returns from the program (atexit runs) after 2 calls of its own
    _, stats = run_workers(tmp_path, "fork")
    assert hits(stats, "work") == {WORK: 3}


FORK_FREES = """\
import os

@profile
def work():
    big = bytearray(8_000_000)
    pid = os.fork()
    if pid == 0:
        del big  # the child's
        return
    os.waitpid(pid, 0)
    del big  # the parent's

work()
"""


def test_a_forked_child_freeing_what_the_parent_allocated(tmp_path: Path) -> None:
    """Memory mode: the child's release of a block the parent allocated (and was charged
    with) is not charged again: the child inherited the parent's table of blocks, and the
    merged results read Net -8 MB for the child's ``del``."""
    (tmp_path / "prog.py").write_text(FORK_FREES)
    result = run_lineprof("-l", "--memory", "-o", "r.json", "prog.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    stats = load(tmp_path / "r.json")
    assert stats.memory is not None
    [rows] = stats.memory.values()
    lines = FORK_FREES.splitlines()
    net = {lines[line - 1].strip(): figures[1] for line, figures in rows.items()}
    assert net["big = bytearray(8_000_000)"] >= 8_000_000
    assert abs(net["del big  # the child's"]) < 64 * 1024
    assert net["del big  # the parent's"] <= -8_000_000


LEFT_OPEN = """\
import multiprocessing.pool  # multiprocessing's atexit handler is older than the session's

from lineprof import profile


@profile
def work(x):
    return x * x


if __name__ == "__main__":
    pool = multiprocessing.get_context("fork").Pool(2)
    print(sum(pool.map(work, range(6))))  # left open: terminated at exit
"""


def test_pool_left_open_at_exit(tmp_path: Path) -> None:
    """multiprocessing terminates a pool left open at exit; when it was imported before
    profiling started, its exit handler would run after the results were merged."""
    (tmp_path / "left_open.py").write_text(LEFT_OPEN)
    result = run_python("left_open.py", cwd=tmp_path, env=environment(LINE_PROFILE="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("55\n")
    assert hits(load(tmp_path / "profile_output.lprof"), "work") == {WORK: 6}


# ---- switching it off ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["--no-children", "LINEPROF_CHILDREN=0"])
def test_switched_off(tmp_path: Path, how: str) -> None:
    if how == "--no-children":
        _, stats = run_workers(tmp_path, "process", "fork", options=("--no-children",))
    else:
        _, stats = run_workers(
            tmp_path, "process", "fork", how="LINE_PROFILE=1", LINEPROF_CHILDREN="0"
        )
    assert hits(stats, "work") == {WORK: 1}  # the parent's call only


def test_pyproject_children_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.lineprof]\nchildren = false\n")
    result = run_lineprof("-l", "-q", "-o", "out.lprof", WORKERS, "process", "fork", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert hits(load(tmp_path / "out.lprof"), "work") == {WORK: 1}
    result = run_lineprof(
        "-l", "-q", "--children", "-o", "out.lprof", WORKERS, "process", "fork", cwd=tmp_path
    )
    assert hits(load(tmp_path / "out.lprof"), "work") == {WORK: 3}


# ---- what children profile ----------------------------------------------------------------

SPAWNING = """\
import multiprocessing
import helpers

def square(x):
    return helpers.double(x) * x

@profile
def decorated(x):
    return x + 1

if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        print(sum(pool.map(square, range(4))), sum(pool.map(decorated, range(3))))
"""


def test_spawned_children_profile_what_the_command_profiles(tmp_path: Path) -> None:
    """-b: a bare @profile works in spawned children too; -p: the main script's functions
    (imported there as __mp_main__) and a target module imported there."""
    (tmp_path / "spawning.py").write_text(SPAWNING)
    (tmp_path / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    result = run_lineprof(
        "-l", "-b", "-q", "-p", "spawning.py", "-p", "helpers", "spawning.py", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "28 6\n"
    stats = load(tmp_path / "spawning.py.lprof")
    assert hits(stats, "square") == {"return helpers.double(x) * x": 4}
    assert hits(stats, "double") == {"return 2 * x": 4}
    assert hits(stats, "decorated") == {"return x + 1": 3}


def test_a_sitecustomize_of_the_program_still_runs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import os, sys\nsys.stderr.write('own sitecustomize %d\\n' % os.getpid())\n"
    )
    env = environment()
    env["PYTHONPATH"] = f"{site}{os.pathsep}{env['PYTHONPATH']}"
    result = run_lineprof("-l", "-q", WORKERS, "subprocess", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    # the program's own process and its subprocess
    assert [line.split()[:2] for line in stderr_lines(result)] == [["own", "sitecustomize"]] * 2
    assert hits(load(tmp_path / "workers.py.lprof"), "work") == {WORK: 4}


def test_a_lineprof_command_run_by_the_program_is_its_own(tmp_path: Path) -> None:
    inner = [sys.executable, "-m", "lineprof", "-lq", "-o", "inner.lprof", WORKERS, "direct", "2"]
    code = f"import subprocess\nsubprocess.run({inner!r}, check=True)\n"
    result = run_lineprof("-l", "-q", "-o", "outer.lprof", "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert hits(load(tmp_path / "inner.lprof"), "work") == {WORK: 2}
    assert "work" not in functions(load(tmp_path / "outer.lprof"))


# ---- a child must never break the program -------------------------------------------------


NO_TARGETS: dict[str, Any] = {"builtin": False, "auto": None}


def child_environment(
    tmp_path: Path,
    finished: bool = False,
    spec: dict[str, Any] = NO_TARGETS,
    tag: str = sys.implementation.cache_tag,
    boot: Path | None = None,
) -> dict[str, str]:
    """What the children of a profiled program see: its directory (gone once it has
    ``finished``), lineprof's sitecustomize first on PYTHONPATH (``boot``: a copy of it
    elsewhere) and ``spec`` in LINEPROF_CHILD_SPEC, for the Python of cache tag ``tag``."""
    import marshal

    directory = tmp_path / "children"
    if not finished:
        directory.mkdir()
    env = environment(LINEPROF_CHILD_DIR=str(directory))
    env["LINEPROF_CHILD_SPEC"] = f"{tag}:{marshal.dumps(spec).hex()}"
    env["PYTHONPATH"] = f"{boot or children._BOOT}{os.pathsep}{env['PYTHONPATH']}"
    return env


CHILD_CODE = """\
import sys
from lineprof import profile

def f():
    return 1

print(profile(f) is f, profile.profiler is not None, "|".join(sys.path))
"""


@pytest.mark.parametrize(
    ("case", "profiled", "error"),
    [
        ("profiled", True, ""),
        ("finished", False, ""),  # the program has removed its directory: silently not
        ("another Python", False, ""),  # lineprof is not built for it: silently not
        ("broken lineprof", False, "No such file or directory"),
        ("bad spec", False, "'int' object is not iterable"),
        ("spec not marshal", False, "non-hexadecimal"),
    ],
)
def test_child_setup(tmp_path: Path, case: str, profiled: bool, error: str) -> None:
    boot = None
    if case == "broken lineprof":  # its sitecustomize in a directory of no lineprof package
        boot = tmp_path / "elsewhere" / "_boot"
        boot.mkdir(parents=True)
        (boot / "sitecustomize.py").write_bytes(
            (Path(children._BOOT) / "sitecustomize.py").read_bytes()
        )
    env = child_environment(
        tmp_path,
        finished=case == "finished",
        spec={"builtin": False, "auto": {"files": 3}} if case == "bad spec" else NO_TARGETS,
        tag="cpython-299" if case == "another Python" else sys.implementation.cache_tag,
        boot=boot,
    )
    if case == "spec not marshal":
        env["LINEPROF_CHILD_SPEC"] = f"{sys.implementation.cache_tag}:{{'builtin': False}}"
    result = run_python("-c", CHILD_CODE, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["True", str(profiled)]
    shown_path = result.stdout.split()[2].split("|")
    assert str(boot or children._BOOT) not in shown_path  # off sys.path once it has run
    lines = stderr_lines(result)
    if error:
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("lineprof: child process ") and error in lines[0]
    else:
        assert lines == []


def test_a_program_s_children_are_told_where_and_what(tmp_path: Path) -> None:
    """The program's process exports the directory, the spec and the sitecustomize's
    directory to the processes it starts, writes no file for them, and puts the environment
    back when it closes the collection."""
    import marshal

    names = ("PYTHONPATH", "LINEPROF_CHILD_DIR", "LINEPROF_CHILD_SPEC")
    before = {name: os.environ.get(name) for name in names}
    collector = children.Collector.start(builtin=True, memory=False)
    assert collector is not None
    try:
        assert os.environ["PYTHONPATH"].split(os.pathsep)[0] == children._BOOT
        assert os.environ["LINEPROF_CHILD_DIR"] == collector.directory
        tag, _, text = os.environ["LINEPROF_CHILD_SPEC"].partition(":")
        assert tag == sys.implementation.cache_tag
        assert marshal.loads(bytes.fromhex(text)) == {
            "builtin": True, "auto": None, "memory": False, "line_profiler_alias": False
        }  # fmt: skip
        assert os.listdir(collector.directory) == []
    finally:
        collector.close()
    assert {name: os.environ.get(name) for name in names} == before
    assert not os.path.exists(collector.directory)


def test_child_that_cannot_write_says_so_in_one_line(tmp_path: Path) -> None:
    env = child_environment(tmp_path)
    code = "from lineprof import profile\n@profile\ndef f():\n    return 1\nf()\n"
    with read_only_directory(tmp_path / "children"):
        result = run_python("-c", code, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1 and "could not save its results" in lines[0], result.stderr
    assert list((tmp_path / "children").iterdir()) == []


# ---- a child's results file -----------------------------------------------------------------


def _stats_with_hits() -> LineStats:
    stats = LineStats({("prog.py", 1, "f"): [(2, 3, 4000)]}, 1e-9)
    return stats


def test_a_child_s_results_file_reads_back(tmp_path: Path) -> None:
    stats = _stats_with_hits()
    path = str(tmp_path / "1-ab.results")
    children.write_results(path, stats)
    back = children.read_results(path, LineStats)
    assert back.timings == stats.timings and back.unit == stats.unit
    assert back.to_dict() == stats.to_dict()


@pytest.mark.parametrize(
    "content",
    [b"", b"not marshal", b"\xe9", None],  # None: another interpreter's tag
)
def test_what_is_not_a_child_s_results_file_is_refused(
    tmp_path: Path, content: bytes | None
) -> None:
    import marshal

    path = tmp_path / "1-ab.results"
    if content is None:
        other = ("lineprof child results", 1, (2, 7), marshal.version)
        content = marshal.dumps((other, _stats_with_hits().to_dict()))
    path.write_bytes(content)
    with pytest.raises(ValueError):
        children.read_results(str(path), LineStats)

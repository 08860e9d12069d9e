"""The pytest plugin (lineprof/pytest_plugin.py), driven through pytester in subprocesses:
each run is a pytest session of its own, so its profiling never meets this one's."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import textwrap
from pathlib import Path

import pytest

import lineprof
from lineprof import load_stats
from lineprof.results import LineStats

pytest_plugins = ["pytester"]

# Whether lineprof is installed with its pytest11 entry point (not when a tree is tested in
# place).
ENTRY_POINT_INSTALLED = any(
    entry.value == "lineprof.pytest_plugin"
    for entry in importlib.metadata.entry_points(group="pytest11")
)

needs_xdist = pytest.mark.skipif(
    importlib.util.find_spec("xdist") is None, reason="pytest-xdist is not installed"
)

WORK = """\
def step(n):
    total = 0
    for i in range(n):
        total += i
    return total


def other(x):
    return x * 2


class Counter:
    def __init__(self):
        self.n = 0

    def bump(self):
        self.n += 1
"""

# step(4) three times, other() once: the hits every case below counts from.
TESTS = """\
import work


def test_loop():
    for _ in range(3):
        work.step(4)


def test_other():
    assert work.other(1) == 2
"""

STEP_ONCE = {"total = 0": 1, "for i in range(n):": 5, "total += i": 4, "return total": 1}


def times(counts: dict[str, int], factor: int) -> dict[str, int]:
    return {line: hits * factor for line, hits in counts.items()}


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """work.py (the code under test) and test_work.py; the plugin comes from the entry
    point, as for any user."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    if not ENTRY_POINT_INSTALLED:
        # A tree run without installing lineprof (tools/sanitize.sh, tools/valgrind.sh build
        # it in place): name the plugin, and let the session import lineprof from the tree.
        monkeypatch.setenv("PYTEST_ADDOPTS", "-p lineprof.pytest_plugin")
        tree = str(Path(lineprof.__file__).resolve().parent.parent)
        path = os.environ.get("PYTHONPATH")
        monkeypatch.setenv("PYTHONPATH", tree + os.pathsep + path if path else tree)
    pytester.makepyfile(work=WORK, test_work=TESTS)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def hits(stats: LineStats, qualname: str) -> dict[str, int]:
    """{source line, stripped: hits} of the lines of ``qualname`` that ran."""
    (key,) = [key for key in stats.timings if key[2] == qualname]
    source = stats.sources[key]
    return {source[line - key[1]].strip(): n for line, n, _ in stats.timings[key] if n}


def qualnames(stats: LineStats) -> set[str]:
    return {key[2] for key in stats.timings}


def output(result: pytest.RunResult) -> str:
    return result.stdout.str()


def says_nothing(result: pytest.RunResult) -> bool:
    """No lineprof section, line or warning in the output."""
    text = output(result) + result.stderr.str()
    return "= lineprof =" not in text and "lineprof:" not in text and "Lineprof" not in text


# ---- --lineprof=TARGET ------------------------------------------------------------------------


def test_module_target_profiles_every_function_of_it(project: pytest.Pytester) -> None:
    result = run(project, "--lineprof=work")
    result.assert_outcomes(passed=2)
    stats = load_stats(project.path / ".lineprof.json")
    assert qualnames(stats) == {"step", "other", "Counter.__init__", "Counter.bump"}
    assert hits(stats, "step") == times(STEP_ONCE, 3)
    assert hits(stats, "other") == {"return x * 2": 1}
    assert hits(stats, "Counter.bump") == {}  # registered, never called
    text = output(result)
    assert "Function: step at line 1" in text
    assert "Function: Counter.bump" not in text  # the terminal report leaves out what never ran
    assert "Wrote profile results to .lineprof.json" in text
    assert "Inspect results with: lineprof show .lineprof.json" in text


def test_function_target_profiles_that_function_only(project: pytest.Pytester) -> None:
    result = run(project, "--lineprof=work.step", "--lineprof-out", "step.json")
    result.assert_outcomes(passed=2)
    assert not (project.path / ".lineprof.json").exists()
    stats = load_stats(project.path / "step.json")
    assert qualnames(stats) == {"step"}
    assert hits(stats, "step") == times(STEP_ONCE, 3)


def test_class_and_package_targets(project: pytest.Pytester) -> None:
    project.mkpydir("pkg")
    project.makepyfile(**{"pkg/sub": "def double(x):\n    return 2 * x\n"})
    project.makepyfile(
        test_more="""
        import work
        from pkg.sub import double

        def test_more():
            c = work.Counter()
            c.bump()
            c.bump()
            assert double(2) == 4
        """
    )
    result = run(project, "--lineprof=work.Counter,pkg", "test_more.py")
    result.assert_outcomes(passed=1)
    stats = load_stats(project.path / ".lineprof.json")
    assert qualnames(stats) == {"Counter.__init__", "Counter.bump", "double"}
    assert hits(stats, "Counter.bump") == {"self.n += 1": 2}
    assert hits(stats, "double") == {"return 2 * x": 1}


def test_a_target_that_names_nothing_is_a_usage_error(project: pytest.Pytester) -> None:
    result = run(project, "--lineprof=work", "--lineprof=no_such_module")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--lineprof=no_such_module: no such file, directory or module*"])
    assert not (project.path / ".lineprof.json").exists()


def test_profiling_is_on_only_while_tests_run(project: pytest.Pytester) -> None:
    """Module-level code of a test module runs at collection: step(4) there is not
    recorded; a fixture's setup and teardown are."""
    project.makepyfile(
        test_work="""
        import pytest
        import work

        work.step(4)

        @pytest.fixture
        def around():
            work.step(4)
            yield
            work.step(4)

        def test_with_fixture(around):
            work.step(4)
        """
    )
    run(project, "--lineprof=work.step").assert_outcomes(passed=1)
    assert hits(load_stats(project.path / ".lineprof.json"), "step") == times(STEP_ONCE, 3)


# ---- the marker -------------------------------------------------------------------------------


def test_marker_profiles_during_that_test_only(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_work="""
        import pytest
        import work

        @pytest.mark.lineprof(work.step, work.Counter)
        def test_marked():
            for _ in range(3):
                work.step(4)
            work.Counter().bump()

        @pytest.mark.lineprof("work.other")
        def test_by_name():
            work.other(1)

        @pytest.mark.lineprof.with_args(work.other)
        def test_one_callable():
            work.other(2)

        @pytest.mark.lineprof([work.other])
        def test_in_a_list():
            work.other(3)

        def test_not_marked():
            work.step(4)
            work.other(3)
        """
    )
    result = run(project, "--strict-markers")
    result.assert_outcomes(passed=5)
    stats = load_stats(project.path / ".lineprof.json")
    assert hits(stats, "step") == times(STEP_ONCE, 3)  # test_not_marked's call is not there
    assert hits(stats, "Counter.bump") == {"self.n += 1": 1}
    assert hits(stats, "other") == {"return x * 2": 3}
    assert "Function: step at line 1" in output(result)


def test_marker_and_targets_count_a_function_once(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_work="""
        import pytest
        import work

        @pytest.mark.lineprof("work.step")
        def test_marked():
            work.step(4)

        def test_not_marked():
            work.step(4)
        """
    )
    run(project, "--lineprof=work").assert_outcomes(passed=2)
    assert hits(load_stats(project.path / ".lineprof.json"), "step") == times(STEP_ONCE, 2)


# ---- outcomes ---------------------------------------------------------------------------------


def test_a_failing_test_keeps_its_profile(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_work="""
        import work

        def test_fails():
            for _ in range(3):
                work.step(4)
            assert work.other(1) == 3
        """
    )
    result = run(project, "--lineprof=work", "--lineprof-out=out.lprof", "--lineprof-html=out.html")
    result.assert_outcomes(failed=1)
    stats = load_stats(project.path / "out.lprof")  # line_profiler's format, by extension
    assert {key[2]: sum(n for _, n, _ in rows) for key, rows in stats.timings.items()} == {
        "step": sum(times(STEP_ONCE, 3).values()),
        "other": 1,
        "Counter.__init__": 0,
        "Counter.bump": 0,
    }
    page = (project.path / "out.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "total += i" in page
    assert "Wrote profile results to out.html" in output(result)


def test_results_kept_when_their_directory_goes(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A test removes the directory --lineprof-out names: the results go to TMPDIR instead.
    (project.path / "out").mkdir()
    (project.path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(project.path / "tmp"))
    project.makepyfile(
        test_gone="""
        import shutil, work

        def test_removes_out():
            work.step(4)
            shutil.rmtree("out")
        """
    )
    result = run(project, "--lineprof=work.step", "--lineprof-out=out/r.json", "test_gone.py")
    result.assert_outcomes(passed=1)
    [kept] = (project.path / "tmp").iterdir()
    assert kept.name.startswith("lineprof-r-") and kept.suffix == ".json"
    assert hits(load_stats(kept), "step") == STEP_ONCE
    assert (
        "cannot write the results to out/r.json (FileNotFoundError: No such file or directory): "
        f"written to {kept} instead"
    ) in output(result)
    assert f"Wrote profile results to {kept}" in output(result)


def test_a_failure_inside_the_plugin_does_not_fail_the_test(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        import lineprof.profiler

        def refuse(self):
            raise RuntimeError("no hook for you")

        lineprof.profiler.LineProfiler.enable = refuse
        """
    )
    project.makepyfile(
        test_marks="""
        import pytest
        import work

        @pytest.mark.lineprof(len, "work.nothing", "no_such_module.f")
        def test_marked_with_nothing_profilable():
            work.step(4)
        """
    )
    result = run(project, "-W", "error", "--lineprof=work")
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.OK
    text = output(result)
    assert "could not start profiling: RuntimeError: no hook for you" in text
    assert "<built-in function len> has no Python code to profile" in text
    assert "'work.nothing': module 'work' has no 'nothing'" in text
    assert "'no_such_module.f': no module named 'no_such_module'" in text


# ---- the terminal summary ---------------------------------------------------------------------


def test_quiet_prints_one_line_and_very_quiet_nothing(project: pytest.Pytester) -> None:
    quiet = output(run(project, "-q", "--lineprof=work"))
    assert "lineprof: 4 function(s) profiled; results in .lineprof.json" in quiet
    assert "Timer unit" not in quiet and "Function: step" not in quiet
    very_quiet = run(project, "-qq", "--lineprof=work", "--lineprof-out=qq.json")
    assert says_nothing(very_quiet)
    assert hits(load_stats(project.path / "qq.json"), "step") == times(STEP_ONCE, 3)


# ---- a session that does not ask --------------------------------------------------------------

INERT = """\
import sys

import work


def test_plugin_is_inert(request):
    work.step(4)
    manager = request.config.pluginmanager
    # the pytest11 entry point's name, or the module's when named with -p (a tree in place)
    module = manager.get_plugin("lineprof") or manager.get_plugin("lineprof.pytest_plugin")
    assert module is not None and module.__name__ == "lineprof.pytest_plugin"
    assert manager.get_plugin("lineprof-session") is None
    ours = [
        plugin
        for plugin in manager.get_plugins()
        if plugin is module or type(plugin).__module__ == module.__name__
    ]
    hooks = {caller.name for plugin in ours for caller in manager.get_hookcallers(plugin)}
    assert hooks == {"pytest_addoption", "pytest_configure", "pytest_collection_modifyitems"}
    # No profiler can have been made: the profiler and the C core were never imported.
    assert "lineprof.profiler" not in sys.modules
    assert "lineprof._lineprof" not in sys.modules
    if sys.version_info >= (3, 12):
        tools = [sys.monitoring.get_tool(i) for i in range(6)]
        assert "lineprof" not in tools
"""


def test_a_session_that_does_not_ask_runs_nothing_of_lineprof(project: pytest.Pytester) -> None:
    project.makepyfile(test_work=INERT)
    result = run(project, "-v")
    result.assert_outcomes(passed=1)
    assert says_nothing(result)
    assert not (project.path / ".lineprof.json").exists()


def test_the_inertness_check_fails_when_the_plugin_is_asked(project: pytest.Pytester) -> None:
    project.makepyfile(test_work=INERT)
    result = run(project, "--lineprof=work")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert*is None*"])
    assert hits(load_stats(project.path / ".lineprof.json"), "step") == STEP_ONCE


def test_collect_only_profiles_nothing(project: pytest.Pytester) -> None:
    result = run(project, "--co", "--lineprof=work")
    assert result.ret == pytest.ExitCode.OK
    assert not (project.path / ".lineprof.json").exists()
    assert says_nothing(result)


# ---- pytest-xdist -----------------------------------------------------------------------------


@needs_xdist
def test_xdist_workers_send_their_results_to_the_controller(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_more="""
        import work

        def test_a():
            work.step(4)

        def test_b():
            work.step(4)
        """
    )
    # --dist each: both workers run every test, so the merged hits are exactly twice one run's
    result = run(project, "-n", "2", "--dist", "each", "--lineprof=work.step")
    result.assert_outcomes(passed=8)
    stats = load_stats(project.path / ".lineprof.json")
    assert hits(stats, "step") == times(STEP_ONCE, 2 * 5)
    text = output(result)
    assert text.count("Function: step at line 1") == 1  # one report, from the controller
    assert text.count("Wrote profile results to") == 1
    command_line = stats.metadata.command_line or ()
    assert "--lineprof=work.step" in command_line  # the controller's, not a worker's

    # --dist load (what -n gives): the tests are shared out, each run once
    result = run(project, "-n", "2", "--lineprof=work.step", "--lineprof-out=load.json")
    result.assert_outcomes(passed=4)
    assert hits(load_stats(project.path / "load.json"), "step") == times(STEP_ONCE, 5)


@needs_xdist
def test_xdist_with_the_marker_only(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_work="""
        import pytest
        import work

        @pytest.mark.lineprof("work.step")
        def test_marked():
            work.step(4)

        @pytest.mark.lineprof("work.step")
        def test_marked_too():
            work.step(4)

        def test_not_marked():
            work.step(4)
        """
    )
    result = run(project, "-n", "2", "-q")
    result.assert_outcomes(passed=3)
    assert "lineprof: 1 function(s) profiled; results in .lineprof.json" in output(result)
    assert hits(load_stats(project.path / ".lineprof.json"), "step") == times(STEP_ONCE, 2)


@needs_xdist
def test_xdist_session_that_does_not_ask(project: pytest.Pytester) -> None:
    result = run(project, "-n", "2")
    result.assert_outcomes(passed=2)
    assert says_nothing(result)
    assert not (project.path / ".lineprof.json").exists()


def test_results_travel_as_json(tmp_path: Path) -> None:
    """What a worker sends (LineStats.to_json) is read back equal, sources included."""
    from lineprof import LineProfiler

    namespace: dict[str, object] = {}
    exec(compile(textwrap.dedent(WORK), str(tmp_path / "w.py"), "exec"), namespace)
    (tmp_path / "w.py").write_text(WORK)
    lp = LineProfiler(namespace["step"])
    with lp:
        namespace["step"](4)  # type: ignore[operator]
    stats = lp.get_stats()
    back = LineStats.from_dict(json.loads(stats.to_json()))
    assert back == stats and back.sources == stats.sources and back.times == stats.times

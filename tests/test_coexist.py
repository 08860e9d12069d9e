"""lineprof beside other tools in one process: cProfile, coverage.py (each of its cores) and pdb.

From CPython 3.12 lineprof's monitoring backend holds a sys.monitoring tool id of its own
(``_lineprof.TOOL_IDS``: 4, then 3, 5, and PROFILER_ID only when those are all held), so cProfile
(PROFILER_ID), coverage's sysmon core (COVERAGE_ID) and settrace-based tools (pdb, coverage's
ctrace/pytrace cores, which CPython runs on ids of its own) each see all their events, and each
tool's results are exact.

Before 3.12 a thread has one profile and one trace function.  There lineprof's setprofile
backend needs both, so it cannot share a thread with cProfile (a profile function) or with a
tracer (pdb, coverage) without one of them losing: the tests below pin down what works
(cProfile first, or ``backend="settrace"``), and that otherwise the other tool keeps its hook and
its results while lineprof warns that its own are incomplete (``take_hooks_displaced``).

Each scenario runs in a subprocess: they install process-wide hooks.  Tests of the tool id
itself run here, like tests/test_engine.py's, and leave every id as they found it.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from lineprof import LineProfiler, _lineprof

from . import targets
from .conftest import ROOT, by_mark

MONITORING = bool(_lineprof.HAVE_SYS_MONITORING)
needs_monitoring = pytest.mark.skipif(not MONITORING, reason="sys.monitoring is 3.12+")
legacy_only = pytest.mark.skipif(MONITORING, reason="the legacy hooks are used before 3.12")
needs_coverage = pytest.mark.skipif(
    importlib.util.find_spec("coverage") is None, reason="coverage.py is not installed"
)

# The functions every scenario profiles, and the hits lineprof must report for work(5) run twice:
# {line offset from `def work`: hits}.
FUNCTIONS = """
def helper(i):
    return i * 2

def work(n):
    total = 0
    for i in range(n):
        total += helper(i)
    return total

def unrun():
    return 1
"""
WORK_HITS = {1: 2, 2: 12, 3: 10, 4: 2}

# Prints one JSON line: lineprof's {offset: hits} for work, which backend and tool id it had,
# and what the scenario adds under "other".  The scenario's code goes where {body} is.
SCRIPT = """
import json, sys, warnings
warnings.simplefilter("always")
from lineprof import LineProfiler, _lineprof
import scenario_functions as f

lp = LineProfiler(f.work, backend={backend!r}, wrap_trace={wrap!r})
seen = {{}}
other = {{}}
def note():
    seen["backend"] = _lineprof.active_backend()
    seen["tool"] = _lineprof.tool_id()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
{body}
first = f.work.__code__.co_firstlineno
rows = next(iter(lp.get_stats().timings.values()), [])
hits = {{str(line - first): h for line, h, _ in rows if h}}
free = [sys.monitoring.get_tool(i) for i in range(6)] if hasattr(sys, "monitoring") else None
print(json.dumps(dict(hits=hits, other=other, warnings=[str(w.message) for w in caught],
                      tools_after=free, hooks_after=[sys.gettrace() is None,
                                                     sys.getprofile() is None], **seen)))
"""


def scenario(
    tmp_path: Any,
    body: str,
    backend: str = "auto",
    stdin: str | None = None,
    wrap: bool = False,
    **env: str,
) -> dict[str, Any]:
    """Run ``body`` (indented 4) in a fresh interpreter with FUNCTIONS importable as ``f``;
    return what SCRIPT prints, with its whole stdout under "stdout"."""
    (tmp_path / "scenario_functions.py").write_text(FUNCTIONS)
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n" + SCRIPT.format(
        backend=backend, body=body, wrap=wrap
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **env),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]  # after pdb's last "(Pdb) " prompt, if any
    result: dict[str, Any] = json.loads(last[last.index("{") :])
    result["hits"] = {int(k): v for k, v in result["hits"].items()}
    result["stdout"] = done.stdout
    return result


def assert_released(result: dict[str, Any]) -> None:
    """No tool id, trace or profile function left behind by anyone."""
    if MONITORING:
        assert result["tools_after"] == [None] * 6
    assert result["hooks_after"] == [True, True]


# ---- the tool id (in process) ---------------------------------------------------------------


def claim(foreign_tools: list[int], *tools: int) -> None:
    for tool in tools:
        sys.monitoring.use_tool_id(tool, f"other-{tool}")
        foreign_tools.append(tool)


def test_tool_ids_constant() -> None:
    assert _lineprof.TOOL_IDS == ((4, 3, 5, 2) if MONITORING else ())


@needs_monitoring
@pytest.mark.usefixtures("fake_clock")
def test_leaves_conventional_ids_and_gives_its_id_back() -> None:
    mon = sys.monitoring
    assert [mon.get_tool(i) for i in range(6)] == [None] * 6
    lp = LineProfiler(targets.basic, backend="monitoring")
    for _ in range(2):  # re-enable takes the same id again
        with lp:
            assert _lineprof.tool_id() == 4
            assert [mon.get_tool(i) for i in range(6)] == [None] * 4 + ["lineprof", None]
            assert mon.get_local_events(4, targets.basic.__code__) != 0
            targets.basic(2)
        assert _lineprof.tool_id() is None
        assert mon.get_tool(4) is None
        # Events and callbacks were cleared before free_tool_id (3.12 and 3.13 keep them).
        assert mon.get_events(4) == 0
        assert mon.get_local_events(4, targets.basic.__code__) == 0
        for event in (mon.events.LINE, mon.events.PY_START, mon.events.PY_UNWIND):
            assert mon.register_callback(4, event, None) is None
    rows = {line: hits for line, hits, _ in next(iter(lp.get_stats().timings.values()))}
    assert sum(rows.values()) == 2 * (1 + 1 + 3 + 2 + 2 + 1)


@needs_monitoring
@pytest.mark.usefixtures("fake_clock")
@pytest.mark.parametrize(
    ("held", "expected"),
    [((), 4), ((4,), 3), ((4, 3), 5), ((4, 3, 5), 2), ((2, 4), 3), ((0, 1, 2), 4)],
)
def test_fallback_order(foreign_tools: list[int], held: tuple[int, ...], expected: int) -> None:
    claim(foreign_tools, *held)
    with LineProfiler(targets.basic, backend="monitoring"):
        assert _lineprof.tool_id() == expected
        targets.basic(1)
    assert sys.monitoring.get_tool(expected) is None
    assert [sys.monitoring.get_tool(t) for t in held] == [f"other-{t}" for t in held]


@needs_monitoring
@pytest.mark.usefixtures("fake_clock")
def test_never_takes_debugger_or_coverage_id(foreign_tools: list[int]) -> None:
    claim(foreign_tools, 2, 3, 4, 5)
    with pytest.raises(RuntimeError, match=r"tool ids 2-5 are all held .*4: 'other-4'"):
        LineProfiler(targets.basic, backend="monitoring").enable()
    assert sys.monitoring.get_tool(0) is None and sys.monitoring.get_tool(1) is None
    assert _lineprof.active_backend() is None
    with LineProfiler(targets.basic) as lp:  # auto: settrace, still exact
        assert lp.backend == "settrace" and _lineprof.tool_id() is None
        targets.basic(1)
    assert sys.monitoring.get_tool(0) is None and sys.monitoring.get_tool(1) is None


@needs_monitoring
@pytest.mark.usefixtures("fake_clock")
def test_last_profiler_disabled_gives_the_id_back() -> None:
    """Every LineProfiler shares the C module's one session: the id is held while any of them
    is enabled, and given back by whichever is disabled (or freed) last."""
    mon = sys.monitoring
    a = LineProfiler(targets.basic, backend="monitoring")
    b = LineProfiler(targets.basic, targets.rec, backend="monitoring")
    a.enable()
    b.enable()
    assert _lineprof.tool_id() == 4
    targets.basic(1)
    a.disable()
    assert mon.get_tool(4) == "lineprof"  # b still records
    targets.basic(1)
    a.enable()
    b.disable()
    assert mon.get_tool(4) == "lineprof"
    a.disable()
    assert mon.get_tool(4) is None and _lineprof.tool_id() is None
    hits_a = sum(h for _, h, _ in next(iter(a.get_stats().timings.values())))
    hits_b = sum(h for _, h, _ in b.get_stats().timings[next(iter(b.get_stats().timings))])
    assert (hits_a, hits_b) == (7, 2 * 7)

    # Nested enables count once; a profiler freed while enabled gives the id back too.
    c = LineProfiler(targets.basic, backend="monitoring")
    with c, c:
        assert mon.get_tool(4) == "lineprof"
    assert mon.get_tool(4) is None
    c.enable()
    del c
    gc.collect()
    assert mon.get_tool(4) is None and _lineprof.active_backend() is None


@needs_monitoring
@pytest.mark.usefixtures("fake_clock")
def test_id_given_back_after_an_error_while_recording() -> None:
    lp = LineProfiler(targets.deep, targets.raiser, backend="monitoring")
    _lineprof._set_stack_limit(100)
    try:
        lp.enable()
        targets.deep(150)
        with pytest.raises(RuntimeError, match="nested profiled frames"):
            lp.disable()
    finally:
        _lineprof._set_stack_limit(1 << 20)
    assert sys.monitoring.get_tool(4) is None
    with pytest.raises(ValueError):
        with lp:
            assert sys.monitoring.get_tool(4) == "lineprof"
            targets.raiser()
    assert sys.monitoring.get_tool(4) is None


# ---- cProfile -------------------------------------------------------------------------------

CPROFILE = """
    import cProfile, pstats
    prof = cProfile.Profile()
    {start}
    note()
    f.work(5); f.work(5)
    {stop}
    stats = pstats.Stats(prof).stats
    other["calls"] = {{k[2]: v[1] for k, v in stats.items() if k[2] in ("work", "helper")}}
"""
CP_FIRST, LP_FIRST = "prof.enable(); lp.enable()", "lp.enable(); prof.enable()"
CP_OUT, LP_OUT = "prof.disable(); lp.disable()", "lp.disable(); prof.disable()"
ORDERS = {
    "cprofile-first, lineprof-out-first": (CP_FIRST, LP_OUT),
    "cprofile-first, cprofile-out-first": (CP_FIRST, CP_OUT),
    "lineprof-first, cprofile-out-first": (LP_FIRST, CP_OUT),
    "lineprof-first, lineprof-out-first": (LP_FIRST, LP_OUT),
}


@needs_monitoring
@pytest.mark.parametrize("order", ORDERS)
def test_cprofile_beside_lineprof(tmp_path: Any, order: str) -> None:
    start, stop = ORDERS[order]
    result = scenario(tmp_path, CPROFILE.format(start=start, stop=stop))
    assert (result["backend"], result["tool"]) == ("monitoring", 4)
    assert result["hits"] == WORK_HITS
    assert result["other"]["calls"] == {"work": 2, "helper": 10}
    assert result["warnings"] == []
    assert_released(result)


# ---- coverage.py ----------------------------------------------------------------------------

COVERAGE = """
    import coverage
    cov = coverage.Coverage(data_file=None)
    {start}
    note()
    other["core"] = dict(cov.sys_info())["core"]
    f.work(5); f.work(5)
    {stop}
    _, statements, _, missing, _ = cov.analysis2(f.__file__)
    other["missing"] = missing
"""
# FUNCTIONS' lines (1-based, in the file) that run after coverage starts: helper's and work's
# bodies.  The def lines ran at import, unrun's body never.
RUN_LINES = {3, 6, 7, 8, 9}
COVERAGE_ORDERS = {
    "coverage-first": ("cov.start(); lp.enable()", "lp.disable(); cov.stop()"),
    "lineprof-first": ("lp.enable(); cov.start()", "cov.stop(); lp.disable()"),
}
CORES = {"sysmon": "SysMonitor", "ctrace": "CTracer", "pytrace": "PyTracer"}


@needs_monitoring
@needs_coverage
@pytest.mark.parametrize("order", COVERAGE_ORDERS)
@pytest.mark.parametrize("core", CORES)
def test_coverage_beside_lineprof(tmp_path: Any, core: str, order: str) -> None:
    start, stop = COVERAGE_ORDERS[order]
    result = scenario(tmp_path, COVERAGE.format(start=start, stop=stop), COVERAGE_CORE=core)
    assert result["other"]["core"] == CORES[core]
    assert (result["backend"], result["tool"]) == ("monitoring", 4)
    assert result["hits"] == WORK_HITS
    missing = set(result["other"]["missing"])
    assert not missing & RUN_LINES
    assert 12 in missing  # unrun's body: coverage is measuring, not marking everything
    assert_released(result)


# ---- pdb ------------------------------------------------------------------------------------

PDB = """
    import pdb
    with lp:
        note()
        dbg = pdb.Pdb(nosigint=True, readrc=False)
        other["result"] = dbg.runcall(f.work, 5) + f.work(5)
"""
# Stop at helper twice, print i each time, then run to the end.
PDB_INPUT = "b scenario_functions.helper\nc\np ('i is', i)\nc\np ('i is', i)\nclear 1\nc\n"


@needs_monitoring
def test_pdb_stops_at_a_breakpoint_under_lineprof(tmp_path: Any) -> None:
    result = scenario(tmp_path, PDB, stdin=PDB_INPUT)
    out = result["stdout"]
    assert out.count("helper()\n-> return i * 2") == 2, out
    assert "('i is', 0)" in out and "('i is', 1)" in out, out
    assert result["other"]["result"] == 40
    assert (result["backend"], result["tool"]) == ("monitoring", 4)
    assert result["hits"] == WORK_HITS
    assert_released(result)


# ---- before 3.12: one profile and one trace function per thread ---------------------------


@legacy_only
def test_legacy_cprofile_first_lineprof_traces(tmp_path: Any) -> None:
    """cProfile holds the profile hook: auto leaves it alone and takes the trace hook."""
    start, stop = ORDERS["cprofile-first, lineprof-out-first"]
    result = scenario(tmp_path, CPROFILE.format(start=start, stop=stop))
    assert result["backend"] == "settrace"
    assert result["hits"] == WORK_HITS
    assert result["other"]["calls"] == {"work": 2, "helper": 10}
    assert_released(result)


@legacy_only
@pytest.mark.parametrize("order", ORDERS)
def test_legacy_settrace_backend_beside_cprofile(tmp_path: Any, order: str) -> None:
    start, stop = ORDERS[order]
    result = scenario(tmp_path, CPROFILE.format(start=start, stop=stop), backend="settrace")
    assert result["backend"] == "settrace"
    assert result["hits"] == WORK_HITS
    assert result["other"]["calls"] == {"work": 2, "helper": 10}
    assert_released(result)


@legacy_only
def test_legacy_setprofile_then_cprofile(tmp_path: Any) -> None:
    start, stop = ORDERS["lineprof-first, lineprof-out-first"]
    result = scenario(tmp_path, CPROFILE.format(start=start, stop=stop))
    assert result["backend"] == "setprofile"
    assert result["other"]["calls"] == {"work": 2, "helper": 10}
    assert result["hits"] == WORK_HITS or any("profile function" in w for w in result["warnings"])


# The program gives every thread threading starts a profile or trace function of its own,
# then runs work(5) twice in a new thread while lineprof records.
THREAD_HOOK = """
    import threading
    calls = []
    def hook(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "work":
            calls.append(1)
    threading.set{kind}(hook)
    with lp:
        note()
        thread = threading.Thread(target=lambda: (f.work(5), f.work(5)))
        thread.start()
        thread.join()
    other["calls"] = len(calls)
    other["kept"] = threading.get{kind}() is hook
    threading.set{kind}(None)
"""


@legacy_only
def test_legacy_the_profile_function_threading_gives_threads_keeps_auto_off_setprofile(
    tmp_path: Any,
) -> None:
    """threading.setprofile(hook): the threads started while profiling get the program's hook,
    and lineprof records them through the trace hook instead."""
    result = scenario(tmp_path, THREAD_HOOK.format(kind="profile"))
    assert result["backend"] == "settrace"
    assert result["other"] == {"calls": 2, "kept": True}
    assert result["hits"] == WORK_HITS
    assert result["warnings"] == []
    assert_released(result)


@pytest.mark.parametrize(
    ("kind", "backend"),
    [pytest.param("profile", "setprofile", marks=legacy_only), ("trace", "settrace")],
)
def test_a_backend_that_takes_threadings_hook_says_so(
    tmp_path: Any, kind: str, backend: str
) -> None:
    """The backend asked for needs the hook the program gives new threads: lineprof's takes its
    place while profiling, says so, and puts it back."""
    result = scenario(tmp_path, THREAD_HOOK.format(kind=kind), backend=backend)
    assert result["backend"] == backend
    assert result["other"] == {"calls": 0, "kept": True}
    assert result["hits"] == WORK_HITS
    assert any(f"replacing the {kind} function threading gives" in w for w in result["warnings"])
    assert_released(result)


@legacy_only
@needs_coverage
def test_legacy_coverage_first_lineprof_says_it_cannot_record(tmp_path: Any) -> None:
    """coverage holds the trace hook, which the setprofile backend needs for lines: lineprof
    says so, records nothing rather than something wrong, and coverage's results are right."""
    start, stop = COVERAGE_ORDERS["coverage-first"]
    result = scenario(tmp_path, COVERAGE.format(start=start, stop=stop), COVERAGE_CORE="ctrace")
    assert result["backend"] == "setprofile"
    assert any("lines of profiled functions are not recorded" in w for w in result["warnings"])
    assert result["hits"] == {}
    missing = set(result["other"]["missing"])
    assert not missing & RUN_LINES and 12 in missing
    assert_released(result)


@legacy_only
@needs_coverage
def test_legacy_lineprof_then_coverage(tmp_path: Any) -> None:
    start, stop = COVERAGE_ORDERS["lineprof-first"]
    result = scenario(tmp_path, COVERAGE.format(start=start, stop=stop), COVERAGE_CORE="ctrace")
    missing = set(result["other"]["missing"])
    assert not missing & RUN_LINES
    assert result["hits"] == WORK_HITS or any("trace function" in w for w in result["warnings"])


@legacy_only
def test_legacy_pdb_under_lineprof(tmp_path: Any) -> None:
    result = scenario(tmp_path, PDB, stdin=PDB_INPUT)
    out = result["stdout"]
    assert out.count("helper()\n-> return i * 2") == 2, out
    assert result["hits"] == WORK_HITS or any("trace function" in w for w in result["warnings"])


# ---- before 3.12, wrap_trace: lineprof's trace function in front of the tool's ----------------


@legacy_only
@needs_coverage
@pytest.mark.parametrize("order", COVERAGE_ORDERS)
@pytest.mark.parametrize("core", ["ctrace", "pytrace"])
def test_legacy_wrap_trace_coverage_and_lineprof_both_record(
    tmp_path: Any, core: str, order: str
) -> None:
    start, stop = COVERAGE_ORDERS[order]
    result = scenario(
        tmp_path, COVERAGE.format(start=start, stop=stop), wrap=True, COVERAGE_CORE=core
    )
    assert result["backend"] == "setprofile"
    assert result["other"]["core"] == CORES[core]
    assert result["hits"] == WORK_HITS
    assert result["warnings"] == []
    missing = set(result["other"]["missing"])
    assert not missing & RUN_LINES and 12 in missing
    assert_released(result)


TRACER = """
    events = []
    def tracer(frame, event, arg):
        if frame.f_code.co_filename == f.__file__:
            events.append([event, frame.f_code.co_name, frame.f_lineno])
        return tracer
    sys.settrace(tracer); f.work(5); f.work(5); sys.settrace(None)
    alone = list(events)
    events.clear()
    sys.settrace(tracer)
    with lp:
        note()
        f.work(5); f.work(5)
    sys.settrace(None)
    other["same"] = events == alone
    other["events"] = len(alone)
"""


@legacy_only
def test_legacy_wrap_trace_a_python_tracer_sees_every_event_it_sees_alone(tmp_path: Any) -> None:
    result = scenario(tmp_path, TRACER, wrap=True)
    assert result["backend"] == "setprofile"
    assert result["other"] == {"same": True, "events": 60}
    assert result["hits"] == WORK_HITS
    assert result["warnings"] == []
    assert_released(result)


@legacy_only
def test_legacy_without_wrap_trace_the_tracer_keeps_its_events_and_lineprof_says_so(
    tmp_path: Any,
) -> None:
    result = scenario(tmp_path, TRACER)
    assert result["other"] == {"same": True, "events": 60}
    assert result["hits"] == {}
    assert any("lines of profiled functions are not recorded" in w for w in result["warnings"])


QUITTER = """
    saw = []
    def tracer(frame, event, arg):
        if frame.f_code is f.work.__code__ and event == "line":
            saw.append(frame.f_lineno)
            sys.settrace(None)  # the tool stops itself from inside lineprof's wrapper
        return tracer
    sys.settrace(tracer)
    with lp:
        note()
        other["results"] = [f.work(5), f.work(5)]
    other["seen"] = saw
    other["gettrace_none"] = sys.gettrace() is None
"""


@legacy_only
def test_legacy_wrap_trace_a_tool_that_stops_itself_inside_the_wrapper(tmp_path: Any) -> None:
    result = scenario(tmp_path, QUITTER, wrap=True)
    assert result["other"]["results"] == [20, 20]
    assert len(result["other"]["seen"]) == 1  # it saw one line, then stopped for good
    assert result["other"]["gettrace_none"] is True
    # lineprof lost only the lines that ran while no trace function was installed at all:
    # the rest of the first call after the tool removed lineprof's wrapper with its own.
    assert result["hits"][4] == 2  # both returns (lineprof's own trace is back by then)
    assert 0 < result["hits"][2] <= WORK_HITS[2]
    assert_released(result)


STOPPER = """
    events = []
    def tracer(frame, event, arg):
        if frame.f_code.co_name == "stopper":
            events.append([event, frame.f_lineno - frame.f_code.co_firstlineno])
        return tracer
    def stopper():
        lp.disable()
        x = 1
        return x
    lp.add_function(stopper)
    sys.settrace(tracer)
    lp.enable()
    note()
    stopper()
    other["tracer_back"] = sys.gettrace() is tracer
    sys.settrace(None)
    other["events"] = events
"""


@legacy_only
def test_legacy_wrap_trace_stopping_inside_a_profiled_frame_gives_the_tool_back(
    tmp_path: Any,
) -> None:
    result = scenario(tmp_path, STOPPER, wrap=True)
    assert result["other"]["tracer_back"] is True
    events = result["other"]["events"]
    assert events == [["call", 0], ["line", 1], ["line", 2], ["line", 3], ["return", 3]]
    assert_released(result)


SPINNER = """
    import threading, time
    flag, state = [False], {}
    def tracer(frame, event, arg):
        return tracer
    def spin():
        state["started"] = True
        while not flag[0]:
            pass  # pure bytecode: lineprof's wrapper stays in front of the tool's meanwhile
        state["tracer_back"] = sys.gettrace() is tracer
    lp.add_function(spin)
    def run():
        sys.settrace(tracer)
        spin()
        sys.settrace(None)
    lp.enable()
    note()
    t = threading.Thread(target=run)
    t.start()
    while not state.get("started"):
        time.sleep(0.001)
    time.sleep(0.02)
    lp.disable()  # the session ends while the other thread runs spin()
    flag[0] = True
    t.join()
    other.update(state)
"""


@legacy_only
def test_legacy_wrap_trace_the_session_ending_gives_every_thread_its_tool_back(
    tmp_path: Any,
) -> None:
    result = scenario(tmp_path, SPINNER, wrap=True)
    assert result["other"] == {"started": True, "tracer_back": True}
    assert_released(result)


@legacy_only
def test_legacy_wrap_trace_pdb_stops_at_its_breakpoints_and_lineprof_records(
    tmp_path: Any,
) -> None:
    result = scenario(tmp_path, PDB, stdin=PDB_INPUT, wrap=True)
    out = result["stdout"]
    assert out.count("helper()\n-> return i * 2") == 2, out
    assert "('i is', 0)" in out and "('i is', 1)" in out, out
    assert result["other"]["result"] == 40
    assert result["hits"] == WORK_HITS
    assert result["warnings"] == []


# ---- another tool's callbacks between lineprof's ----------------------------------------------


def callee() -> int:
    return 1  # @first


def caller() -> None:
    callee()  # @call


def _slow_on_callee(code: object, *args: object) -> None:
    if code is callee.__code__:
        targets.tick(10)  # a debugger stopping, coverage recording: the program's time


def _slow_tracer(frame: Any, event: str, arg: object) -> Any:
    if frame.f_code is callee.__code__ and event == "line":
        targets.tick(10)
    return _slow_tracer


@needs_monitoring
@pytest.mark.usefixtures("fake_clock")
@pytest.mark.parametrize("other", ["PY_START on a lower id", "LINE on a higher id", "settrace"])
def test_other_tools_callbacks_before_a_first_line_stay_in_the_calling_line(other: str) -> None:
    """sys.monitoring calls an event's tools from the highest id down: these run after
    lineprof's PY_START callback and before its first LINE callback of the frame.  That gap
    was taken out of the calling line as lineprof's own cost on 3.13: with a debugger stopping
    at the callee's first line the calling line read 0."""
    mon = sys.monitoring
    lp = LineProfiler(callee, caller, backend="monitoring")
    tool = {"PY_START on a lower id": mon.DEBUGGER_ID, "LINE on a higher id": 5}.get(other)
    event = mon.events.PY_START if tool == mon.DEBUGGER_ID else mon.events.LINE
    with lp:
        ours = _lineprof.tool_id()
        assert ours is not None and (
            tool is None or (tool < ours) == (event == mon.events.PY_START)
        )
        if tool is not None:
            mon.use_tool_id(tool, "other")
            mon.register_callback(tool, event, _slow_on_callee)
            mon.set_local_events(tool, callee.__code__, event)
        else:
            sys.settrace(_slow_tracer)
        try:
            caller()
        finally:
            sys.settrace(None)
            if tool is not None:
                mon.set_local_events(tool, callee.__code__, 0)
                mon.register_callback(tool, event, None)
                mon.free_tool_id(tool)
    assert by_mark(lp, caller) == {"call": (1, 10)}
    assert by_mark(lp, callee) == {"first": (1, 0)}


@needs_monitoring
def test_an_id_the_program_freed_is_left_with_nothing_set() -> None:
    """The program frees lineprof's tool id mid-session (free_tool_id keeps a tool's events and
    callbacks before 3.14): lineprof takes the free id back to clear them at the stop, so the
    next tool to take it does not get lineprof's events."""
    mon = sys.monitoring
    lp = LineProfiler(callee, backend="monitoring")
    with lp:
        callee()
        tool = _lineprof.tool_id()
        assert tool is not None
        mon.free_tool_id(tool)
        callee()
    assert mon.get_tool(tool) is None
    assert mon.get_events(tool) == 0 and mon.get_local_events(tool, callee.__code__) == 0
    mon.use_tool_id(tool, "next")
    try:
        assert mon.register_callback(tool, mon.events.LINE, None) is None
    finally:
        mon.free_tool_id(tool)

"""%lprun and %%lprun in a real IPython InteractiveShell, on every backend, with the fake clock:
functions defined in the shell call ``tick(ns)`` to charge exactly ns to the calling line.

The display object (text report and HTML table) is tested without IPython at the end."""

from __future__ import annotations

import builtins
import dataclasses
import linecache
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lineprof import LineProfiler, LineStats, _lineprof, load_stats
from lineprof.lprun_display import LprunReport, format_html
from lineprof.report import format_text
from lineprof.stats import TIMES_CORRECTED
from tests import targets
from tests.conftest import by_mark

pytestmark = pytest.mark.usefixtures("fake_clock")

ROOT = Path(__file__).resolve().parent.parent


# ---- the shell ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _shell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    saved = os.environ.get("IPYTHONDIR")
    os.environ["IPYTHONDIR"] = str(tmp_path_factory.mktemp("ipython"))  # not the user's own
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    try:
        yield InteractiveShell.instance(config=config)
    finally:
        if saved is None:
            del os.environ["IPYTHONDIR"]
        else:
            os.environ["IPYTHONDIR"] = saved


@pytest.fixture
def ip(_shell: Any, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The shell with the extension loaded, profiling on the test's backend."""
    monkeypatch.setenv("LINEPROF_BACKEND", backend)
    assert _shell.extension_manager.load_extension("lineprof") in (None, "already loaded")
    names = set(_shell.user_ns)
    _shell.user_ns["tick"] = _lineprof.advance_fake_clock
    yield _shell
    for name in set(_shell.user_ns) - names:
        del _shell.user_ns[name]


@dataclasses.dataclass
class Run:
    result: Any  # IPython's ExecutionResult
    stdout: str
    stderr: str
    displayed: list[dict[str, str]]  # one mimebundle per display()

    @property
    def text(self) -> str:
        (bundle,) = self.displayed
        return bundle["text/plain"]

    @property
    def html(self) -> str:
        (bundle,) = self.displayed
        return bundle["text/html"]


def run(ip: Any, source: str) -> Run:
    """Run a cell as typed, capturing what it prints and displays."""
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        result = ip.run_cell(textwrap.dedent(source).strip("\n") + "\n")
    return Run(result, captured.stdout, captured.stderr, [o.data for o in captured.outputs])


def define(ip: Any, source: str) -> None:
    result = ip.run_cell(textwrap.dedent(source).strip("\n") + "\n")
    assert result.success, result.error_in_exec


def rows(lp: LineProfiler, qualname: str) -> list[tuple[int, int, int]]:
    """[(line, hits, time)] of the one function named ``qualname``."""
    (found,) = [r for (_, _, name), r in lp.get_stats().timings.items() if name == qualname]
    return found


WORK = """
def work(n):
    total = 0
    for i in range(n):
        tick(2)
        total += i
    return total
"""
WORK_ROWS = [(2, 1, 0), (3, 4, 0), (4, 3, 6), (5, 3, 0), (6, 1, 0)]  # work(3)


# ---- %load_ext ----------------------------------------------------------------------------


def test_load_ext_registers_both_magics(ip: Any) -> None:
    assert ip.find_line_magic("lprun") is not None
    assert ip.find_cell_magic("lprun") is not None
    assert ip.find_cell_magic("lprun_all") is not None
    assert "lineprof" in ip.extension_manager.loaded


def test_importing_lineprof_does_not_import_ipython() -> None:
    code = "import sys, lineprof; print('IPython' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout == "False\n"


# ---- %lprun -f, -m ------------------------------------------------------------------------


def test_lprun_f_exact_hits_and_text_report(ip: Any) -> None:
    define(ip, WORK)
    out = run(ip, "%lprun -f work result = work(3)")
    assert out.result.success and ip.user_ns["result"] == 3
    code = ip.user_ns["work"].__code__
    expected = format_text({(code.co_filename, 1, "work"): WORK_ROWS}, 1e-9, times=TIMES_CORRECTED)
    assert out.text == expected.rstrip("\n")  # the text report, as print_stats prints it
    assert "     4         3          6.0      2.0    100.0          tick(2)" in out.text
    assert out.stdout == "" and out.stderr == ""


def test_lprun_r_returns_the_profiler_idle(ip: Any) -> None:
    define(ip, WORK)
    lp = ip.run_line_magic("lprun", "-r -f work work(3)")
    assert isinstance(lp, LineProfiler)
    assert lp.backend is None and lp.enable_count == 0
    assert rows(lp, "work") == WORK_ROWS
    assert ip.run_line_magic("lprun", "-f work work(3)") is None


def test_lprun_several_f_methods_classes_and_partials(ip: Any) -> None:
    define(
        ip,
        """
        import functools
        class Box:
            def get(self):
                tick(1)
                return self.put(2)
            def put(self, n):
                tick(n)
                return n
        def helper(a, b):
            tick(a + b)
        box = Box()
        """,
    )
    lp = ip.run_line_magic("lprun", "-r -f box.get -f functools.partial(helper,1) box.get()")
    assert {name for _, _, name in lp.get_stats().timings} == {"Box.get", "helper"}
    assert rows(lp, "Box.get") == [(4, 1, 1), (5, 1, 2)]  # put is not profiled: charged to 5
    lp = ip.run_line_magic("lprun", "-r -f Box helper(1, 2) or box.get()")  # a class: its methods
    assert rows(lp, "Box.put") == [(7, 1, 2), (8, 1, 0)]
    assert rows(lp, "Box.get") == [(4, 1, 1), (5, 1, 2)]


def test_lprun_m_profiles_a_module(ip: Any) -> None:
    ip.user_ns["targets"] = targets
    lp = ip.run_line_magic("lprun", "-r -m tests.targets targets.basic(2)")
    assert len(lp.functions) > 10
    assert by_mark(lp, targets.basic) == {
        "zero": (1, 0),
        "tick5": (1, 5),
        "loop": (3, 0),
        "body": (2, 4),
        "add": (2, 0),
        "ret": (1, 0),
    }
    lp = ip.run_line_magic("lprun", "-r -f targets targets.basic(2)")  # -f with a module
    assert len(lp.functions) > 10 and by_mark(lp, targets.basic)["body"] == (2, 4)


def test_statement_is_kept_verbatim(ip: Any) -> None:
    define(ip, WORK)
    # Spaces inside strings, quotes and braces survive (no shell-word splitting, no $/{}
    # expansion by IPython); -- ends the options for a statement starting with '-'.
    out = run(ip, """%lprun -f work print("a  b", 'c', {1: 2}, f"{work(2)}")""")
    assert out.stdout == "a  b c {1: 2} 1\n"
    out = run(ip, "%lprun -f work -- -work(3)")
    assert out.result.success and "Function: work at line 1" in out.text


def test_quoted_option_values(ip: Any, tmp_path: Path) -> None:
    define(ip, WORK)
    ip.user_ns["d"] = {"my key": ip.user_ns["work"]}
    target = tmp_path / "my report.txt"
    out = run(ip, f"""%lprun -f "d['my key']" -T "{target}" work(1)""")
    assert out.result.success
    assert "Function: work at line 1" in target.read_text()


def test_bare_profile_is_the_profiler_during_the_run(ip: Any) -> None:
    # line_profiler puts its profiler in builtins as `profile` while the statement runs, so
    # code written for kernprof's bare @profile is profiled.
    assert not hasattr(builtins, "profile")
    source = "@profile\ndef deco_target():\n    tick(4)\ndeco_target()\n"
    ip.user_ns["source"] = source
    lp = ip.run_line_magic("lprun", "-r exec(source)")
    assert rows(lp, "deco_target") == [(3, 1, 4)]
    assert not hasattr(builtins, "profile")


def test_nothing_to_profile_says_so(ip: Any) -> None:
    out = run(ip, "%lprun x = 1 + 1")
    assert out.result.success and ip.user_ns["x"] == 2
    assert out.text == "Timer unit: 1e-09 s\nTimes: lineprof's own measured cost taken out"
    assert "*** Nothing was profiled: name functions with -f or modules with -m." in out.stdout


# ---- report options -----------------------------------------------------------------------


def test_z_and_s_strip_functions_that_took_no_time(ip: Any) -> None:
    define(ip, WORK + "\ndef idle():\n    pass\n")
    out = run(ip, "%lprun -f work -f idle work(3)")
    assert "Function: idle" in out.text and "Function: work" in out.text
    for flag in ("-z", "-s"):  # -s is line_profiler's old spelling of -z
        out = run(ip, f"%lprun {flag} -f work -f idle work(3)")
        assert "Function: idle" not in out.text and "Function: work" in out.text


def test_u_sets_the_output_unit(ip: Any) -> None:
    define(ip, "def slow():\n    tick(3_000_000)\n")
    out = run(ip, "%lprun -u 1e-3 -f slow slow()")
    assert out.text.startswith(
        "Timer unit: 0.001 s\nTimes: lineprof's own measured cost taken out\n\n"
        "Total time: 0.003 s\n"
    )
    assert "     2         1          3.0      3.0    100.0      tick(3_000_000)" in out.text
    assert "<td " in out.html and ">3.0</td>" in out.html


def test_summarize_and_sort(ip: Any) -> None:
    define(ip, "def big():\n    tick(9)\ndef small():\n    tick(1)\n")
    out = run(ip, "%lprun --summarize --sort -f big -f small big() or small()")
    text = out.text
    assert text.index("Function: small") < text.index("Function: big")  # dearest last
    lines = text.splitlines()
    assert lines[-2].endswith(":3 - small") and lines[-1].endswith(":1 - big")
    assert lines[-1].startswith("  0.00 seconds - <ipython-input-")
    assert "Summary" in out.html
    out = run(ip, "%lprun -f big -f small big() or small()")
    assert " seconds - " not in out.text


# ---- %%lprun ------------------------------------------------------------------------------

CELL = """
%%lprun{options}
def square(x):
    tick(3)
    return x * x

total = 0
for i in range(2):
    total += square(i)
tick(1)
# the end
"""


def test_cell_profiles_its_lines_and_its_functions(ip: Any) -> None:
    out = run(ip, CELL.format(options=" -r"))
    assert out.result.success and ip.user_ns["total"] == 1
    lp = out.result.result
    assert isinstance(lp, LineProfiler)
    assert rows(lp, "<module>") == [(1, 1, 0), (5, 1, 0), (6, 3, 0), (7, 2, 6), (8, 1, 1)]
    assert rows(lp, "square") == [(2, 2, 6), (3, 2, 0)]
    ((filename, _, _),) = [key for key in lp.get_stats().timings if key[2] == "square"]
    assert filename.startswith("<ipython-input-")
    # The whole cell is shown, to its last line.
    text = out.text
    cell_table = text.split("\n\nTotal time")[1]
    assert "Function: <module> at line 1" in cell_table
    assert "     8         1          1.0      1.0     14.3  tick(1)\n" in cell_table
    assert cell_table.endswith("\n     9                                           # the end")
    assert "# the end" in out.html


def test_cell_finds_methods_nested_functions_and_honours_f(ip: Any) -> None:
    define(ip, "def outside():\n    tick(5)\n")
    cell = """
    %%lprun -r -f outside
    class Shape:
        def area(self):
            def inner():
                tick(2)
                return outside()
            return inner()
    Shape().area()
    double = lambda v: 2 * v
    squares = [double(v) for v in range(3)]
    """
    lp = run(ip, cell).result.result
    names = {name for _, _, name in lp.get_stats().timings}
    # Lambdas, comprehensions and class bodies are not separate tables: their time is on the
    # line that runs them.
    assert names == {"<module>", "Shape.area", "Shape.area.<locals>.inner", "outside"}
    assert rows(lp, "Shape.area.<locals>.inner") == [(4, 1, 2), (5, 1, 5)]
    assert rows(lp, "outside") == [(2, 1, 5)]


ALL_CELL = """
%%lprun_all{options}
def outer(n):
    def inner(x):
        tick(2)
        return x
    return [inner(i) for i in range(n)]
result = outer(2)
tick(1)
"""


def test_lprun_all_profiles_the_cell_and_every_function_it_defines(ip: Any) -> None:
    out = run(ip, ALL_CELL.format(options=" -r -t"))
    assert out.result.success and ip.user_ns["result"] == [0, 1]
    lp = out.result.result
    assert isinstance(lp, LineProfiler)
    assert {name for _, _, name in lp.get_stats().timings} == {
        "<module>",
        "outer",
        "outer.<locals>.inner",
    }
    assert rows(lp, "<module>") == [(1, 1, 0), (6, 1, 4), (7, 1, 1)]
    assert rows(lp, "outer.<locals>.inner") == [(3, 2, 4), (4, 2, 0)]
    assert "Function: <module> at line 1" in out.text and "tick(1)" in out.text
    elapsed = ip.user_ns["_total_time_taken"]
    assert isinstance(elapsed, float) and 0 < elapsed < 60


def test_lprun_all_p_profiles_only_the_cell_lines(ip: Any) -> None:
    lp = run(ip, ALL_CELL.format(options=" -rp")).result.result
    assert {name for _, _, name in lp.get_stats().timings} == {"<module>"}
    assert rows(lp, "<module>") == [(1, 1, 0), (6, 1, 4), (7, 1, 1)]
    assert "_total_time_taken" not in ip.user_ns  # without -t


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%%lprun_all -f work", "%%lprun_all: unknown option -f (options: -D -T -u -r -z -t -p"),
        ("%%lprun_all -s", "%%lprun_all: unknown option -s"),
        ("%%lprun_all -z work(1)", "%%lprun_all takes only options on its first line"),
    ],
)
def test_lprun_all_options_are_line_profilers(ip: Any, line: str, message: str) -> None:
    out = run(ip, line + "\nx = 1\n")
    assert type(out.result.error_in_exec).__name__ == "UsageError"
    assert message in out.stderr
    assert "x" not in ip.user_ns


def test_lprun_all_and_line_profiler_agree_on_hits(ip: Any, tmp_path: Path) -> None:
    """The same cell under line_profiler's %%lprun_all (in its own shell, in a child)."""
    pytest.importorskip("line_profiler")
    cell = ALL_CELL.replace("tick(2)", "pass").replace("tick(1)", "pass")
    ours = run(ip, cell.format(options=" -r")).result.result
    our_hits = {
        name: [(line, hits) for line, hits, _ in rows(ours, name)]
        for _, _, name in ours.get_stats().timings
    }
    script = (
        "import textwrap\n"
        "from IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\n"
        "ip.extension_manager.load_extension('line_profiler')\n"
        f"cell = {cell.format(options=' -r')!r}\n"
        "lp = ip.run_cell(cell).result\n"
        "hits = {k[2]: [(l, h) for l, h, _ in v] for k, v in lp.get_stats().timings.items()}\n"
        "print('HITS', sorted(hits.items()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("HITS ")]
    theirs = dict(eval(line.removeprefix("HITS ")))
    # line_profiler names the cell's code <lprof_cell>
    assert our_hits["<module>"] == theirs.pop("<lprof_cell>")

    # Before 3.11 code objects have no qualified name: line_profiler shows co_name there.
    def short(names: dict[str, Any]) -> dict[str, Any]:
        return {
            k.rsplit(".", 1)[-1] if sys.version_info < (3, 11) else k: v for k, v in names.items()
        }

    assert short(our_hits) == short({"<module>": our_hits["<module>"], **theirs})


def test_cell_shows_what_was_typed(ip: Any) -> None:
    out = run(ip, "%%lprun\nx = %pwd\ny = 1\n")
    assert out.result.success and ip.user_ns["x"] == os.getcwd()
    assert "  x = %pwd\n" in out.text


def test_cell_options_line_takes_only_options(ip: Any) -> None:
    out = run(ip, "%%lprun -z work(1)\nx = 1\n")
    assert isinstance(out.result.error_in_exec, Exception)
    assert "%%lprun takes only options on its first line" in out.stderr
    assert "x" not in ip.user_ns


def test_cell_syntax_error_is_a_usage_error(ip: Any) -> None:
    out = run(ip, "%%lprun\nx = 1\ny = (x +\n")
    assert type(out.result.error_in_exec).__name__ == "UsageError"
    assert out.stderr.startswith("UsageError: %%lprun: the code does not compile:\n  line 2\n")
    assert "SyntaxError" in out.stderr and "Traceback" not in out.stdout + out.stderr


# ---- saving: -D, -T -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["out.lprof", "out.json"])
def test_D_saves_results_that_load_back(ip: Any, tmp_path: Path, name: str) -> None:
    define(ip, WORK)
    path = tmp_path / name
    out = run(ip, f"%lprun -r -D {path} -f work work(3)")
    lp = out.result.result
    assert load_stats(path) == lp.get_stats()
    assert load_stats(path).timings[(ip.user_ns["work"].__code__.co_filename, 1, "work")] == (
        WORK_ROWS
    )
    assert out.stdout.startswith(f"\n*** Profile results saved to file {str(path)!r}.\n")


def test_T_saves_the_text_report(ip: Any, tmp_path: Path) -> None:
    define(ip, WORK)
    path = tmp_path / "report.txt"
    out = run(ip, f"%lprun -T {path} -f work work(3)")
    assert path.read_text() == out.text + "\n"
    assert "     4         3          6.0      2.0    100.0          tick(2)\n" in path.read_text()
    assert out.stdout == f"\n*** Profile printout saved to text file {str(path)!r}.\n"


def test_cell_T_and_D(ip: Any, tmp_path: Path) -> None:
    out = run(ip, CELL.format(options=f" -T {tmp_path}/cell.txt -D {tmp_path}/cell.json"))
    text = (tmp_path / "cell.txt").read_text()
    assert text == out.text + "\n" and "# the end" in text
    saved = load_stats(tmp_path / "cell.json")
    assert {name for _, _, name in saved.timings} == {"<module>", "square"}
    if hasattr(saved, "sources"):  # results that keep the source keep the whole cell
        ((key, source),) = [(k, v) for k, v in saved.sources.items() if k[2] == "<module>"]
        assert source[0] == "def square(x):" and source[-1] == "# the end" and len(source) == 9


def test_relative_paths_and_tilde(ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    define(ip, WORK)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    out = run(ip, "%lprun -T rel.txt -D ~/r.lprof -f work work(1)")
    assert out.result.success
    assert (tmp_path / "rel.txt").exists() and (tmp_path / "home" / "r.lprof").exists()


# ---- errors in the profiled code ----------------------------------------------------------

FAILING = """
def fails(n):
    tick(1)
    if n > 1:
        raise ValueError("too big")
    return n
"""


def test_exception_shows_results_then_the_traceback(ip: Any, tmp_path: Path) -> None:
    define(ip, FAILING)
    out = run(ip, f"%lprun -T {tmp_path}/r.txt -D {tmp_path}/r.lprof -f fails fails(2)")
    error = out.result.error_in_exec
    assert isinstance(error, ValueError) and str(error) == "too big"
    assert "     4         1          0.0      0.0      0.0          raise ValueError" in out.text
    # Results saved, a note, then IPython's traceback of the user's code only.
    assert (tmp_path / "r.txt").read_text() == out.text + "\n"
    assert load_stats(tmp_path / "r.lprof").timings
    note = "*** ValueError raised in the code being profiled: the results above stop there."
    assert note in out.stdout
    traceback = re.sub("\x1b\\[[0-9;]*m", "", out.stdout[out.stdout.index(note) :])
    assert "Traceback" in traceback and "too big" in traceback
    assert "raise ValueError" in traceback
    assert re.search(r"\nCell In\[\d+\], line 1\n----> 1 fails\(2\)\n", traceback)  # statement
    assert "lineprof/" not in traceback  # none of lineprof's frames


def test_exception_in_a_cell(ip: Any) -> None:
    out = run(ip, "%%lprun\ntick(2)\n{}['missing']\ntick(100)\n")
    assert isinstance(out.result.error_in_exec, KeyError)
    assert "     2         1          0.0      0.0      0.0  {}['missing']" in out.text
    assert "     3                                           tick(100)" in out.text


def test_code_is_named_after_the_running_cell(ip: Any) -> None:
    # IPython 9 counts execution_count up before a cell runs, IPython 8 after: either way the
    # cell's code is named (and tracebacks label it) In[n] of the cell being run.
    result = ip.run_cell("%%lprun -r\nx = 1\n", store_history=True)
    ((filename, _, _),) = result.result.get_stats().timings
    assert filename.startswith(f"<ipython-input-{result.execution_count}-")


@pytest.mark.parametrize(
    ("statement", "name"), [("sys.exit(3)", "SystemExit"), ("raise KeyboardInterrupt", "")]
)
def test_systemexit_and_keyboardinterrupt_are_caught(ip: Any, statement: str, name: str) -> None:
    define(ip, f"import sys\ndef stops():\n    tick(7)\n    {statement}\n    tick(100)\n")
    out = run(ip, "%lprun -f stops stops()")
    assert out.result.success  # caught, as line_profiler does
    assert "     3         1          7.0      7.0    100.0      tick(7)" in out.text
    name = name or "KeyboardInterrupt"
    assert out.stdout == f"\n*** {name} exception caught in code being profiled.\n"


# ---- bad options --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%lprun -x work(1)", "%lprun: unknown option -x (options: -f -m -D -T -u -r -s -z -M"),
        ("%lprun --bogus work(1)", "%lprun: unknown option --bogus"),
        ("%lprun -f nope work(1)", "%lprun -f nope: could not find it (NameError: name 'nope'"),
        ("%lprun -m no_such_module_xyz work(1)", "%lprun -m no_such_module_xyz: could not import"),
        ("%lprun -u -1 -f work work(1)", "%lprun -u -1: the output unit is a number of seconds"),
        ("%lprun -f work", "%lprun needs a statement to run"),
        ("%lprun -f", "%lprun -f needs a value"),
        ("%lprun -f 'work work(1)", "%lprun -f: No closing quotation"),
        ("%lprun -T /no/such/dir/r.txt -f work work(1)", "the directory /no/such/dir does not"),
        ("%lprun -D {tmp} -f work work(1)", "is a directory"),
        ("%lprun -f work work(1", "%lprun: the code does not compile:\n  line 1\n    work(1\n"),
    ],
)
def test_bad_options_give_one_clear_message(
    ip: Any, tmp_path: Path, line: str, message: str
) -> None:
    define(ip, "calls = []\ndef work(n):\n    calls.append(n)\n")
    out = run(ip, line.format(tmp=tmp_path))
    assert type(out.result.error_in_exec).__name__ == "UsageError"
    assert out.stderr.startswith("UsageError: ")
    assert message in out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert ip.user_ns["calls"] == []  # nothing ran
    assert out.displayed == []


def test_u_that_is_not_a_number_raises_type_error_as_line_profiler(ip: Any) -> None:
    define(ip, "calls = []\ndef work(n):\n    calls.append(n)\n")
    for line in ("%lprun -u abc -f work work(1)", "%%lprun_all -u 1ms\nwork(1)"):
        out = run(ip, line)
        error = out.result.error_in_exec
        assert type(error) is TypeError
        assert str(error) == "Timer unit setting must be a float."  # line_profiler's words
        assert ip.user_ns["calls"] == []  # checked before anything ran
        assert out.displayed == []


def test_a_c_function_is_left_out_with_a_warning_and_the_statement_runs(ip: Any) -> None:
    """As line_profiler 5.1: ``-f len`` warns that there is no Python code, then runs."""
    define(ip, "calls = []\ndef work(n):\n    calls.append(n)\n")
    with pytest.warns(UserWarning, match="no Python code"):
        out = run(ip, "%lprun -f len -f work work(len([1, 2]))")
    assert out.result.success
    assert ip.user_ns["calls"] == [2]
    assert "Function: work at line" in out.text


def test_unavailable_backend_is_a_usage_error(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEPROF_BACKEND", "magic")
    out = run(ip, "%lprun x = 1")
    assert out.stderr.startswith("UsageError: %lprun: backend 'magic' is not available")


# ---- the seed workflow --------------------------------------------------------------------

ATTENTION = """
import math

def attention(q, k, v, mask):
    d = len(q[0])
    out = []
    for i, qi in enumerate(q):
        scores = []
        for j, kj in enumerate(k):
            s = sum(a * b for a, b in zip(qi, kj)) / math.sqrt(d)
            scores.append(s if mask[i][j] else -math.inf)
        m = max(scores)
        w = [math.exp(s - m) for s in scores]
        z = sum(w)
        out.append([sum(wj * vj[c] for wj, vj in zip(w, v)) / z for c in range(d)])
    return out

n, d = 4, 3
q = [[(i * d + c) / 10 for c in range(d)] for i in range(n)]
k = [[(i + c) / 7 for c in range(d)] for i in range(n)]
v = [[float(i == c) for c in range(d)] for i in range(n)]
mask = [[j <= i for j in range(n)] for i in range(n)]
"""


def test_seed_workflow(ip: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(ip, "%load_ext lineprof").result.success
    define(ip, ATTENTION)
    out = run(ip, "%lprun -T report.txt -f attention attention(q, k, v, mask)")
    assert out.result.success
    report = (tmp_path / "report.txt").read_text()
    assert report == out.text + "\n"
    assert "Function: attention at line 3" in report
    hits = {}
    for row in report.splitlines():
        fields = row.split()
        if len(fields) > 2 and fields[0].isdigit() and fields[1].isdigit():
            hits[int(fields[0])] = int(fields[1])
    n = 4  # four queries, four keys
    assert hits == {
        4: 1,
        5: 1,
        6: n + 1,
        7: n,
        8: n * (n + 1),
        9: n * n,
        10: n * n,
        11: n,
        12: n,
        13: n,
        14: n,
        15: 1,
    }
    assert out.stdout.endswith(
        f"*** Profile printout saved to text file {str(tmp_path / 'report.txt')!r}.\n"
    )


# ---- the display object, without IPython --------------------------------------------------

KEY = ("<cell-x>", 1, "<module>")
FUNC_KEY = ("<cell-x>", 2, "f")
SOURCE = "x = 1\ndef f(a, b):\n    return a < b and \"<&>\" != 'x'\n\ny = f(1, 2)\n# end\n\n"


@pytest.fixture
def cell_source() -> Iterator[None]:
    linecache.cache["<cell-x>"] = (len(SOURCE), None, SOURCE.splitlines(True), "<cell-x>")
    try:
        yield
    finally:
        del linecache.cache["<cell-x>"]


@pytest.mark.usefixtures("cell_source")
def test_report_text_shows_the_whole_cell() -> None:
    stats = LineStats({KEY: [(1, 1, 10), (2, 1, 0), (5, 1, 30)], FUNC_KEY: [(3, 1, 20)]}, 1e-9)
    plain = format_text(stats.timings, stats.unit)
    assert "# end" not in plain
    text = LprunReport(stats, whole=[KEY]).text()
    # format_text's report with the cell's last line appended to its table, nothing else.
    extra = "\n     6                                           # end"
    at = plain.index("\n\n", plain.index("y = f(1, 2)"))
    assert text == plain[:at] + extra + plain[at:]
    assert repr(LprunReport(stats, whole=[KEY])) == text.rstrip("\n")


@pytest.mark.usefixtures("cell_source")
def test_report_html_table() -> None:
    stats = LineStats({KEY: [(1, 1, 10), (2, 1, 0), (5, 1, 30)], FUNC_KEY: [(3, 2, 20)]}, 1e-9)
    page = LprunReport(stats, whole=[KEY])._repr_html_()
    assert page.startswith('<div class="lineprof">') and page.endswith("</div>\n")
    assert "<script" not in page and "<style" not in page  # self-contained, inline styles
    assert "Timer unit: 1e-09 s" in page
    assert "Function: <b>&lt;module&gt;</b> at line 1" in page
    assert "File: &lt;cell-x&gt;" in page
    for column in ["Line #", "Hits", "Time", "Per Hit", "% Time", "Line Contents"]:
        assert f">{column}</th>" in page
    # Escaped source; the function's row: line, hits, time, per hit, % time, contents.
    cells = page[page.index("Function: <b>f</b>") :].split("<td ")
    values = [cell.split(">", 1)[1].split("</td>")[0] for cell in cells[7:13]]
    assert values == [
        "3",
        "2",
        "20.0",
        "10.0",
        "100.0",
        "    return a &lt; b and &quot;&lt;&amp;&gt;&quot; != &#x27;x&#x27;",
    ]
    assert ">6</td>" in page and "# end</td>" in page  # the whole cell
    assert ">7</td>" not in page  # trailing blank lines are not
    assert page.count("<table") == 2


def test_report_html_options() -> None:
    a, b = ("a.py", 1, "a"), ("b.py", 1, "b")
    stats = LineStats({a: [(1, 1, 2_000_000)], b: [(1, 0, 0)]}, 1e-9)
    page = format_html(stats, output_unit=1e-3)
    assert "Timer unit: 0.001 s" in page and ">2.0</td>" in page
    assert "(source not available: a.py cannot be read)" in page
    assert "Function: <b>b</b>" in format_html(stats)
    assert "Function: <b>b</b>" not in format_html(stats, stripzeros=True)
    assert format_html(stats).index("<b>a</b>") < format_html(stats).index("<b>b</b>")
    assert format_html(stats, sort=True).index("<b>b</b>") < format_html(stats).index("<b>a</b>")
    summary = format_html(stats, summarize=True)
    assert "Summary" in summary and ">a.py:1</td>" in summary and ">0.00</td>" in summary


def test_lprun_M_is_memory_mode(ip: Any) -> None:
    define(ip, "def grow():\n    return bytearray(2**20)\n")
    lp = ip.run_line_magic("lprun", "-r -M -f grow kept = grow()")
    assert lp.memory
    memory = lp.get_stats().memory
    assert memory is not None
    ((line, (alloc, net, peak)),) = next(iter(memory.values())).items()
    assert line == 2 and 2**20 <= net <= alloc <= 2**20 + 65536 and peak >= 2**20
    out = run(ip, "%lprun -M -f grow kept = grow()")
    assert "Alloc        Net       Peak  Line Contents" in out.text
    assert "1.0 MiB    1.0 MiB    1.0 MiB      return bytearray(2**20)" in out.text
    assert ip.run_line_magic("lprun", "-r -f grow grow()").get_stats().memory is None

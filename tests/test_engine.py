"""The C engine's housekeeping: references, hooks left as found, tool ids shared politely."""

from __future__ import annotations

import gc
import os
import sys
import threading
from typing import Any

import pytest

from lineprof import LineProfiler, _lineprof
from tests import targets

needs_monitoring = pytest.mark.skipif(
    not _lineprof.HAVE_SYS_MONITORING, reason="sys.monitoring is CPython 3.12+"
)


def fresh_function(i: int) -> Any:
    namespace: dict[str, Any] = {}
    exec(f"def f{i}(x):\n    y = x + {i}\n    return y\n", namespace)
    return namespace[f"f{i}"]


def test_code_references_are_released(backend: str) -> None:
    func = fresh_function(0)
    code = func.__code__
    before = sys.getrefcount(code)
    lp = LineProfiler(func, backend=backend)
    assert sys.getrefcount(code) == before + 1  # the tracer holds one reference
    lp.runcall(func, 1)
    del lp
    gc.collect()
    assert sys.getrefcount(code) == before


def test_code_stays_alive_while_registered(backend: str) -> None:
    func = fresh_function(1)
    lp = LineProfiler(func, backend=backend)
    with lp:
        func(1)
    del func
    gc.collect()
    ((key, rows),) = lp.get_stats().timings.items()
    assert key[2] == "f1" and rows[0][1] == 1  # results outlive the function


def test_deleting_an_enabled_profiler_ends_the_session(backend: str) -> None:
    lp = LineProfiler(targets.basic, backend=backend)
    lp.enable()
    assert _lineprof.active_backend() == backend
    del lp
    gc.collect()
    assert _lineprof.active_backend() is None
    assert sys.gettrace() is None


def test_registering_again_after_release(backend: str) -> None:
    func = fresh_function(2)
    for _ in range(3):
        lp = LineProfiler(func, backend=backend)
        lp.runcall(func, 1)
        assert list(lp.get_stats().timings.values())[0][0][1] == 1
        del lp


def test_many_functions_profiled_and_released(backend: str) -> None:
    import tracemalloc

    funcs = [fresh_function(i) for i in range(300)]

    def cycle() -> None:
        lp = LineProfiler(*funcs, backend=backend)
        with lp:
            for f in funcs:
                f(1)
        lp.get_stats()

    tracemalloc.start()
    try:
        # Warm up until CPython's bounded free lists (argument tuples of the sys.monitoring
        # calls, mostly) are full; they hold memory but do not grow without bound.
        for _ in range(12):
            cycle()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            cycle()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    # A leaked table or entry per function would be over 300 * 100 bytes per cycle.
    assert grown < 16 * 1024, f"memory grew by {grown} bytes over 5 cycles"


@pytest.mark.parametrize("kind", ["trace", "profile"])
def test_thread_hook_is_restored_and_no_hook_left(kind: str) -> None:
    backend = "settrace" if kind == "trace" else "setprofile"
    if backend not in _lineprof.BACKENDS:
        pytest.skip(f"{backend} is not available here")
    get = getattr(threading, f"get{kind}")
    set_ = getattr(threading, f"set{kind}")

    def previous_hook(*args: Any) -> None:
        return None

    set_(previous_hook)
    try:
        lp = LineProfiler(targets.basic, backend=backend)
        with lp:
            assert get() is not previous_hook
        assert get() is previous_hook
        assert sys.gettrace() is None and sys.getprofile() is None
    finally:
        set_(None)


@needs_monitoring
@pytest.mark.usefixtures("fake_clock")
def test_takes_another_id_when_profiler_id_is_held(foreign_tools: list[int]) -> None:
    mon = sys.monitoring
    mon.use_tool_id(mon.PROFILER_ID, "someone-else")
    foreign_tools.append(mon.PROFILER_ID)
    seen: list[int] = []

    def their_callback(code: Any, line: int) -> None:
        seen.append(line)

    mon.register_callback(mon.PROFILER_ID, mon.events.LINE, their_callback)
    lp = LineProfiler(targets.basic, backend="monitoring")
    with lp:
        assert _lineprof.tool_id() not in (None, mon.PROFILER_ID)
        targets.basic(1)
    assert mon.get_tool(mon.PROFILER_ID) == "someone-else"
    assert mon.register_callback(mon.PROFILER_ID, mon.events.LINE, None) is their_callback
    assert sum(h for _, h, _ in lp.get_stats().timings[next(iter(lp.get_stats().timings))]) > 0


@needs_monitoring
@pytest.mark.usefixtures("fake_clock")
def test_all_ids_taken(foreign_tools: list[int]) -> None:
    mon = sys.monitoring
    for tool in (2, 3, 4, 5):
        if mon.get_tool(tool) is None:
            mon.use_tool_id(tool, "someone-else")
            foreign_tools.append(tool)
    with pytest.raises(RuntimeError, match="tool ids 2-5 are all held"):
        LineProfiler(targets.basic, backend="monitoring").enable()
    assert _lineprof.active_backend() is None
    lp = LineProfiler(targets.basic, backend="auto")
    with lp:
        assert lp.backend == "settrace"  # auto falls back to tracing
        targets.basic(1)
    assert lp.get_stats().timings


@needs_monitoring
@pytest.mark.usefixtures("fake_clock")
def test_cprofile_alongside() -> None:
    import cProfile

    prof = cProfile.Profile()
    prof.enable()  # takes PROFILER_ID
    try:
        lp = LineProfiler(targets.basic, backend="monitoring")
        with lp:
            targets.basic(2)
    finally:
        prof.disable()
    rows = dict((line, hits) for line, hits, _ in next(iter(lp.get_stats().timings.values())))
    assert sum(rows.values()) == 1 + 1 + 3 + 2 + 2 + 1
    assert any(getattr(entry.code, "co_name", "") == "basic" for entry in prof.getstats())


def test_fake_clock_guards() -> None:
    with pytest.raises(RuntimeError, match="fake clock is off"):
        _lineprof.advance_fake_clock(1)
    _lineprof.set_fake_clock(True, 5)
    try:
        with pytest.raises(ValueError):
            _lineprof.advance_fake_clock(-1)
        assert _lineprof.now() == 5
    finally:
        _lineprof.set_fake_clock(False)
    a = _lineprof.now()
    assert _lineprof.now() >= a


def test_tracer_rejects_bad_registrations() -> None:
    tracer = _lineprof.Tracer()
    with pytest.raises(TypeError):
        tracer.add_code(len, 1, [0], 0)
    code = fresh_function(3).__code__
    with pytest.raises(ValueError, match="out of range"):
        tracer.add_code(code, code.co_firstlineno, [0, 5], 0)
    with pytest.raises(ValueError):
        tracer.add_code(code, code.co_firstlineno, [], 0)
    assert tracer.codes == ()


@pytest.mark.skipif(
    bool(os.environ.get("LINEPROF_UNDER_VALGRIND")), reason="minutes under valgrind"
)
def test_ten_thousand_functions_profiled_and_unprofiled_in_a_loop(backend: str) -> None:
    import tracemalloc

    namespace: dict[str, Any] = {}
    exec(
        "".join(f"def f{i}(x):\n    y = x + {i}\n    return y\n" for i in range(10_000)),
        namespace,
    )
    funcs = [namespace[f"f{i}"] for i in range(10_000)]
    codes = [f.__code__ for f in funcs]
    refcounts = [sys.getrefcount(code) for code in codes]

    def cycle() -> None:
        lp = LineProfiler(*funcs, backend=backend)
        with lp:
            for f in funcs[::50]:
                f(1)
        assert len(lp.get_stats().timings) == 10_000

    tracemalloc.start()
    try:
        for _ in range(2):  # warm-up: free lists and caches fill
            cycle()
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(2):
            cycle()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    # Tables and entries for 10,000 functions are over a megabyte: a leak would show.
    assert grown < 64 * 1024, f"memory grew by {grown} bytes over 2 cycles"
    assert [sys.getrefcount(code) for code in codes] == refcounts


SOURCES = {
    "plain": b"def f():\n    return 1\n",
    "crlf": b"def f():\r\n    return 1\r\n",
    "cr": b"def f():\r    return 1\r",
    "mixed": b"a = 1\r\nb = 2\rc = 3\n\n",
    "no_final_newline": b"x = 1\ny = 2",
    "empty": b"",
    "bom": b"\xef\xbb\xbfx = '\xc3\xa9'\n",
    "non_ascii": "s = 'é€😀'\n".encode(),
    "form_feed_kept": b"a = 1\x0c\nb = '\xe2\x80\xa8'\n",
    "latin1_declared": b"# -*- coding: latin-1 -*-\ns = '\xe9'\n",
    "not_utf8": b"s = '\xe9'\n",
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_source_lines_match_linecache(tmp_path: Any, name: str) -> None:
    """sources.py reads plain UTF-8 files itself (linecache's import is ~7 ms of start-up on
    3.10-3.12): what it keeps before linecache is imported, and what it puts in linecache's
    cache after, must be what linecache itself would have put there."""
    import linecache

    from lineprof import sources

    path = str(tmp_path / f"{name}.py")
    with open(path, "wb") as file:
        file.write(SOURCES[name])
    kept = sources._read_plain_utf8(path)  # what is kept while linecache is not imported
    linecache.cache.pop(path, None)
    ours = sources.lines(path)
    ours_entry = linecache.cache.get(path)
    linecache.cache.pop(path, None)
    theirs = linecache.getlines(path)
    assert ours == theirs
    assert ours_entry == linecache.cache.get(path)
    if kept is not None:
        assert (*kept, path) == linecache.cache.get(path)
    linecache.cache.pop(path, None)


def _run_probe(tmp_path: Any, source: str, *args: Any) -> None:
    """Run ``source`` as a script (python -c puts its text in linecache on 3.13) in a fresh
    interpreter with -S (an editable install's import hook, run by site, may import
    linecache itself); it must print ok."""
    import subprocess

    from tests.conftest import ROOT

    probe = tmp_path / "probe.py"
    probe.write_text(source)
    run = subprocess.run(
        [sys.executable, "-S", str(probe), *map(str, args)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


HANDOVER = """
import os, sys
from lineprof import sources
first, second = sys.argv[1:]
read = sources.lines(first)
assert "linecache" not in sys.modules, "read without linecache"
assert read == ["def f():\\n", "    return 1\\n"], read
import linecache
sources.lines(second)
assert linecache.cache[first][2] is read, "handed over: the very lines rows were counted from"
linecache.checkcache(first)
assert linecache.cache[first][2] is read, "unchanged: kept"
with open(first, "a") as file:
    file.write("x = 2\\n")
linecache.checkcache(first)
assert first not in linecache.cache, "edited: dropped, as linecache drops its own"
assert sources.lines(first)[-1] == "x = 2\\n"
print("ok")
"""


def test_sources_read_before_linecache_are_handed_to_it(tmp_path: Any) -> None:
    """A program that has not imported linecache does not import it for lineprof; once it
    has, linecache's cache holds what was read before, with the size and time
    ``linecache.checkcache`` checks."""
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text("def f():\n    return 1\n")
    second.write_text("y = 1\n")
    _run_probe(tmp_path, HANDOVER, first, second)


PARTIAL = """
import importlib.machinery, sys, types
from lineprof import sources
plain, declared = sys.argv[1:]
# linecache as a program's import of it leaves it while its body runs
module = types.ModuleType("linecache")
module.__spec__ = importlib.machinery.ModuleSpec("linecache", None)
module.__spec__._initializing = True
sys.modules["linecache"] = module
assert sources.lines(plain) == ["x = 1\\n"], "read here"
assert sources.lines(declared) == [], "tokenize's to read: not now"
module.__spec__._initializing = False
print("ok")
"""


def test_sources_while_the_program_is_importing_linecache(tmp_path: Any) -> None:
    """A session may finish from a signal handler (multiprocessing ends pool workers with
    SIGTERM) while the program is importing linecache: its half-made module is left alone."""
    plain, declared = tmp_path / "plain.py", tmp_path / "declared.py"
    plain.write_text("x = 1\n")
    declared.write_bytes(b"# -*- coding: latin-1 -*-\ns = '\xe9'\n")
    _run_probe(tmp_path, PARTIAL, plain, declared)


# ---- a def's syntax from its own block (codemap._block_syntax) -------------------------------


def _codes_of(module: Any) -> list[Any]:
    """Every function's and method's code in ``module``, nested code included."""
    import types

    found: list[Any] = []
    todo: list[Any] = []
    for value in vars(module).values():
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            todo.append(value.__code__)
        elif isinstance(value, type) and value.__module__ == module.__name__:
            todo.extend(
                member.__code__
                for member in vars(value).values()
                if isinstance(member, types.FunctionType)
            )
    while todo:
        code = todo.pop()
        found.append(code)
        todo.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return found


SYNTAX_MODULES = ["argparse", "typing", "inspect", "dataclasses", "json.decoder", "tests.targets"]
SYNTAX_MODULES += ["email.message", "asyncio.tasks", "tests.test_entry", "lineprof.profiler"]


def _block_range(code: Any) -> tuple[list[str], int, int]:
    from lineprof import codemap, sources

    lines = sources.lines(code.co_filename)
    start = code.co_firstlineno - 1
    end = max(
        codemap._last_line_spanned(code), start + codemap._indented_block_length(lines, start)
    )
    return lines, start, min(end, len(lines))


def _read_as_the_file_does(codes: list[Any], how: str) -> int:
    """How many of ``codes`` the block reading ``how`` ("lines" or "tree") reads; asserts that
    each reads as the whole file's tree does: rows over the code's lines, and block end."""
    from lineprof import codemap

    read = 0
    for code in codes:
        lines, start, end = _block_range(code)
        if how == "lines":
            block = codemap._lexical_syntax(code, lines, start, end)
        else:
            block = codemap._parsed_syntax(lines, start, end, code.co_filename)
        if block is None:
            continue
        read += 1
        whole = codemap._file_syntax(code.co_filename)
        first = code.co_firstlineno
        last = max([first, *codemap.code_lines(code)])
        for line in range(first, last + 1):
            assert block.heads.get(line) == whole.heads.get(line), (code, line, how)
        assert block.block_ends.get(first) == whole.block_ends.get(first), (code, how)
    return read


@pytest.mark.parametrize("how", ["lines", "tree"])
@pytest.mark.parametrize("name", SYNTAX_MODULES)
def test_a_defs_own_block_reads_as_its_file_does(name: str, how: str) -> None:
    """Reading only a def's block, from its logical lines or from the syntax tree of the block,
    gives the rows and the block end that parsing its whole file gives, for every function,
    method and nested function of these modules."""
    import importlib

    module = importlib.import_module(name)
    codes = [c for c in _codes_of(module) if not c.co_name.startswith("<")]
    assert codes
    read = _read_as_the_file_does(codes, how)
    # Most defs are read from their lines (2,500 functions of 30 modules: 99% on 3.10-3.13);
    # those with a decorated definition inside (many in tests.test_entry) are left to the tree.
    assert read >= (0.95 if how == "tree" else 0.6) * len(codes), (read, len(codes))


# Lines a scan could misread: each def must read as the tree has it, or be left to the tree.
TRICKY = r'''
def strings(x):
    a = "#(" + '[' + """
  ) # """ + r"\\" + '\''
    b = f"{x!r:>{10}}" f'{{(' "}}"
    return a, b


def joined(x):
    y = 1 + \
        2
    if x \
            and y:
        # a comment under a header
        pass
    return y


def colons(x, f=lambda: 1) -> "a:b":
    if (n := x): return [n][0:1]
    while x: x -= 1
    z: dict = {1: (
        2)}
    g = lambda: (
        3)
    return z, g


def blocks(x):
    try:

        # before the first statement
        pass
    except (ValueError,
            TypeError):
        pass
    else:
        # not the else's
        pass
    finally:
        pass
    match x:
        # first case next
        case [1,
              2]:
            pass
        case _:
            pass
    return [
        i
        for i in range(3)  # )]
    ]


def one_line_block():
    for i in range(
        3): pass


def header(
    a,
    b,
):
    # a comment before the body
    """Doc
    string."""
    if"a"in a: return 1
    return 2


def nested(x):
    def inner(
        y,
    ):
        return (y,
                1)

    class Inner:
        z = (1,
             2)

    return inner, Inner


@staticmethod
@property
def decorated(): pass
'''[1:]

# From 3.12 (PEP 701) an f-string's fields may hold its own quotes.
TRICKY_312 = """\
def nested_quotes(d):
    a = f"{d["("]}" + (
        f"{d['k']}")
    return f"{'"'}", a
"""


def test_lines_a_scan_could_misread(tmp_path: Any) -> None:
    import types

    from lineprof import codemap

    sources = [TRICKY] + ([TRICKY_312] if sys.version_info >= (3, 12) else [])
    read = total = 0
    for number, source in enumerate(sources):
        path = tmp_path / f"tricky{number}.py"
        path.write_text(source)
        module = compile(source, str(path), "exec")
        codes = [c for c in module.co_consts if isinstance(c, types.CodeType)]
        todo = list(codes)
        while todo:
            code = todo.pop()
            nested = [c for c in code.co_consts if isinstance(c, types.CodeType)]
            codes += [c for c in nested if not c.co_name.startswith("<")]
            todo += nested
        total += len(codes)
        read += _read_as_the_file_does(codes, "lines")
        assert _read_as_the_file_does(codes, "tree") == len(codes)
        codemap._syntax_cache.clear()
    assert read >= total // 2, (read, total)


def test_a_block_that_parses_short_of_its_end_is_extended(tmp_path: Any) -> None:
    """On 3.10 no instruction marks a closing bracket alone on the last line: the block is
    extended line by line until it parses."""
    from lineprof import codemap

    path = tmp_path / "closing.py"
    path.write_text(
        "class C:\n"
        "    def f(\n"
        "        self,\n"
        "        a,\n"
        "    ):\n"
        "        return g(\n"
        "            a,\n"
        "        )\n"
        "\n"
        "\n"
        "def g(a):\n"
        "    return a\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    code = namespace["C"].f.__code__
    block = codemap._block_syntax(code)
    assert block is not None
    assert block.block_ends[2] == 8
    assert block.heads == {3: 2, 4: 2, 5: 2, 7: 6, 8: 6}
    assert codemap.block_end(str(path), 2) == 8


# A decorated definition inside: its lines alone do not say how its rows go.
NEEDS_THE_TREE = (
    "def f{i}(x):\n    @staticmethod\n    def g():\n        pass\n    return (x +\n {i})\n\n"
)


def test_a_files_many_functions_share_one_parse_of_it(tmp_path: Any) -> None:
    """The first few functions of a file that need the syntax tree parse their own blocks;
    past that (a module's every function registered, as -p does), the whole file is parsed
    once for the rest."""
    from lineprof import codemap

    path = tmp_path / "many.py"
    path.write_text("".join(NEEDS_THE_TREE.format(i=i) for i in range(20)))
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    rows = [codemap.layout(namespace[f"f{i}"].__code__).rows for i in range(20)]
    # The decorator and its def are one statement; the return's second line counts on its first.
    assert rows == [[0, 1, 1, 3, 4, 4]] * 20
    assert codemap._blocks_parsed[str(path)] == codemap._BLOCKS_BEFORE_WHOLE_FILE
    assert str(path) in codemap._syntax_cache


def test_functions_read_from_their_lines_parse_nothing(tmp_path: Any) -> None:
    from lineprof import codemap

    path = tmp_path / "plain.py"
    path.write_text(
        "".join(f"def f{i}(x):\n    return (x +\n            {i})\n\n" for i in range(20))
    )
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    rows = [codemap.layout(namespace[f"f{i}"].__code__).rows for i in range(20)]
    assert rows == [[0, 1, 1]] * 20  # the statement's second line counts on its first
    assert str(path) not in codemap._blocks_parsed
    assert str(path) not in codemap._syntax_cache

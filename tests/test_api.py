"""line_profiler's API names and what each accepts."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import pickle
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import lineprof
from lineprof import LineProfiler, LineStats, ResultsFileError, load_stats
from tests import targets
from tests.conftest import by_mark

pytestmark = pytest.mark.usefixtures("fake_clock")

Make = Callable[..., LineProfiler]


def registered(lp: LineProfiler) -> set[str]:
    return {qualname for (_, _, qualname) in lp.get_stats().timings}


def test_public_names() -> None:
    for name in ["LineProfiler", "LineStats", "load_stats", "show_text", "show_func"]:
        assert name in lineprof.__all__ and hasattr(lineprof, name)
    assert isinstance(lineprof.__version__, str)


def test_add_function_variants(make: Make) -> None:
    thing = targets.Thing()
    lp = make()
    lp.add_function(thing.method)  # bound method
    lp.add_function(targets.Thing.__dict__["static"])  # staticmethod object
    lp.add_function(targets.Thing.__dict__["klass"])  # classmethod object
    lp.add_function(targets.Thing.prop)  # property: getter and setter
    lp.add_function(functools.partial(targets.basic, 1))
    lp.add_function(targets.gen)  # generator function
    lp.add_function(targets.coro)  # coroutine function
    assert registered(lp) == {
        "Thing.method",
        "Thing.static",
        "Thing.klass",
        "Thing.prop",
        "basic",
        "gen",
        "coro",
    }
    with lp:
        thing.method(1)
        targets.Thing.static(2)
        targets.Thing.klass(3)
        thing.prop = thing.prop + 1
    assert by_mark(lp, targets.Thing.method)["tick"] == (1, 1)
    totals: dict[str, int] = {}
    for (_, _, name), rows in lp.get_stats().timings.items():
        totals[name] = totals.get(name, 0) + sum(t for _, _, t in rows)
    assert totals["Thing.method"] == 1
    assert totals["Thing.static"] == 2
    assert totals["Thing.klass"] == 3
    assert totals["Thing.prop"] == 3 + 4  # getter and setter: one name, two functions


def test_add_function_follows_wrapped(make: Make) -> None:
    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

        return wrapper

    decorated = decorator(targets.basic)
    lp = make(decorated)
    assert registered(lp) == {"basic"}


def test_add_function_refuses_what_has_no_python_code(make: Make) -> None:
    lp = make()
    with pytest.warns(UserWarning, match="no Python code to profile"):  # as line_profiler
        lp.add_function(len)
    assert lp.functions == []
    with pytest.raises(TypeError, match="only profile Python functions"):
        lp.add_function(42)


def test_adding_twice_is_harmless(make: Make) -> None:
    lp = make(targets.basic, targets.basic)
    lp.add_function(targets.basic)
    lp.runcall(targets.basic, 1)
    assert by_mark(lp, targets.basic)["tick5"] == (1, 5)


def test_add_class(make: Make) -> None:
    lp = make()
    added = lp.add_class(targets.Thing)
    names = registered(lp)
    assert {"Thing.__init__", "Thing.method", "Thing.static", "Thing.klass", "Thing.prop"} <= names
    assert "Thing.Inner.inner_method" in names
    assert added == 7  # __init__, method, static, klass, prop getter+setter, inner_method


def test_add_module(make: Make) -> None:
    lp = make()
    added = lp.add_module(targets)
    names = registered(lp)
    assert {"basic", "rec", "gen", "coro", "Thing.method", "<lambda>"} <= names
    assert "advance_fake_clock" not in names  # imported builtins are skipped
    assert "coroutine" not in names  # functions imported from elsewhere too
    assert added == len(lp.functions)


def test_decorator_on_function(make: Make) -> None:
    lp = make()
    wrapped = lp(targets.basic)
    assert wrapped.__wrapped__ is targets.basic  # type: ignore[attr-defined]
    assert wrapped(2) == 1
    assert lp.enable_count == 0 and lp.backend is None
    assert by_mark(lp, targets.basic)["body"] == (2, 4)


def test_decorator_on_generator(make: Make) -> None:
    lp = make()
    wrapped = lp(targets.gen)
    g = wrapped(2)
    assert next(g) == 0
    assert lp.backend is None  # off while the generator is suspended
    targets.tick(100)
    assert list(g) == [1]
    assert by_mark(lp, targets.gen) == {
        "loop": (3, 0),
        "tick1": (2, 2),
        "yield": (2, 0),
        "tick3": (2, 6),
    }


def test_decorator_on_generator_forwards_send_throw_close(make: Make) -> None:
    def echo() -> Any:
        received = []
        try:
            while True:
                try:
                    received.append((yield len(received)))
                except KeyError:
                    received.append("thrown")
        finally:
            received.append("closed")
            log.extend(received)

    log: list[Any] = []
    lp = make()
    g = lp(echo)()
    assert next(g) == 0
    assert g.send("a") == 1
    assert g.throw(KeyError()) == 2
    g.close()
    assert log == ["a", "thrown", "closed"]


def cleans_up() -> Any:
    try:  # @try
        yield 1  # @yield
    finally:
        targets.tick(5)  # @cleanup


async def cleans_up_async() -> Any:
    try:  # @try
        yield 1  # @yield
    finally:
        targets.tick(5)  # @cleanup


def test_a_decorated_generator_closed_early_records_its_cleanup(make: Make) -> None:
    """close() and aclose() resume the generator to run its finally: profiling is on for it,
    as for every other resumption."""
    lp = make()
    g = lp(cleans_up)()
    assert next(g) == 1
    g.close()

    async def main() -> None:
        agen = lp(cleans_up_async)()
        assert await agen.__anext__() == 1
        await agen.aclose()

    asyncio.run(main())
    assert lp.enable_count == 0 and lp.backend is None
    expected = {"try": (1, 0), "yield": (1, 0), "cleanup": (1, 5)}
    assert by_mark(lp, cleans_up) == expected
    assert by_mark(lp, cleans_up_async) == expected


def test_decorator_on_coroutine_and_async_generator(make: Make) -> None:
    lp = make()

    @lp
    async def work(n: int) -> int:
        await asyncio.sleep(0)
        return n * 2

    @lp
    async def numbers(n: int) -> Any:
        for i in range(n):
            yield i

    async def main() -> tuple[int, list[int]]:
        return await work(3), [i async for i in numbers(3)]

    assert asyncio.run(main()) == (6, [0, 1, 2])
    assert registered(lp) == {
        "test_decorator_on_coroutine_and_async_generator.<locals>.work",
        "test_decorator_on_coroutine_and_async_generator.<locals>.numbers",
    }
    hits = {
        name.rsplit(".", 1)[1]: sum(h for _, h, _ in rows)
        for (_, _, name), rows in lp.get_stats().timings.items()
    }
    # work: the await line and the return; numbers: 4 loop tests and 3 yields.
    assert hits == {"work": 2, "numbers": 7}


def test_decorator_on_class_property_static_and_class_methods(make: Make) -> None:
    lp = make()

    @lp
    class Decorated:
        def method(self) -> int:
            return 1

    assert isinstance(Decorated, type)
    assert any(name.endswith("<locals>.Decorated.method") for name in registered(lp))

    class Holder:
        @lp
        @staticmethod
        def s() -> int:
            return 2

        @lp
        @classmethod
        def c(cls) -> int:
            return 3

        @lp
        @property
        def p(self) -> int:
            return 4

    assert (Holder.s(), Holder.c(), Holder().p) == (2, 3, 4)


def test_enable_by_count_nests(make: Make) -> None:
    lp = make(targets.basic)
    lp.enable_by_count()
    lp.enable_by_count()
    lp.disable_by_count()
    assert lp.backend is not None
    lp.disable_by_count()
    assert lp.backend is None
    lp.disable_by_count()  # unmatched: ignored
    assert lp.enable_count == 0


def test_context_manager_binds_the_profiler(make: Make) -> None:
    with make(targets.basic) as lp:
        targets.basic(1)
        assert lp.backend is not None
    assert by_mark(lp, targets.basic)["tick5"] == (1, 5)


def test_runcall_runctx_run(make: Make) -> None:
    lp = make(targets.basic)
    assert lp.runcall(targets.basic, n=2) == 1
    assert lp.runctx("targets.basic(1)", {"targets": targets}, None) is lp
    main = sys.modules["__main__"]
    vars(main)["_lineprof_test_targets"] = targets
    try:
        assert lp.run("_lineprof_test_targets.basic(1)") is lp
    finally:
        del vars(main)["_lineprof_test_targets"]
    assert by_mark(lp, targets.basic)["tick5"] == (3, 15)


def test_runcall_propagates_exceptions_and_stops(make: Make) -> None:
    lp = make(targets.raiser)
    with pytest.raises(ValueError):
        lp.runcall(targets.raiser)
    assert lp.backend is None and lp.enable_count == 0


def test_get_stats_shape(make: Make) -> None:
    lp = make(targets.basic)
    lp.runcall(targets.basic, 1)
    stats = lp.get_stats()
    assert stats.unit == 1e-9
    code = targets.basic.__code__
    ((key, rows),) = stats.timings.items()
    assert key == (code.co_filename, code.co_firstlineno, "basic")
    assert rows == sorted(rows)
    assert all(isinstance(v, int) for row in rows for v in row)


def test_registered_but_never_run_is_reported_empty(make: Make) -> None:
    lp = make(targets.basic)
    lp.runcall(lambda: None)
    assert list(lp.get_stats().timings.values()) == [[]]


def test_print_stats(make: Make) -> None:
    lp = make(targets.basic)
    lp.runcall(targets.basic, 1)
    out = io.StringIO()
    lp.print_stats(stream=out)
    text = out.getvalue()
    assert text.startswith(
        "Timer unit: 1e-09 s\nTimes: lineprof's own measured cost taken out\n\n"
        "Total time: 7e-09 s\n"
    )
    assert "Function: basic at line" in text
    out = io.StringIO()
    lp.print_stats(out, output_unit=1e-3, summarize=True, details=False)
    assert out.getvalue() == (
        "Timer unit: 0.001 s\nTimes: lineprof's own measured cost taken out\n\n"
        f"  0.00 seconds - {targets.__file__}:{targets.basic.__code__.co_firstlineno} - basic\n"
    )


def test_dump_and_load_round_trip(make: Make, tmp_path: Path) -> None:
    lp = make(targets.basic, targets.rec)
    lp.runcall(targets.basic, 2)
    path = tmp_path / "out.lprof"
    lp.dump_stats(str(path))
    assert load_stats(path) == lp.get_stats()
    assert [p.name for p in tmp_path.iterdir()] == ["out.lprof"]  # no temporary left


def test_loading_never_executes_the_file(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> Any:
            return (exec, ("import sys; sys.lineprof_pwned = True",))

    path = tmp_path / "evil.lprof"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ResultsFileError, match="not a lineprof results file"):
        load_stats(path)
    assert not hasattr(sys, "lineprof_pwned")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "lineprof-results", "schema_version": 1, "unit": 1e-9, "funct', "truncated"),
        ('{"hello": 1}', "no 'format'"),
        (
            '{"format": "lineprof-results", "schema_version": 99, "unit": 1e-9, "functions": []}',
            "newer lineprof",
        ),
        (
            '{"format": "lineprof-results", "schema_version": 1, "unit": 1e-9, '
            '"functions": [{"filename": "x"}]}',
            "malformed",
        ),
    ],
)
def test_bad_results_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ResultsFileError, match=message) as info:
        load_stats(path)
    assert "\n" not in str(info.value)


def test_results_file_schema(make: Make, tmp_path: Path) -> None:
    lp = make(targets.basic)
    lp.runcall(targets.basic, 1)
    path = tmp_path / "r.json"
    lp.dump_stats(str(path))
    data = json.loads(path.read_text())
    assert data["format"] == "lineprof-results" and data["schema_version"] == 1
    (function,) = data["functions"]
    assert set(function) == {"filename", "first_line", "qualname", "source", "lines"}


def test_merge_sums_and_rescales() -> None:
    key = ("f.py", 1, "f")
    a = LineStats({key: [(2, 1, 1000)]}, 1e-9)
    b = LineStats({key: [(2, 2, 3), (3, 1, 1)]}, 1e-6)
    merged = a + b
    assert merged.unit == 1e-9
    assert merged.timings == {key: [(2, 3, 4000), (3, 1, 1000)]}


def test_bad_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="not available"):
        LineProfiler(backend="magic")
    missing = "setprofile" if "monitoring" in lineprof._lineprof.BACKENDS else "monitoring"
    with pytest.raises(ValueError, match=f"{missing}.*not available"):
        LineProfiler(backend=missing)


def test_function_defined_again_by_exec_is_reported_once(make: Make) -> None:
    source = "def twin():\n    return 1\n"
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}
    exec(compile(source, "<twin>", "exec"), first)
    exec(compile(source, "<twin>", "exec"), second)
    assert first["twin"].__code__ == second["twin"].__code__  # equal, yet distinct objects
    assert first["twin"].__code__ is not second["twin"].__code__
    lp = make(first["twin"], second["twin"])
    with lp:
        first["twin"]()
        second["twin"]()
        second["twin"]()
    # Two code objects, one key: hits add up, neither is lost.
    assert lp.get_stats().timings == {("<twin>", 1, "twin"): [(2, 3, 0)]}


def test_add_code_profiles_module_level_code(make: Make) -> None:
    source = "total = 0\nfor i in range(3):\n    total += i\n"
    code = compile(source, "<script>", "exec")
    lp = make()
    assert lp.add_code(code, "<module>") is True
    assert lp.add_code(code) is False
    namespace: dict[str, Any] = {}
    lp.runctx(code, namespace, None)
    assert namespace["total"] == 3
    assert lp.get_stats().timings == {
        ("<script>", 1, "<module>"): [(1, 1, 0), (2, 4, 0), (3, 3, 0)]
    }
    with pytest.raises(TypeError):
        lp.add_code(targets.basic)  # type: ignore[arg-type]


def test_decorated_definition_counts_once_on_its_first_decorator(
    make: Make, tmp_path: Path
) -> None:
    script = tmp_path / "decorated.py"
    script.write_text(
        "import functools\n"
        "@functools.lru_cache(maxsize=None)\n"
        "@functools.wraps(print)\n"
        "def f():\n"
        "    return 1\n"
        "x = f()\n"
    )
    code = compile(script.read_text(), str(script), "exec")
    lp = make()
    lp.add_code(code)
    lp.runctx(code, {"__name__": "decorated"}, None)
    hits = {line: h for line, h, _ in next(iter(lp.get_stats().timings.values()))}
    assert hits == {1: 1, 2: 1, 6: 1}


def test_module_type_check(make: Make) -> None:
    lp = make()
    with pytest.raises(TypeError):
        lp.add_module("targets")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        lp.add_class(types)  # type: ignore[arg-type]

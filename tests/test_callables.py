"""Every kind of callable, decorated with a LineProfiler, with ``lineprof.profile`` under
LINE_PROFILE=1, or registered with add_function/add_class/add_module: it behaves as it did
undecorated, its own lines (and only those) are recorded with exact hits, and decorating it
twice is decorating it once.

Hits are read by the ``# @name`` marker on each line, over every line recorded: an
assertion on them also says that nothing else was recorded."""

# ruff: noqa: E731
from __future__ import annotations

import asyncio
import functools
import inspect
import json
import linecache
import textwrap
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lineprof import LineProfiler
from tests.scripts._run import environment, run_python

Make = Callable[..., LineProfiler]


def marked_hits(lp: LineProfiler) -> dict[str, int]:
    """{marker: hits} over every line recorded; a line without a marker shows as
    ``file:line``."""
    found: dict[str, int] = {}
    for (filename, _, _), rows in lp.get_stats().timings.items():
        for line, hits, _ in rows:
            text = linecache.getline(filename, line)
            name = text.split("# @", 1)[1].split()[0] if "# @" in text else f"{filename}:{line}"
            found[name] = found.get(name, 0) + hits
    return {name: hits for name, hits in found.items() if hits}


def twice(lp: LineProfiler, obj: Any) -> Any:
    """``lp(obj)``, checked to be what decorating that again gives back, with nothing more
    registered."""
    once = lp(obj)
    registered = list(lp.functions)
    assert lp(once) is once
    assert lp.functions == registered
    return once


def qualnames(lp: LineProfiler) -> list[str]:
    return sorted(function.__qualname__ for function in lp.functions)


# Defined here, assigned into the classes below: not theirs to profile.
def foreign(self: Any) -> str:
    return "foreign"  # @foreign


class Elsewhere:
    @staticmethod
    def util(x: int) -> int:
        return x - 1  # @elsewhere_util

    def method(self) -> int:
        return 0  # @elsewhere_method


# ---- functions ----------------------------------------------------------------------------


def test_plain_nested_and_lambda(make: Make) -> None:
    def outer(n: int) -> int:
        """Outer's doc."""

        def inner(x: int) -> int:  # @outer_def
            return x * 2  # @inner

        return inner(n) + 1  # @outer

    def make_inner() -> Callable[[int], int]:
        def nested(x: int) -> int:
            return x + 100  # @nested

        return nested

    lp = make()
    wrapped = twice(lp, outer)
    nested = twice(lp, make_inner())
    square = twice(lp, lambda x: x * x)  # @lambda
    assert isinstance(wrapped, types.FunctionType) and wrapped is not outer
    assert wrapped.__wrapped__ is outer
    assert (wrapped.__name__, wrapped.__qualname__, wrapped.__doc__) == (
        outer.__name__,
        outer.__qualname__,
        "Outer's doc.",
    )
    assert inspect.signature(wrapped) == inspect.signature(outer)
    assert (wrapped(3), wrapped(4), nested(1), square(5)) == (7, 9, 101, 25)
    assert lp.enable_count == 0 and lp.backend is None
    # inner is not registered: only what was decorated
    assert marked_hits(lp) == {"outer_def": 2, "outer": 2, "nested": 1, "lambda": 1}
    assert qualnames(lp) == [
        "test_plain_nested_and_lambda.<locals>.<lambda>",
        "test_plain_nested_and_lambda.<locals>.make_inner.<locals>.nested",
        "test_plain_nested_and_lambda.<locals>.outer",
    ]


def test_exceptions_pass_through_and_profiling_stops(make: Make) -> None:
    def fails() -> None:
        raise KeyError("k")  # @raise

    lp = make()
    wrapped = twice(lp, fails)
    with pytest.raises(KeyError):
        wrapped()
    assert lp.enable_count == 0 and lp.backend is None
    assert marked_hits(lp) == {"raise": 1}


def test_decorating_twice_is_decorating_once(make: Make) -> None:
    def f(x: int) -> int:
        return x + 1  # @f

    lp = make()
    once = lp(f)
    assert lp(lp(once)) is once
    lp.add_function(once)
    lp.add_function(f)
    assert lp.functions == [f]
    assert once(1) == 2
    assert marked_hits(lp) == {"f": 1}


def test_two_profilers_each_record_once(make: Make) -> None:
    def f() -> int:
        return 1  # @two

    first, second = make(), make()
    both = second(first(f))
    assert both.__wrapped__.__wrapped__ is f
    assert first(both) is not both  # the outer wrapper is the second profiler's
    assert both() == 1
    assert marked_hits(first) == marked_hits(second) == {"two": 1}
    assert first.functions == second.functions == [f]


# ---- generators and coroutines ------------------------------------------------------------


def test_generator(make: Make) -> None:
    def gen(n: int) -> Any:
        for i in range(n):  # @gen_loop
            got = yield i  # @gen_yield
            if got:  # @gen_test
                return got  # @gen_return
        return -1  # @gen_end

    lp = make()
    wrapped = twice(lp, gen)
    assert inspect.isgeneratorfunction(wrapped)
    assert list(wrapped(2)) == [0, 1]
    g = wrapped(5)
    assert next(g) == 0
    with pytest.raises(StopIteration) as stop:
        g.send("done")
    assert stop.value.value == "done"
    # list: 3 loop tests, 2 yields and tests, the end; send: 1 loop test, 1 yield, test, return
    assert marked_hits(lp) == {
        "gen_loop": 4,
        "gen_yield": 3,
        "gen_test": 3,
        "gen_end": 1,
        "gen_return": 1,
    }


def test_coroutine_async_generator_and_generator_based_coroutine(make: Make) -> None:
    @types.coroutine
    def old_style() -> Any:
        yield  # @old_yield
        return 5  # @old_return

    async def coro(x: int) -> int:
        await asyncio.sleep(0)  # @coro_await
        return x + await old()  # @coro_return

    async def agen(n: int) -> Any:
        for i in range(n):  # @agen_loop
            yield i  # @agen_yield

    lp = make()
    old = twice(lp, old_style)
    wrapped_coro = twice(lp, coro)
    wrapped_agen = twice(lp, agen)
    assert inspect.iscoroutinefunction(wrapped_coro)
    assert inspect.isasyncgenfunction(wrapped_agen)
    assert old.__code__.co_flags & inspect.CO_ITERABLE_COROUTINE

    async def main() -> tuple[int, list[int]]:
        return await wrapped_coro(1), [i async for i in wrapped_agen(3)]

    assert asyncio.run(main()) == (6, [0, 1, 2])
    assert marked_hits(lp) == {
        "coro_await": 1,
        "coro_return": 1,
        "old_yield": 1,
        "old_return": 1,
        "agen_loop": 4,
        "agen_yield": 3,
    }


# ---- methods and descriptors --------------------------------------------------------------


def test_methods_classmethod_staticmethod(make: Make) -> None:
    lp = make()

    class C:
        def __init__(self) -> None:
            self.v = 10

        @lp
        def m(self, x: int) -> int:
            return self.v + x  # @m

        @lp
        @classmethod
        def c(cls, x: int) -> tuple[type, int]:
            return cls, x  # @c

        @lp
        @staticmethod
        def s(x: int) -> int:
            return x * 3  # @s

    class D(C):
        pass

    c, d = C(), D()
    assert isinstance(vars(C)["m"], types.FunctionType)
    assert type(vars(C)["c"]) is classmethod and type(vars(C)["s"]) is staticmethod
    for name in ("m", "c", "s"):
        assert twice(lp, vars(C)[name]) is vars(C)[name]
    assert c.m(1) == 11 and C.m(c, 2) == 12 and c.m.__self__ is c
    assert C.c(1) == (C, 1) and D.c(2) == (D, 2) and d.c(3) == (D, 3)
    assert C.s(1) == 3 and c.s(2) == 6 and D.s(3) == 9
    assert marked_hits(lp) == {"m": 2, "c": 3, "s": 3}
    assert len(lp.functions) == 3


def test_property_getter_setter_deleter_each_registered_once(make: Make) -> None:
    lp = make()

    class C:
        def __init__(self) -> None:
            self._v = 1

        @lp
        @property
        def p(self) -> int:
            """The value."""
            return self._v  # @p_get

        @lp
        @p.setter
        def p(self, v: int) -> None:
            self._v = v  # @p_set

        @lp
        @p.deleter
        def p(self) -> None:
            del self._v  # @p_del

    prop = vars(C)["p"]
    assert type(prop) is property and prop.__doc__ == "The value."
    assert twice(lp, prop) is prop
    c = C()
    assert c.p == 1
    c.p = 5
    assert c.p == 5
    del c.p
    with pytest.raises(AttributeError):
        c.p  # noqa: B018
    assert marked_hits(lp) == {"p_get": 3, "p_set": 1, "p_del": 1}
    # the getter was decorated three times, the setter twice: each registered once
    assert [f.__name__ for f in lp.functions] == ["p", "p", "p"]
    assert len({f.__code__ for f in lp.functions}) == 3
    for accessor in (prop.fget, prop.fset, prop.fdel):
        assert accessor.__wrapped__ in lp.functions


def test_property_with_its_own_doc_and_a_c_getter(make: Make) -> None:
    lp = make()
    documented = lp(property(lambda self: 1, doc="Given doc."))
    assert documented.__doc__ == "Given doc."
    c_getter = property(len)
    assert lp(c_getter) is c_getter  # nothing to profile: left as is
    assert len(lp.functions) == 1


def test_cached_property_caches(make: Make) -> None:
    lp = make()

    class C:
        @lp
        @functools.cached_property
        def x(self) -> list[int]:
            """Computed once."""
            return [len(vars(self))]  # @cached

    cached = vars(C)["x"]
    assert type(cached) is functools.cached_property
    assert cached.attrname == "x" and cached.__doc__ == "Computed once."
    assert twice(lp, cached) is cached
    a, b = C(), C()
    assert a.x == [0] and a.x is a.x and vars(a)["x"] is a.x
    assert b.x == [0]
    assert marked_hits(lp) == {"cached": 2}  # once per instance, not per access


def test_cached_property_decorated_after_the_class_was_made(make: Make) -> None:
    class C:
        @functools.cached_property
        def late(self) -> int:
            return 7  # @late

    lp = make()
    C.late = twice(lp, vars(C)["late"])  # type: ignore[method-assign]
    assert type(vars(C)["late"]) is functools.cached_property
    assert vars(C)["late"].attrname == "late"  # __set_name__ is not called again
    c = C()
    assert (c.late, c.late) == (7, 7)
    assert marked_hits(lp) == {"late": 1}


def test_partial_partialmethod_and_bound_methods(make: Make) -> None:
    def add3(a: int, b: int, c: int = 0) -> int:
        return a + b + c  # @add3

    class C:
        def __init__(self, v: int) -> None:
            self.v = v

        def m(self, x: int, y: int = 0) -> int:
            return self.v + x + y  # @method

        pm = functools.partialmethod(m, 100, y=1)

        @classmethod
        def cm(cls) -> str:
            return cls.__name__  # @bound_cm

    lp = make()
    part = twice(lp, functools.partial(add3, 1, c=3))
    assert type(part) is functools.partial
    assert inspect.unwrap(part.func) is add3
    assert (part.args, part.keywords) == ((1,), {"c": 3})
    assert part(2) == 6

    C.pm = twice(lp, vars(C)["pm"])  # type: ignore[assignment]
    pm = vars(C)["pm"]
    assert type(pm) is functools.partialmethod
    assert (pm.args, pm.keywords) == ((100,), {"y": 1})
    assert C(1).pm() == 102

    c = C(2)
    bound = twice(lp, c.m)
    assert type(bound) is types.MethodType and bound.__self__ is c
    assert inspect.unwrap(bound.__func__) is C.m
    assert bound(3) == 5 and bound(3, y=4) == 9
    bound_cm = twice(lp, C.cm)
    assert type(bound_cm) is types.MethodType and bound_cm.__self__ is C
    assert bound_cm() == "C"
    assert C(0).m(1) == 1  # the class itself is untouched: not recorded
    assert marked_hits(lp) == {"add3": 1, "method": 3, "bound_cm": 1}


def test_c_functions_are_left_alone(make: Make) -> None:
    lp = make()
    with pytest.warns(UserWarning, match="no Python code to profile"):
        lp.add_function(len)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lp(len) is len
        c_partial = functools.partial(len)
        assert lp(c_partial) is c_partial
        assert lp([].append)(1) is None
        assert lp.add_class(int) == 0
    assert lp.functions == []
    with pytest.raises(TypeError, match="not callable"):
        lp.add_function(42)
    with pytest.raises(TypeError, match="not callable"):
        lp(None)


def test_callable_object(make: Make) -> None:
    class Adder:
        def __call__(self, x: int) -> int:
            return x + 1  # @call

    lp = make()
    adder = Adder()
    wrapped = twice(lp, adder)
    assert wrapped(1) == 2 and wrapped.__wrapped__ is adder
    assert lp.functions == [Adder.__call__]
    assert marked_hits(lp) == {"call": 1}


# ---- classes and modules ------------------------------------------------------------------


def define_class() -> type:
    class K:
        def __init__(self) -> None:
            self.v = 1  # @k_init

        def m(self) -> int:
            return self.v  # @k_m

        @classmethod
        def c(cls) -> str:
            return cls.__name__  # @k_c

        @staticmethod
        def s(x: int) -> int:
            return x + 1  # @k_s

        @property
        def p(self) -> int:
            return self.v  # @k_pget

        @p.setter
        def p(self, v: int) -> None:
            self.v = v  # @k_pset

        @functools.cached_property
        def cp(self) -> list[int]:
            return [self.v]  # @k_cp

        pm = functools.partialmethod(m)
        lam = lambda self: self.v * 10  # @k_lam

        # assigned from elsewhere: not K's own
        borrowed = foreign
        util = vars(Elsewhere)["util"]  # a staticmethod defined in another class
        plain_util = Elsewhere.util
        other_method = Elsewhere.method
        Alias = Elsewhere
        part = staticmethod(functools.partial(foreign, None))

        class Inner:
            def im(self) -> int:
                return 2  # @k_inner

            class Deep:
                @classmethod
                def dc(cls) -> int:
                    return 3  # @k_deep

    return K


K_OWN = [
    "__init__",
    "m",
    "c",
    "s",
    "p",
    "p",
    "cp",
    "<lambda>",
    "Inner.im",
    "Inner.Deep.dc",
]


def exercise(K: Any) -> None:
    k = K()
    assert (k.m(), K.c(), K.s(1), k.p) == (1, "K", 2, 1)
    k.p = 4
    assert k.cp == [4] and k.cp is k.cp
    assert (k.pm(), k.lam(), k.borrowed(), K.util(5), K.plain_util(5)) == (4, 40, "foreign", 4, 4)
    assert (k.other_method(), K.Alias.util(1), K.part()) == (0, 0, "foreign")
    assert (K.Inner().im(), K.Inner.Deep.dc(), K.Inner.Deep().dc()) == (2, 3, 3)


K_HITS = {
    "k_init": 1,
    "k_m": 2,  # m and pm
    "k_c": 1,
    "k_s": 1,
    "k_pget": 1,
    "k_pset": 1,
    "k_cp": 1,
    "k_lam": 1,
    "k_inner": 1,
    "k_deep": 2,
}


def own_names(lp: LineProfiler, K: type) -> list[str]:
    prefix = K.__qualname__ + "."
    assert all(name.startswith(prefix) for name in qualnames(lp))
    return sorted(name.removeprefix(prefix) for name in qualnames(lp))


def test_class_decorated_profiles_its_own_members_only(make: Make) -> None:
    K = define_class()
    before = dict(vars(K))
    lp = make()
    assert twice(lp, K) is K
    assert own_names(lp, K) == sorted(K_OWN)
    # the members from elsewhere are the very same objects; K's own are of the same kinds
    for name in ("borrowed", "util", "plain_util", "other_method", "Alias", "part", "Inner"):
        assert vars(K)[name] is before[name]
    for name in ("m", "c", "s", "p", "cp", "pm", "lam"):
        assert type(vars(K)[name]) is type(before[name])
        assert vars(K)[name] is not before[name]
    assert vars(K)["cp"].attrname == "cp"
    exercise(K)
    assert marked_hits(lp) == K_HITS
    assert lp.enable_count == 0 and lp.backend is None


def test_add_class_registers_its_own_members_only(make: Make) -> None:
    K = define_class()
    before = dict(vars(K))
    lp = make()
    assert lp.add_class(K, scoping_policy="children") == len(K_OWN)
    assert lp.add_class(K, scoping_policy="children") == 0
    lp.add_function(K)  # a class given to add_function: the same
    assert own_names(lp, K) == sorted(K_OWN)
    assert vars(K) == before  # registering replaces nothing
    with lp:
        exercise(K)
    assert marked_hits(lp) == K_HITS


MODULE = """\
import functools
from json import dumps  # a Python function of another module

from tests.test_callables import Elsewhere, foreign


def top(x):
    return x + 1  # @mod_top


lam = lambda x: x * 2  # @mod_lam


class Box:
    def get(self):
        return 1  # @mod_get

    class Lid:
        @classmethod
        def make(cls):
            return cls.__name__  # @mod_lid

    dumps = staticmethod(dumps)
    borrowed = foreign


part = functools.partial(top, 1)
Other = Elsewhere
"""


def test_add_module_registers_what_it_defines(make: Make, tmp_path: Path) -> None:
    path = tmp_path / "kinds_module.py"
    path.write_text(MODULE)
    module = types.ModuleType("kinds_module")
    module.__file__ = str(path)
    exec(compile(MODULE, str(path), "exec"), vars(module))
    lp = make()
    assert lp.add_module(module) == 4
    assert lp.add_module(module) == 0
    assert qualnames(lp) == ["<lambda>", "Box.Lid.make", "Box.get", "top"]
    with lp:
        assert (module.top(1), module.lam(2), module.Box().get(), module.Box.Lid.make()) == (
            2,
            4,
            1,
            "Lid",
        )
        assert module.part() == 2 and module.Box.dumps(1) == "1"
        assert module.Box().borrowed() == "foreign" and module.Other.util(1) == 0
    assert marked_hits(lp) == {"mod_top": 2, "mod_lam": 1, "mod_get": 1, "mod_lid": 1}


def test_add_function_on_every_kind_registers_once(make: Make) -> None:
    K = define_class()
    k = K()
    lp = make()
    kinds = [
        vars(K)["m"],
        k.m,
        vars(K)["c"],
        vars(K)["s"],
        vars(K)["p"],
        vars(K)["cp"],
        vars(K)["pm"],
        vars(K)["lam"],
        functools.partial(K.m, k),
        K.Inner.Deep.dc,
    ]
    for kind in kinds * 2:
        lp.add_function(kind)
    names = own_names(lp, K)
    assert names == sorted(["m", "c", "s", "p", "p", "cp", "<lambda>", "Inner.Deep.dc"])


# ---- lineprof.profile under LINE_PROFILE=1 ------------------------------------------------

SCRIPT = """\
import asyncio, functools, json, linecache, sys, types

from lineprof import profile


def foreign(self):
    return "foreign"  # @foreign


class Elsewhere:
    @staticmethod
    def util(x):
        return x - 1  # @elsewhere_util


def decorate(obj):
    once = profile(obj)
    assert once is obj, obj
    count = len(profile.profiler.functions)
    assert profile(once) is obj, obj
    assert len(profile.profiler.functions) == count, obj
    return obj


@decorate
def plain(n):
    def inner():  # @plain_def
        return 1  # @inner
    return n + inner()  # @plain


lam = decorate(lambda x: x * 2)  # @lambda


@decorate
def gen(n):
    for i in range(n):  # @gen_loop
        yield i  # @gen_yield


@decorate
async def coro(x):
    await asyncio.sleep(0)  # @coro_await
    return x + 1  # @coro_return


@decorate
async def agen(n):
    for i in range(n):  # @agen_loop
        yield i  # @agen_yield


def add3(a, b, c=0):
    return a + b + c  # @add3


class C:
    def __init__(self, v):
        self.v = v

    @decorate
    def m(self, x=0):
        return self.v + x  # @m

    @decorate
    @classmethod
    def c(cls):
        return cls.__name__  # @c

    @decorate
    @staticmethod
    def s(x):
        return x * 3  # @s

    @decorate
    @property
    def p(self):
        return self.v  # @p_get

    @decorate
    @p.setter
    def p(self, v):
        self.v = v  # @p_set

    @decorate
    @p.deleter
    def p(self):
        del self.v  # @p_del

    @decorate
    @functools.cached_property
    def cp(self):
        return [self.v]  # @cp

    pm = decorate(functools.partialmethod(m, 100))


@decorate
class K:
    def own(self):
        return 1  # @k_own

    util = vars(Elsewhere)["util"]
    borrowed = foreign

    class Inner:
        class Deep:
            @classmethod
            def dc(cls):
                return 3  # @k_deep


class Late:
    def bound(self):
        return "late"  # @bound


late = Late()
bound = decorate(late.bound)
part = decorate(functools.partial(add3, 1, c=3))
assert decorate(len) is len  # a note on stderr, nothing else

c = C(1)
assert (plain(1), lam(3), list(gen(2))) == (2, 6, [0, 1])


async def main():
    return await coro(1), [i async for i in agen(2)]


assert asyncio.run(main()) == (2, [0, 1])
assert (c.m(1), C.c(), c.c(), C.s(2), c.p) == (2, "C", "C", 6, 1)
c.p = 4
assert c.cp == [4] and c.cp is c.cp
del c.p
assert not hasattr(c, "v")
c.v = 7
assert c.pm() == 107
assert type(vars(C)["cp"]) is functools.cached_property and vars(C)["cp"].attrname == "cp"
assert (K().own(), K.util(1), K().borrowed(), K.Inner.Deep.dc()) == (1, 0, "foreign", 3)
assert (bound(), bound.__self__ is late, part(2), part.args, part.keywords) == (
    "late", True, 6, (1,), {"c": 3}
)

hits = {}
for (filename, _, _), rows in profile.profiler.get_stats().timings.items():
    for line, count, _ in rows:
        text = linecache.getline(filename, line)
        name = text.split("# @", 1)[1].split()[0] if "# @" in text else str(line)
        hits[name] = hits.get(name, 0) + count
names = sorted(f.__qualname__ for f in profile.profiler.functions)
print("RESULT", json.dumps({"hits": hits, "functions": names}), flush=True)
"""


def test_global_profile_keeps_every_kind_and_registers_once(backend: str, tmp_path: Path) -> None:
    (tmp_path / "kinds.py").write_text(textwrap.dedent(SCRIPT))
    env = environment(LINE_PROFILE="1", LINEPROF_BACKEND=backend)
    result = run_python("kinds.py", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    found = json.loads(line.removeprefix("RESULT "))
    assert found["hits"] == {
        "plain_def": 1,
        "plain": 1,
        "lambda": 1,
        "gen_loop": 3,
        "gen_yield": 2,
        "coro_await": 1,
        "coro_return": 1,
        "agen_loop": 3,
        "agen_yield": 2,
        "m": 2,
        "c": 2,
        "s": 1,
        "p_get": 1,
        "p_set": 1,
        "p_del": 1,
        "cp": 1,
        "k_own": 1,
        "k_deep": 1,
        "bound": 1,
        "add3": 1,
    }
    assert found["functions"] == sorted(
        [
            "plain",
            "<lambda>",
            "gen",
            "coro",
            "agen",
            "add3",
            "C.m",
            "C.c",
            "C.s",
            "C.p",
            "C.p",
            "C.p",
            "C.cp",
            "K.own",
            "K.Inner.Deep.dc",
            "Late.bound",
        ]
    )
    notes = [line for line in result.stderr.splitlines() if line]
    assert (
        notes
        == [
            "lineprof: @profile: <built-in function len> has no Python code to profile "
            "(a C function?); left unprofiled"
        ]
        * 2
    )  # decorated twice


def test_generated_methods_of_two_classes_are_two_functions(make: Make) -> None:
    """dataclasses' ``__init__`` (and namedtuple's ``__new__``) are exec'd from a string: every
    one has the file ``<string>``, the same first line and, from 3.11, the co_qualname
    ``__create_fn__.<locals>.__init__``.  They were reported as one function, its lines the
    sum of every class's (black's run under -p read one __init__ of 59,352 hits)."""
    import dataclasses

    @dataclasses.dataclass
    class Small:
        x: int

    @dataclasses.dataclass
    class Large:
        p: int
        q: int

    lp = make(Small, Large)
    with lp:
        for i in range(3):
            Small(i)
        Large(1, 2)
    names = {
        key[2]: sum(hits for _, hits, _ in rows) for key, rows in lp.get_stats().timings.items()
    }
    prefix = "test_generated_methods_of_two_classes_are_two_functions.<locals>."
    assert names[prefix + "Small.__init__"] == 3
    assert names[prefix + "Large.__init__"] == 2

"""Functions the tests profile.  ``tick(ns)`` moves the fake clock, so the line that calls it
is charged exactly ns; ``# @name`` comments mark the lines tests look at."""

# ruff: noqa: E731
from __future__ import annotations

import types
from typing import Any

from lineprof._lineprof import advance_fake_clock as tick


def basic(n: int) -> int:
    total = 0  # @zero
    tick(5)  # @tick5
    for i in range(n):  # @loop
        tick(2)  # @body
        total += i  # @add
    return total  # @ret


def rec(n: int) -> None:
    tick(1)  # @tick1
    if n > 0:  # @test
        rec(n - 1)  # @call
        tick(10)  # @tick10


def gen(n: int) -> Any:
    for i in range(n):  # @loop
        tick(1)  # @tick1
        yield i  # @yield
        tick(3)  # @tick3


def gen_resume_work() -> Any:
    tick((yield 1) or 4)  # @resume
    tick(2)  # @after


@types.coroutine
def suspend() -> Any:
    yield


async def coro() -> int:
    tick(1)  # @tick1
    await suspend()  # @await
    tick(2)  # @tick2
    return 7  # @ret


async def agen(n: int) -> Any:
    for i in range(n):  # @loop
        tick(1)  # @tick1
        yield i  # @yield
        tick(2)  # @tick2


def raiser() -> None:
    tick(1)  # @tick1
    raise ValueError("boom")  # @raise


def catcher() -> str:
    try:  # @try
        raiser()  # @call
    except ValueError:  # @except
        tick(2)  # @handler
    finally:
        tick(3)  # @finally
    return "ok"  # @ret


def unprofiled_fail(ns: int) -> None:
    tick(ns)
    raise KeyError(ns)


def leaks_exception() -> None:
    tick(1)  # @tick1
    unprofiled_fail(5)  # @fail
    tick(100)  # @never


def multi_line() -> int:
    x = max(  # @stmt
        tick(1) or 1,
        tick(2) or 2,
    )
    y = [  # @comp
        tick(1) or i
        for i in range(3)
    ]
    return x + len(y)  # @ret


def matcher(x: object) -> int:
    match x:  # @match
        case 1:  # @case1
            tick(1)  # @one
        case [
            _,  # @case2
            _,
        ]:
            tick(2)  # @two
        case _:  # @case3
            tick(3)  # @other
    return 0  # @ret


one_liner = lambda ns: tick(ns)


def one_line_def(ns: int) -> None: tick(ns)  # noqa: E704


def same_line_loop(n: int) -> int:
    i = 0  # @init
    while i < n: i += 1  # noqa: E701  # @loop
    return i  # @ret


def calls_unprofiled() -> None:
    tick(1)  # @tick1
    helper(10)  # @helper


def helper(ns: int) -> None:
    tick(ns)
    tick(ns)


class Thing:
    def __init__(self) -> None:
        self._value = 1

    def method(self, ns: int) -> int:
        tick(ns)  # @tick
        return self._value

    @staticmethod
    def static(ns: int) -> None:
        tick(ns)  # @tick

    @classmethod
    def klass(cls, ns: int) -> None:
        tick(ns)  # @tick

    @property
    def prop(self) -> int:
        tick(3)  # @tick
        return self._value

    @prop.setter
    def prop(self, value: int) -> None:
        tick(4)  # @tick
        self._value = value

    class Inner:
        def inner_method(self) -> None:
            tick(1)


def deep(n: int) -> int:
    if n == 0:
        return 0
    return 1 + deep(n - 1)


def briefly_profiled() -> None:
    tick(7)  # @tick7


def around_another_profiler(nested: Any) -> int:
    tick(3)  # @before
    nested()  # @nested
    tick(2)  # @after
    return 1  # @done


def stops_its_profiler(stop: Any, then: Any) -> None:
    tick(1)  # @tick1
    stop()  # @stop
    then()  # @then
    tick(2)  # @tick2


def calls_through(then: Any) -> None:
    tick(1)  # @tick1
    then()  # @then
    tick(2)  # @tick2

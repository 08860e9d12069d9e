"""Every kind of thing @profile takes.  Prints whether @profile handed each one back as is."""

import asyncio
import sys
import threading

from lineprof.decorator import profile


@profile
def plain(n):
    total = 0
    for i in range(n):
        total += i
    return total


@profile
def gen(n):
    for i in range(n):
        yield i * 10


@profile
async def coro(x):
    await asyncio.sleep(0)
    return x + 1


@profile
async def agen(n):
    for i in range(n):
        yield i


class Shapes:
    def __init__(self):
        self._side = 2

    @profile
    def method(self):
        return self._side * 4

    @profile
    @staticmethod
    def static(a):
        return a * 3

    @profile
    @classmethod
    def klass(cls):
        return cls.__name__

    @profile
    @property
    def area(self):
        return self._side**2

    @area.setter
    def area(self, value):
        self._side = int(value**0.5)


@profile
class Whole:
    def first(self):
        return 1

    def second(self):
        return self.first() + 1


async def main_async():
    return await coro(1), [x async for x in agen(3)]


def in_thread():
    plain(2)


def main():
    print("plain", plain(5))
    print("gen", list(gen(3)))
    print("async", asyncio.run(main_async()))
    s = Shapes()
    print("shapes", s.method(), Shapes.static(2), Shapes.klass(), s.area)
    s.area = 9
    print("whole", Whole().second())
    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    same = [profile(f) is f for f in (plain, gen, coro, agen, Whole, len)]
    print("identity", all(same))
    if len(sys.argv) > 1:
        action = sys.argv[1]
        if action == "raise":
            raise RuntimeError("failing on purpose")
        if action == "exit":
            sys.exit(3)


main()

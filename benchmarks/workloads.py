"""The timing workloads.  Imported by child.py inside each benchmark venv; standard library only.

Each workload is a function ``make(scale) -> Workload``.  ``Workload.run()`` is what gets timed
(one call per fresh process); ``Workload.profiled`` lists the functions handed to the profiler's
``add_function``, or, where ``Workload.decorate`` is set, whose code the profiler's decorator
profiles (``decorate(decorator)`` applies it as ``@profile`` on a ``def`` would, to a function
just made, and puts the result where the program calls it); everything else the workload runs
is unprofiled.  Sizes are chosen so that
``run()`` takes roughly 0.1 s unprofiled at scale 1 on CPython 3.12 on a 2-core VM.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Workload:
    run: Callable[[], Any]
    profiled: list[Callable[..., Any]]
    warmup: Callable[[], Any] = field(default=lambda: None)
    decorate: Callable[[Callable[..., Any]], None] | None = None


# ---- 1. tight loop of cheap lines ---------------------------------------------------------


def tight_loop(n: int) -> int:
    x = 0
    for i in range(n):
        x += i
        x ^= 1
    return x


def make_tight_loop(scale: float) -> Workload:
    n = int(1_000_000 * scale)
    return Workload(lambda: tight_loop(n), [tight_loop], lambda: tight_loop(n // 20))


# ---- 2. string processing with many small calls --------------------------------------------

_WORDS = (
    "the quick brown fox jumps over lazy dog while profilers measure every single line of "
    "code and report which one is slow, Ignoring (most) punctuation; Capitalised Words too!"
).split()
_STOP = frozenset({"the", "and", "of", "over", "which", "one", "is", "too", "every"})


def normalise(word: str) -> str:
    return word.strip(".,;:!?\"'()").lower()


def is_stop(word: str) -> bool:
    return word in _STOP


def shout(word: str) -> str:
    return word.upper() + "!"


def word_stats(words: list[str]) -> tuple[dict[str, int], list[str]]:
    counts: dict[str, int] = {}
    loud = []
    for word in words:
        key = normalise(word)
        if not key or is_stop(key):
            continue
        counts[key] = counts.get(key, 0) + 1
        if len(key) > 5:
            loud.append(shout(key))
    return counts, loud


def make_strings(scale: float) -> Workload:
    rng = random.Random(1)
    words = [rng.choice(_WORDS) for _ in range(int(240_000 * scale))]
    return Workload(
        lambda: word_stats(words),
        [word_stats, normalise, is_stop, shout],
        lambda: word_stats(words[:5000]),
    )


# ---- 3. recursion ----------------------------------------------------------------------


def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def make_recursion(scale: float) -> Workload:
    # fib(n) makes ~1.6^n calls; the depth stays small, the call count is what scales.
    n = 28 + round(_log(scale, 1.618))
    return Workload(lambda: fib(n), [fib], lambda: fib(15))


def _log(x: float, base: float) -> float:
    import math

    return math.log(x, base) if x > 0 else 0.0


# ---- 4. generators ---------------------------------------------------------------------


def numbers(n: int) -> Iterator[int]:
    for i in range(n):  # noqa: UP028 - one line event and one yield per item, on purpose
        yield i


def squares(items: Iterator[int]) -> Iterator[int]:
    for item in items:
        yield item * item


def evens(items: Iterator[int]) -> Iterator[int]:
    for item in items:
        if item % 2 == 0:
            yield item


def generator_pipeline(n: int) -> int:
    total = 0
    for value in evens(squares(numbers(n))):
        total += value
    return total


def make_generators(scale: float) -> Workload:
    n = int(600_000 * scale)
    return Workload(
        lambda: generator_pipeline(n),
        [generator_pipeline, numbers, squares, evens],
        lambda: generator_pipeline(n // 20),
    )


# ---- 5. asyncio ------------------------------------------------------------------------


async def fetch(i: int) -> int:
    await asyncio.sleep(0)
    value = i * 3
    return value % 7


async def worker(items: int) -> int:
    total = 0
    for i in range(items):
        value = await fetch(i)
        total += value
    return total


async def gather_all(tasks: int, items: int) -> int:
    results = await asyncio.gather(*(worker(items) for _ in range(tasks)))
    return sum(results)


def make_asyncio(scale: float) -> Workload:
    tasks, items = 20, int(1500 * scale)
    return Workload(
        lambda: asyncio.run(gather_all(tasks, items)),
        [gather_all, worker, fetch],
        lambda: asyncio.run(gather_all(2, 50)),
    )


# ---- 6. threads ------------------------------------------------------------------------


def crunch(n: int, out: list[int]) -> None:
    acc = 0
    for i in range(n):
        acc += i % 7
        if acc > 1000:
            acc -= 1000
    out.append(acc)


def run_threads(nthreads: int, n: int) -> int:
    out: list[int] = []
    threads = [threading.Thread(target=crunch, args=(n, out)) for _ in range(nthreads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(out)


def make_threads(scale: float) -> Workload:
    n = int(150_000 * scale)
    return Workload(lambda: run_threads(4, n), [crunch], lambda: run_threads(2, 1000))


# ---- 7. one profiled function inside a large unprofiled program ----------------------------
#
# A small expression language (tokenizer, recursive-descent parser, evaluator), JSON round
# trips, sorting with key functions and a few classes: none of it registered.  One small
# function is profiled and called once per evaluated expression.


class Token:
    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text


def tokenize(src: str) -> list[Token]:
    tokens = []
    i = 0
    while i < len(src):
        ch = src[i]
        if ch.isspace():
            i += 1
        elif ch.isdigit():
            j = i
            while j < len(src) and src[j].isdigit():
                j += 1
            tokens.append(Token("num", src[i:j]))
            i = j
        elif ch.isalpha():
            j = i
            while j < len(src) and src[j].isalnum():
                j += 1
            tokens.append(Token("name", src[i:j]))
            i = j
        else:
            tokens.append(Token("op", ch))
            i += 1
    return tokens


class Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str:
        return self.tokens[self.pos].text if self.pos < len(self.tokens) else ""

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expr(self) -> Any:
        node = self.term()
        while self.peek() in ("+", "-"):
            node = (self.take().text, node, self.term())
        return node

    def term(self) -> Any:
        node = self.atom()
        while self.peek() in ("*", "%"):
            node = (self.take().text, node, self.atom())
        return node

    def atom(self) -> Any:
        token = self.take()
        if token.text == "(":
            node = self.expr()
            self.take()
            return node
        if token.kind == "num":
            return int(token.text)
        return ("var", token.text)


def evaluate(node: Any, env: dict[str, int]) -> int:
    if isinstance(node, int):
        return node
    if node[0] == "var":
        return env.get(node[1], 0)
    op, left, right = node
    a, b = evaluate(left, env), evaluate(right, env)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a % b if b else 0


@dataclass
class Account:
    name: str
    balance: int = 0
    history: list[int] = field(default_factory=list)

    def post(self, amount: int) -> None:
        self.balance += amount
        self.history.append(amount)


def checksum(value: int, seen: int) -> int:
    # The one profiled function.
    mixed = (value * 2654435761) & 0xFFFFFFFF
    return (seen ^ mixed) % 1_000_003


def big_program(sources: list[str]) -> int:
    accounts = {name: Account(name) for name in ("a", "b", "c", "d")}
    seen = 0
    for k, src in enumerate(sources):
        env = {name: acc.balance % 97 for name, acc in accounts.items()}
        value = evaluate(Parser(tokenize(src)).expr(), env)
        accounts["abcd"[k % 4]].post(value % 11 - 5)
        seen = checksum(value, seen)
        if k % 50 == 0:
            blob = json.dumps({n: a.history[-20:] for n, a in accounts.items()})
            ranked = sorted(json.loads(blob).items(), key=lambda kv: (sum(kv[1]), kv[0]))
            seen ^= len(ranked)
    return seen


def make_unprofiled_program(scale: float) -> Workload:
    rng = random.Random(7)
    atoms = ["a", "b", "c", "d", "12", "7", "(a + 3)", "(b * c)", "(d % 5)"]
    sources = [
        " + ".join(f"{rng.choice(atoms)} * {rng.choice(atoms)}" for _ in range(4))
        for _ in range(int(2_000 * scale))
    ]
    return Workload(lambda: big_program(sources), [checksum], lambda: big_program(sources[:100]))


def decorate_checksum(decorator: Callable[..., Any]) -> None:
    """``@profile`` on checksum, as in the program's source: the decorator gets a function
    object nothing else holds (checksum's code, new function), and the program calls what it
    returns."""
    code, namespace = checksum.__code__, checksum.__globals__
    # Made in the call itself: a local holding it would be one more reference, and lineprof's
    # @profile would (rightly) take it for a function the program may call directly.
    globals()["checksum"] = decorator(types.FunctionType(code, namespace, "checksum"))


def make_decorated_program(scale: float) -> Workload:
    workload = make_unprofiled_program(scale)
    workload.decorate = decorate_checksum
    return workload


# ---- 8. a profiled line calling unprofiled Python helpers ---------------------------------


def digit_sum(n: int) -> int:
    total = 0
    while n:
        total += n % 10
        n //= 10
    return total


def classify(n: int) -> str:
    if n % 15 == 0:
        return "fizzbuzz"
    if n % 3 == 0:
        return "fizz"
    return "buzz" if n % 5 == 0 else "plain"


def uses_helpers(n: int) -> dict[str, int]:
    buckets: dict[str, int] = {}
    for i in range(n):
        kind = classify(i)
        buckets[kind] = buckets.get(kind, 0) + digit_sum(i * 7919)
    return buckets


def make_helpers(scale: float) -> Workload:
    n = int(120_000 * scale)
    return Workload(lambda: uses_helpers(n), [uses_helpers], lambda: uses_helpers(n // 20))


# ---- 9. a realistic pipeline: parse, transform, aggregate ---------------------------------


@dataclass
class Record:
    day: str
    region: str
    product: str
    quantity: int
    price: float


def parse(lines: list[str]) -> list[Record]:
    records = []
    for line in lines:
        day, region, product, qty, price = line.split(",")
        if not qty.isdigit():
            continue
        records.append(Record(day, region.strip(), product.strip(), int(qty), float(price)))
    return records


def transform(records: list[Record]) -> list[tuple[str, str, float]]:
    out = []
    for rec in records:
        month = rec.day[:7]
        revenue = rec.quantity * rec.price
        if rec.region == "north":
            revenue *= 1.1
        out.append((month, rec.product, round(revenue, 2)))
    return out


def aggregate(rows: list[tuple[str, str, float]]) -> list[tuple[str, float]]:
    totals: dict[str, float] = {}
    for month, product, revenue in rows:
        key = f"{month}/{product}"
        totals[key] = totals.get(key, 0.0) + revenue
    return sorted(totals.items(), key=lambda kv: -kv[1])[:10]


def pipeline(lines: list[str]) -> list[tuple[str, float]]:
    return aggregate(transform(parse(lines)))


def make_pipeline(scale: float) -> Workload:
    rng = random.Random(3)
    regions = ["north", "south", " east", "west "]
    products = ["widget", "gadget", "doohickey", "gizmo", "sprocket"]
    lines = [
        f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},{rng.choice(regions)},"
        f"{rng.choice(products)},{rng.choice(['1', '2', '17', 'x'])},{rng.uniform(1, 99):.2f}"
        for _ in range(int(40_000 * scale))
    ]
    return Workload(
        lambda: pipeline(lines),
        [pipeline, parse, transform, aggregate],
        lambda: pipeline(lines[:2000]),
    )


WORKLOADS: dict[str, tuple[Callable[[float], Workload], str]] = {
    "tight_loop": (make_tight_loop, "tight loop of cheap lines (x += i; x ^= 1)"),
    "strings": (make_strings, "string processing, many small profiled calls"),
    "recursion": (make_recursion, "recursive fib: one profiled call per 3 lines"),
    "generators": (make_generators, "3 chained profiled generators"),
    "asyncio": (make_asyncio, "20 asyncio tasks awaiting profiled coroutines"),
    "threads": (make_threads, "4 threads running a profiled loop"),
    "unprofiled_program": (
        make_unprofiled_program,
        "large unprofiled program, one small profiled function",
    ),
    "decorated_program": (
        make_decorated_program,
        "the same, the function under @profile (kernprof -l / lineprof -l / LINE_PROFILE=1)",
    ),
    "helpers": (make_helpers, "profiled lines calling unprofiled Python helpers"),
    "pipeline": (make_pipeline, "parse/transform/aggregate records"),
}

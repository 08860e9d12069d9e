"""Property tests: randomly generated functions, profiled on every backend, must show the same
per-line hits as a simple pure-Python ``sys.settrace`` reference counter.

The reference applies lineprof's documented counting rules on top of the trace events:
  * the lines of one multi-line statement count on its first line (codemap.layout's rows);
  * a line event for the line already running is not a new hit (a loop on one line, the other
    lines of a multi-line statement);
  * a generator resuming continues its line: no hit.
Everything else must agree exactly.  Also: no time is negative, and a function's total is the
sum of its lines.

Seeded and reproducible: LINEPROF_PROPERTY_SEED picks another seed, LINEPROF_PROPERTY_CASES
another number of functions.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import types
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from lineprof import LineProfiler, codemap

SEED = int(os.environ.get("LINEPROF_PROPERTY_SEED", "20261121"))
CASES = int(os.environ.get("LINEPROF_PROPERTY_CASES", "120"))

PRELUDE = """\
class CM:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


"""


class FunctionGenerator:
    """Random function source: nested loops, if/else, try/except/finally, with, early return,
    break/continue, comprehensions, lambdas, multi-line statements, optionally yields."""

    def __init__(self, rng: random.Random, generator: bool) -> None:
        self.rng = rng
        self.generator = generator

    def function(self, name: str) -> str:
        lines = [f"def {name}(n):", "    acc = n"]
        lines += self.block(0, 4, in_loop=False)
        lines.append("    return acc")
        return "\n".join(lines) + "\n"

    def block(self, depth: int, indent: int, in_loop: bool) -> list[str]:
        rng = self.rng
        simple = ["assign", "multi", "comp", "lambda", "oneline_loop"]
        compound = ["if", "for", "while", "try", "with", "ret"] + (["brk"] if in_loop else [])
        kinds = simple + (compound if depth < 3 else []) + (["yield"] if self.generator else [])
        p = " " * indent
        out: list[str] = []
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(kinds)
            if kind == "assign":
                out.append(f"{p}acc += {rng.randint(1, 5)}")
            elif kind == "multi":
                out += [
                    f"{p}acc += max(",
                    f"{p}    1,",
                    f"{p}    acc % {rng.randint(2, 5)},",
                    f"{p})",
                ]
            elif kind == "comp":
                out += [f"{p}acc += len([i", f"{p}            for i in range(acc % 3)])"]
            elif kind == "lambda":
                out.append(f"{p}acc += (lambda x: x + 1)(acc) % 3")
            elif kind == "oneline_loop":
                out.append(f"{p}k = acc % 3")
                out.append(f"{p}while k > 0: k -= 1  # noqa: E701")
            elif kind == "yield":
                out.append(f"{p}acc += (yield acc) or 1")
            elif kind == "if":
                out.append(f"{p}if acc % {rng.randint(2, 4)} == 0:")
                out += self.block(depth + 1, indent + 4, in_loop)
                if rng.random() < 0.5:
                    out.append(f"{p}else:")
                    out += self.block(depth + 1, indent + 4, in_loop)
            elif kind == "for":
                out.append(f"{p}for i{depth} in range({rng.randint(0, 3)}):")
                out += self.block(depth + 1, indent + 4, True)
            elif kind == "while":
                out.append(f"{p}w{depth} = {rng.randint(0, 3)}")
                out.append(f"{p}while w{depth} > 0:")
                out.append(f"{p}    w{depth} -= 1")
                out += self.block(depth + 1, indent + 4, True)
            elif kind == "try":
                out.append(f"{p}try:")
                out += self.block(depth + 1, indent + 4, in_loop)
                if rng.random() < 0.6:
                    out.append(f"{p}    if acc % 2:")
                    out.append(f"{p}        raise ValueError(acc)")
                out.append(f"{p}except ValueError:")
                out += self.block(depth + 1, indent + 4, in_loop)
                if rng.random() < 0.5:
                    out.append(f"{p}finally:")
                    out.append(f"{p}    acc += 1")
            elif kind == "with":
                out.append(f"{p}with CM():")
                out += self.block(depth + 1, indent + 4, in_loop)
            elif kind == "ret":
                out.append(f"{p}if acc > {rng.randint(5, 60)}:")
                out.append(f"{p}    return acc")
            elif kind == "brk":
                out.append(f"{p}if acc % 3 == 1:")
                out.append(f"{p}    {rng.choice(['break', 'continue'])}")
        return out


def load(path: Path, source: str, name: str) -> types.ModuleType:
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def drive(func: Any, arg: int) -> Any:
    """Call func; exhaust it if it is a generator, sending values back in."""
    result = func(arg)
    if not isinstance(result, types.GeneratorType):
        return result
    out, value = [], None
    try:
        while True:
            out.append(result.send(value))
            value = len(out)
    except StopIteration as stop:
        out.append(stop.value)
    return out


def reference_hits(func: Any, arg: int) -> tuple[Any, Counter[int]]:
    code = func.__code__
    lay = codemap.layout(code)

    def row(line: int | None) -> int | None:
        if line is None:
            return None
        i = line - lay.first_line
        return lay.first_line + lay.rows[i] if 0 <= i < len(lay.rows) else None

    hits: Counter[int] = Counter()
    current: dict[int, int | None] = {}

    def local(frame: types.FrameType, event: str, _arg: object) -> Any:
        if event == "line":
            r = row(frame.f_lineno)
            if r != current.get(id(frame)):
                current[id(frame)] = r
                if r is not None:
                    hits[r] += 1
        return local

    def global_trace(frame: types.FrameType, event: str, _arg: object) -> Any:
        if frame.f_code is not code:
            return None
        starting = frame.f_lasti <= lay.start_offset
        current[id(frame)] = None if starting else row(frame.f_lineno)
        return local

    sys.settrace(global_trace)
    try:
        result = drive(func, arg)
    finally:
        sys.settrace(None)
    return result, hits


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    rng = random.Random(SEED)
    directory = tmp_path_factory.mktemp("generated")
    functions = []
    for case in range(CASES):
        generator = case % 4 == 3
        name = f"case_{case}"
        source = PRELUDE + FunctionGenerator(rng, generator).function(name)
        module = load(directory / f"{name}.py", source, f"lineprof_generated_{case}")
        functions.append(getattr(module, name))
    return functions


def test_hits_match_the_settrace_reference(backend: str, generated: list[Any]) -> None:
    mismatches = []
    for func in generated:
        for arg in (0, 1, 7):
            expected_result, expected = reference_hits(func, arg)
            lp = LineProfiler(func, backend=backend)
            with lp:
                result = drive(func, arg)
            assert result == expected_result
            ((_, rows),) = lp.get_stats().timings.items()
            got = Counter({line: hits for line, hits, _ in rows if hits})
            if got != expected:
                mismatches.append((func.__code__.co_filename, arg, dict(expected), dict(got)))
            assert all(time >= 0 for _, _, time in rows)
    assert not mismatches, f"seed {SEED}: {len(mismatches)} mismatches, first: {mismatches[0]}"


def test_total_is_the_sum_of_lines(backend: str, generated: list[Any]) -> None:
    from lineprof.report import format_func

    func = generated[0]
    lp = LineProfiler(*generated[:10], backend=backend)
    with lp:
        for f in generated[:10]:
            drive(f, 3)
    stats = lp.get_stats()
    for (filename, first, name), rows in stats.timings.items():
        total = sum(t for _, _, t in rows)
        text = format_func(filename, first, name, rows, stats.unit)
        assert text.startswith(f"Total time: {total * stats.unit:g} s\n")
    assert func is generated[0]

"""Accuracy benchmark: functions whose lines' true costs are measured without any profiler.

Child side (run by child.py in a benchmark venv):

* ``measure_truth(case)``: runs the case once to learn, for every line of its profiled
  functions, how many times it runs (the interpreter's own line events) and the local
  variables it sees when it starts.  Then, unprofiled, the lines that run many times are timed
  in context by prefixes: the function is cut after its k-th loop-body statement (or, with no
  loop, after its k-th statement) and each cut is timed; a statement's true time is what adding
  it adds (time with k statements - time with k - 1), and the ``for`` line's is the loop with
  an empty body.  So the truth includes what a statement costs where it runs (a freed value,
  a cold cache line, a mispredicted dispatch), which timing it alone does not, and the line
  costs add up to the function's time by construction.  Lines that run once are timed alone,
  in a loop with the locals they saw as fast locals (best of several runs, minus the cost of
  the empty loop).  The whole case is also timed unprofiled, so the sum of the line costs can
  be checked against it ("closure").
* ``profile_case(case, mode)``: runs the case once under lineprof or line_profiler and returns
  what the profiler reports for each line.

run.py compares the two (median over fresh processes) and prints per line reported vs true
time, the overall error (sum |reported - true| / true total) and the error of the "% Time"
column in percentage points.
"""

from __future__ import annotations

import ast
import copy
import functools
import inspect
import random
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# ---- the cases -------------------------------------------------------------------------
# Every statement sits on one line (the isolation times one line's statement alone).


def cheap_vs_expensive(data: list[int], n: int) -> int:
    acc = 0
    for i in range(n):
        x = i + 1
        s = sorted(data)
        y = x * 3
        acc += s[0] + y
    return acc


def py_helper(k: int) -> int:
    # Unprofiled pure-Python helper.
    t = 0
    for j in range(k):
        t += j * j
    return t


def helper_call(data: list[int], n: int) -> int:
    acc = 0
    for _ in range(n):
        a = py_helper(40)
        b = sum(data)
        acc += a - b
    return acc


def many_cheap(rec: dict[str, int], n: int) -> int:
    size = 0
    for i in range(n):
        a = rec["a"]
        b = rec["b"] + i
        c = a * b
        d = c & 0xFF
        e = (a, b)
        f = e[0] + d
        g = str(f) * 3
        size = len(g)
    return size


def inner(v: int) -> int:
    w = v * 2
    w += 1
    return w % 97


def profiled_callee(n: int) -> int:
    acc = 0
    for i in range(n):
        acc += inner(i)
        acc ^= i
    return acc


@dataclass
class Case:
    name: str
    profiled: list[Callable[..., Any]]
    make_call: Callable[[], Callable[[], Any]]
    what: str
    # How the lines that run many times get their truth: "prefix" (in context; see the module
    # docstring) or "alone".  A case with an expensive line keeps "alone": its run-to-run
    # noise (1% of a sorted() is ~100 ns) swamps the difference a 10 ns line makes to a prefix.
    truth: str = "prefix"


def _shuffled(n: int) -> list[int]:
    data = list(range(n))
    random.Random(5).shuffle(data)
    return data


CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case(
            "cheap_vs_expensive",
            [cheap_vs_expensive],
            lambda: functools.partial(cheap_vs_expensive, _shuffled(400), 4000),
            "cheap lines next to sorted() of 400 ints",
            truth="alone",
        ),
        Case(
            "helper_call",
            [helper_call],
            lambda: functools.partial(helper_call, _shuffled(250), 20000),
            "a line calling an unprofiled Python helper, next to a C builtin of like cost",
            truth="alone",
        ),
        Case(
            "many_cheap",
            [many_cheap],
            lambda: functools.partial(many_cheap, {"a": 3, "b": 4}, 30000),
            "eight cheap lines (10-100 ns each)",
        ),
        Case(
            "profiled_callee",
            [profiled_callee, inner],
            lambda: functools.partial(profiled_callee, 40000),
            "a line calling a profiled function (both profiled)",
        ),
    ]
}


# ---- truth -----------------------------------------------------------------------------


def _line_statements(func: Callable[..., Any]) -> dict[int, tuple[str, str]]:
    """line -> (kind, source to time alone) for each statement line of ``func``'s body."""
    src = textwrap.dedent(inspect.getsource(func))
    first = func.__code__.co_firstlineno
    tree = ast.parse(src).body[0]
    out: dict[int, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or node is tree:
            continue
        line = first + node.lineno - 1
        if isinstance(node, ast.For):
            out[line] = ("for", f"for {ast.unparse(node.target)} in {ast.unparse(node.iter)}:")
        elif isinstance(node, ast.If | ast.While):
            out[line] = ("stmt", f"if {ast.unparse(node.test)}: pass")
        elif isinstance(node, ast.Return):
            out[line] = ("stmt", ast.unparse(node.value) if node.value else "pass")
        else:
            out[line] = ("stmt", ast.unparse(node))
    return out


class _Snapshot:
    """Locals of the profiled frames at the start of each line, taken at the line's middle run
    (``want[(code, line)]``), so that values that change as a loop goes (counters growing past
    the small-int cache, say) are typical ones."""

    def __init__(self, codes: set[Any], want: dict[tuple[Any, int], int]) -> None:
        self.codes = codes
        self.want = want
        self.locals: dict[tuple[Any, int], dict[str, Any]] = {}
        self.seen: dict[tuple[Any, int], int] = {}

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "call":
            return self if frame.f_code in self.codes else None
        if event == "line":
            key = (frame.f_code, frame.f_lineno)
            n = self.seen.get(key, 0) + 1
            self.seen[key] = n
            if n == self.want.get(key, 1):
                self.locals[key] = dict(frame.f_locals)
        return self


UNROLL = 5  # copies of the statement per loop iteration: the loop's own cost weighs less
ROUNDS = 15  # every timed loop runs once per round; the best round counts
RUN_NS = 2e6  # aim for each timed run to take this long


class _Loop:
    """``for _ in range(n): src`` (``src`` repeated UNROLL times unless it is ``pass``) with
    ``names`` as fast locals, n sized so that one run takes about RUN_NS."""

    def __init__(self, src: str, names: list[str], values: list[Any]) -> None:
        params = ", ".join(["_n", *names])
        body = "pass" if src == "pass" else "; ".join([src] * UNROLL)
        code = f"def _iso({params}):\n    for _ in range(_n):\n        {body}\n"
        namespace: dict[str, Any] = {}
        exec(compile(code, "<isolated>", "exec"), globals(), namespace)
        self.fn = namespace["_iso"]
        self.values = values
        self.best = float("inf")
        n = 16
        while True:
            elapsed = self._run(n)
            if elapsed > RUN_NS / 8 or n > 50_000_000:
                break
            n *= 4
        self.n = max(1, int(n * RUN_NS / max(elapsed, 1.0)))

    def _run(self, n: int) -> float:
        t0 = time.perf_counter_ns()
        self.fn(n, *self.values)
        return time.perf_counter_ns() - t0

    def round(self) -> None:
        self.best = min(self.best, self._run(self.n) / self.n)


class _Prefixes:
    """``func`` cut after each of its loop body's statements (or, with no loop, after each of
    its statements): ``cuts[k]`` runs the first k of them (k = 0: none), ``lines[k - 1]`` is the
    k-th one's line.  ``round()`` times one call of every cut: with the case's arguments for a
    function with a loop, in a loop of calls sized like _Loop's for one without.

    A function without a loop is a callee, and a callee's locals are freed when it returns,
    after its last line event: a line profiler charges that to the calling line.  So that the
    truth does too (and does not charge it to the line that set them), every cut of a callee
    binds its locals to None first and hands them, before it returns, to a list that is
    emptied outside the timed runs."""

    def __init__(self, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
        src = textwrap.dedent(inspect.getsource(func))
        first = func.__code__.co_firstlineno
        fdef = ast.parse(src).body[0]
        assert isinstance(fdef, ast.FunctionDef)
        loop = next((n for n in fdef.body if isinstance(n, ast.For)), None)
        self.loop_line = first + loop.lineno - 1 if loop is not None else None
        stmts = loop.body if loop is not None else fdef.body
        self.lines = [first + stmt.lineno - 1 for stmt in stmts]
        self.cuts = []
        self.kept: list[Any] = []
        params = {a.arg for a in fdef.args.args}
        names = sorted(
            {
                n.id
                for n in ast.walk(fdef)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
            - params
        )
        bind = [ast.parse(f"{name} = None").body[0] for name in names]
        keep = ast.parse(f"_kept.append(({''.join(n + ', ' for n in names)}))").body[0]
        for k in range(len(stmts) + 1):
            cut = copy.deepcopy(fdef)
            cut.decorator_list = []
            loop = next((n for n in cut.body if isinstance(n, ast.For)), None)
            if loop is not None:
                loop.body = loop.body[:k] or [ast.Pass()]
            else:
                body = cut.body[:k]
                ret = [body.pop()] if body and isinstance(body[-1], ast.Return) else []
                cut.body = [*copy.deepcopy(bind), *body, copy.deepcopy(keep), *ret]
            module = ast.fix_missing_locations(ast.Module(body=[cut], type_ignores=[]))
            namespace = dict(func.__globals__)
            namespace["_kept"] = self.kept
            exec(compile(module, "<prefix>", "exec"), namespace)
            self.cuts.append(namespace[func.__name__])
        self.args = args
        self.calls = 1
        if loop is None:  # size the loop of calls
            n = 16
            while True:
                elapsed = self._time(len(self.cuts) - 1, n)
                if elapsed > RUN_NS / 8 or n > 50_000_000:
                    break
                n *= 4
            self.calls = max(1, int(n * RUN_NS / max(elapsed, 1.0)))
        self.best = [float("inf")] * len(self.cuts)

    def _time(self, k: int, calls: int) -> float:
        cut, args = self.cuts[k], self.args
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            cut(*args)
        elapsed = time.perf_counter_ns() - t0
        self.kept.clear()  # the callee's locals, freed here, untimed
        return elapsed

    def round(self) -> None:
        for k in range(len(self.cuts)):
            self.best[k] = min(self.best[k], self._time(k, self.calls) / self.calls)

    def truth(self) -> dict[int, float]:
        """line -> true ns per call of the function (the ``for`` line: the empty loop)."""
        out = {line: max(0.0, self.best[k + 1] - self.best[k]) for k, line in enumerate(self.lines)}
        if self.loop_line is not None:
            out[self.loop_line] = self.best[0]
        return out


def measure_truth(name: str) -> dict[str, Any]:
    from profilers import EventCounter

    case = CASES[name]
    codes = {f.__code__ for f in case.profiled}
    call = case.make_call()
    assert isinstance(call, functools.partial)
    call()  # warm up
    with EventCounter(codes) as counter:
        call()
    snap = _Snapshot(codes, {key: (n + 1) // 2 for key, n in counter.per_line.items()})
    sys.settrace(snap)
    try:
        call()
    finally:
        sys.settrace(None)

    # Per function: prefixes for the lines that run many times, isolation for the others.
    prefixes: dict[Any, _Prefixes] = {}
    for func in case.profiled if case.truth == "prefix" else []:
        code = func.__code__
        if func is call.func:
            args = tuple(call.args)
        else:  # a callee: the arguments its first line saw
            first_body = min(line for c, line in counter.per_line if c is code)
            local = snap.locals.get((code, first_body), {})
            args = tuple(local[v] for v in code.co_varnames[: code.co_argcount])
        prefixes[func] = _Prefixes(func, args)

    # Every timed thing (and the whole case) runs once per round, round-robin, so a slow spell
    # of the machine hits them all alike; the best round counts.
    plan = []
    for func in case.profiled:
        code = func.__code__
        pre = prefixes.get(func)
        by_prefix = set(pre.lines) | {pre.loop_line} if pre is not None else set()
        for line, (kind, src) in sorted(_line_statements(func).items()):
            hits = counter.per_line.get((code, line), 0)
            if hits == 0 or line in by_prefix:
                continue
            local = snap.locals.get((code, line), {})
            names = sorted(local)
            values = [local[k] for k in names]
            empty = _Loop("pass", names, values)
            stmt = None if kind == "for" else _Loop(src, names, values)
            plan.append((func, line, hits, src, empty, stmt))
    best_whole = float("inf")
    for _ in range(ROUNDS):
        t0 = time.perf_counter_ns()
        call()
        best_whole = min(best_whole, time.perf_counter_ns() - t0)
        for pre in prefixes.values():
            pre.round()
        for *_, empty, stmt in plan:
            empty.round()
            if stmt is not None:
                stmt.round()

    functions = []
    for func in case.profiled:
        code = func.__code__
        statements = _line_statements(func)
        alone: dict[int, float] = {}  # per hit
        for f, line, _, _, empty, stmt in plan:
            if f is func:
                alone[line] = (
                    empty.best if stmt is None else max(0.0, (stmt.best - empty.best) / UNROLL)
                )
        pre = prefixes.get(func)
        in_context = pre.truth() if pre is not None else {}  # per call of func
        calls = 1
        if pre is not None and pre.loop_line is None:
            calls = counter.per_line.get((code, pre.lines[0]), 0)
        if pre is not None and pre.loop_line is not None:
            # The empty-bodied loop's time holds the once-run lines too.
            once = sum(alone[ln] * counter.per_line.get((code, ln), 0) for ln in alone)
            in_context[pre.loop_line] = max(0.0, in_context[pre.loop_line] - once)
        lines = []
        for line, (_, src) in sorted(statements.items()):
            hits = counter.per_line.get((code, line), 0)
            if hits == 0:
                continue
            if line in in_context:
                per_hit = in_context[line] * calls / hits
                method = "prefix"
            else:
                per_hit = alone[line]
                method = "alone"
            lines.append(
                {"line": line, "hits": hits, "per_hit_ns": per_hit, "src": src, "method": method}
            )
        functions.append(
            {
                "qualname": func.__qualname__,
                "first_line": func.__code__.co_firstlineno,
                "lines": lines,
            }
        )
    return {"case": name, "whole_ns": best_whole, "functions": functions}


# ---- what a profiler reports -----------------------------------------------------------


PROFILED_RUNS = 5  # per process; the run with the least total time counts (as the truth's best)


def profile_case(name: str, mode: str) -> dict[str, Any]:
    """The case run PROFILED_RUNS times, each under a new profiler, alternating with unprofiled
    runs; the per-line report of the profiled run whose total is smallest, and the best
    unprofiled time (``whole_ns``: run.py scales this process's numbers by the truth's
    whole_ns / this one, so that a process caught by a slow spell of the machine is compared
    at the truth's speed)."""
    from profilers import make_profiler, profiler_backend

    case = CASES[name]
    call = case.make_call()
    call()  # warm up, unprofiled
    best: dict[str, Any] | None = None
    best_whole = float("inf")
    for _ in range(PROFILED_RUNS):
        t0 = time.perf_counter_ns()
        call()
        best_whole = min(best_whole, time.perf_counter_ns() - t0)
        prof = make_profiler(mode)
        for func in case.profiled:
            prof.add_function(func)
        prof.enable_by_count()
        try:
            backend = profiler_backend(prof)
            call()
        finally:
            prof.disable_by_count()
        stats = prof.get_stats()
        to_ns = stats.unit * 1e9
        functions = []
        for func in case.profiled:
            code = func.__code__
            rows: list[tuple[int, int, float]] = []
            for (_, first_line, _), lines in stats.timings.items():
                if first_line == code.co_firstlineno:
                    rows = [(ln, hits, t * to_ns) for ln, hits, t in lines]
            functions.append({"qualname": func.__qualname__, "lines": rows})
        total = sum(t for _, _, t in functions[0]["lines"])
        if best is None or total < best["total_ns"]:
            best = {"case": name, "mode": mode, "backend": backend, "functions": functions}
            best["total_ns"] = total
    assert best is not None
    best["whole_ns"] = best_whole
    return best

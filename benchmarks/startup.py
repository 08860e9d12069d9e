"""What profiling costs a short program as a whole: start-up, the first session, writing results.

A program that computes for about 0.25 s and profiles one small function is run as a whole
process, unprofiled and profiled, in pairs (the order alternating from pair to pair, so a slow
spell of the machine falls on both sides as often), and each pair gives one ratio of wall
times; the median of the ratios is reported, with the median difference in ms.  Everything
lineprof adds is inside: importing it, choosing the clock, the first session, the exit that
writes the results file and prints the summary, and with ``children`` the child processes it
follows (multiprocessing) and the merge of their results.

Then the same programs with no work (0 rounds: the profiled function called once, so that each
has its profiling session) give each variant's fixed cost: the fastest of ``--fixed-runs`` runs
of each side, the sides interleaved. On a machine whose speed changes for spells of a fraction
of a second, a 0.25 s pair often straddles a change (its ratio moves by 10 % and more); a 20 ms
run seldom does, and its fastest run is the cost with nothing else in the way.

Variants (profiled side; the unprofiled side is ``python prog.py``):

- ``command``: ``python -m lineprof -l prog.py`` (the function carries a bare ``@profile``);
- ``decorator``: ``LINE_PROFILE=1 python prog.py`` with ``from lineprof import profile``;
- ``children``: ``python -m lineprof -l prog.py`` where the work and the profiled function run in
  two multiprocessing worker processes.

Measure with lineprof installed as users install it (``pip install .``), not editable: an
editable install's import hook loads pathlib, re, enum and collections into every process,
unprofiled ones included, which hides what lineprof's own imports cost (on 3.13 the
``decorator`` variant read +16 ms editable and +24 ms installed, same tree).

Run by run.py (``--skip-startup`` to leave it out), or alone with a Python that has lineprof:

    python benchmarks/startup.py [--python PATH] [--pairs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PAIRS = 7
FIXED_RUNS = 15

# The work: about 0.25 s of CPU in unprofiled code, plus 200 calls of a small profiled function
# (a few thousand line events: what "profiles one small function" costs at run time is not
# what is measured here, start-up and exit are).
_WORK = """
import sys

def small(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def work(rounds):
    # small() runs at least once, so a run of 0 rounds still has its profiling session: with
    # ``LINE_PROFILE=1`` the session starts at the first call of a function under @profile.
    acc = small(10)
    for r in range(rounds):
        acc += sum(i % 7 for i in range(2000))
        if r % 50 == 0:
            acc += small(10)
    return acc
"""

# A bare @profile: the command's builtin when profiled (-l), a no-op when run plainly.
_BARE_PROFILE = """
try:
    profile
except NameError:
    def profile(func):
        return func
"""

PROGRAMS = {
    "plain": _WORK
    + """
ROUNDS = int(sys.argv[1])
print(work(ROUNDS) > 0)
""",
    "decorator": """
from lineprof import profile
"""
    + _WORK.replace("def small(n):", "@profile\ndef small(n):")
    + """
ROUNDS = int(sys.argv[1])
print(work(ROUNDS) > 0)
""",
    "command": _BARE_PROFILE
    + _WORK.replace("def small(n):", "@profile\ndef small(n):")
    + """
ROUNDS = int(sys.argv[1])
print(work(ROUNDS) > 0)
""",
    "children": "\nimport multiprocessing\n"
    + _BARE_PROFILE
    + _WORK.replace("def small(n):", "@profile\ndef small(n):")
    + """
if __name__ == "__main__":
    ROUNDS = int(sys.argv[1])
    with multiprocessing.Pool(2) as pool:
        print(sum(pool.map(work, [ROUNDS // 2, ROUNDS - ROUNDS // 2])) > 0)
""",
}


def _run(python: str, argv: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([python, *argv], env=env, cwd=cwd, capture_output=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed ({done.returncode}): {done.stderr.decode()[-800:]}")
    return seconds


def _rounds_for(python: str, env: dict[str, str], cwd: str, target: float) -> int:
    """Rounds that make the unprofiled plain program take about ``target`` s here."""
    rounds = 200
    for _ in range(4):
        seconds = min(_run(python, ["plain.py", str(rounds)], env, cwd) for _ in range(3))
        base = min(_run(python, ["plain.py", "0"], env, cwd) for _ in range(3))
        per_round = max((seconds - base) / rounds, 1e-7)
        rounds = max(1, round((target - base) / per_round))
    return rounds


def measure(
    python: str, pairs: int = PAIRS, target: float = 0.25, fixed_runs: int = FIXED_RUNS
) -> dict[str, Any]:
    """Paired whole-process runs of each variant, then their fixed costs; see the module
    docstring."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LINE"))}
    with tempfile.TemporaryDirectory(prefix="lineprof-startup-") as cwd:
        # Bytecode cached as on a user's machine (written by the first, unrecorded runs), kept
        # out of the source trees.
        env["PYTHONPYCACHEPREFIX"] = os.path.join(cwd, "pycache")
        for name, text in PROGRAMS.items():
            Path(cwd, f"{name}.py").write_text(text)
        rounds = _rounds_for(python, env, cwd, target)
        variants: dict[str, tuple[list[str], list[str], dict[str, str]]] = {
            "command": (["command.py"], ["-m", "lineprof", "-l", "command.py"], env),
            "decorator": (["decorator.py"], ["decorator.py"], {**env, "LINE_PROFILE": "1"}),
            "children": (["children.py"], ["-m", "lineprof", "-l", "children.py"], env),
        }
        result: dict[str, Any] = {"rounds": rounds, "pairs": pairs, "variants": {}}
        for name, (plain, profiled, profiled_env) in variants.items():
            # One of each first, unrecorded: the file cache and the interpreter warm up.
            _run(python, [*plain, str(rounds)], env, cwd)
            _run(python, [*profiled, str(rounds)], profiled_env, cwd)
            runs = []
            for index in range(pairs):
                order = [(False, plain, env), (True, profiled, profiled_env)]
                if index % 2:
                    order.reverse()
                times = {}
                for is_profiled, argv, run_env in order:
                    times[is_profiled] = _run(python, [*argv, str(rounds)], run_env, cwd)
                runs.append((times[False], times[True]))
            ratios = [p / u for u, p in runs]
            result["variants"][name] = {
                "runs": runs,
                "unprofiled_s": statistics.median(u for u, _ in runs),
                "median_ratio": statistics.median(ratios),
                "median_added_ms": statistics.median((p - u) * 1e3 for u, p in runs),
            }
        result["fixed_runs"] = fixed_runs
        result["fixed"] = _fixed_costs(python, variants, env, cwd, fixed_runs)
    return result


def _fixed_costs(
    python: str,
    variants: dict[str, tuple[list[str], list[str], dict[str, str]]],
    env: dict[str, str],
    cwd: str,
    runs: int,
) -> dict[str, dict[str, float]]:
    """What each variant adds when the program does no work (0 rounds, one profiled call):
    start-up, the first session, the exit. A run this short (15-40 ms) mostly falls inside one
    of the machine's fast or slow spells, so the fastest run of each side is the figure: the
    difference of the fastest runs is what lineprof adds when nothing else gets in the way; the
    difference of the medians is given beside it. Every side of every variant runs once per
    round, so a slow spell falls on all of them alike."""
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(runs):
        for name, (plain, profiled, profiled_env) in variants.items():
            for is_profiled, argv, run_env in ((False, plain, env), (True, profiled, profiled_env)):
                seconds = _run(python, [*argv, "0"], run_env, cwd)
                times.setdefault((name, is_profiled), []).append(seconds)
    out = {}
    for name in variants:
        plain_s, profiled_s = times[(name, False)], times[(name, True)]
        out[name] = {
            "unprofiled_fastest_ms": min(plain_s) * 1e3,
            "added_fastest_ms": (min(profiled_s) - min(plain_s)) * 1e3,
            "added_median_ms": (statistics.median(profiled_s) - statistics.median(plain_s)) * 1e3,
        }
    return out


def table(result: dict[str, Any]) -> str:
    lines = [
        f"Whole program, profiled vs unprofiled ({result['pairs']} pairs, medians):",
        f"{'variant':<11} {'unprofiled':>11} {'ratio':>7} {'added':>9}",
    ]
    for name, row in result["variants"].items():
        lines.append(
            f"{name:<11} {row['unprofiled_s'] * 1e3:>8.1f} ms {row['median_ratio']:>6.3f}x "
            f"{row['median_added_ms']:>6.1f} ms"
        )
    lines.append(f"Fixed cost, 0 rounds of work ({result['fixed_runs']} runs of each side):")
    lines.append(f"{'variant':<11} {'unprofiled':>11} {'added':>9} {'(medians)':>10}")
    for name, row in result["fixed"].items():
        lines.append(
            f"{name:<11} {row['unprofiled_fastest_ms']:>8.1f} ms "
            f"{row['added_fastest_ms']:>6.1f} ms {row['added_median_ms']:>7.1f} ms"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable, help="a Python that has lineprof")
    parser.add_argument("--pairs", type=int, default=PAIRS)
    parser.add_argument("--fixed-runs", type=int, default=FIXED_RUNS)
    parser.add_argument("--json", type=Path, default=None, help="write every number here")
    args = parser.parse_args(argv)
    result = measure(args.python, args.pairs, fixed_runs=args.fixed_runs)
    print(table(result), end="")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

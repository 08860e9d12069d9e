"""lineprof's benchmark harness: overhead, accuracy and memory against line_profiler.

    python benchmarks/run.py [--quick] [--python PATH ...] [--out DIR] [--json FILE]

For every CPython >= 3.10 in ~/.pyenv/versions (or each --python), it makes or reuses a venv in
~/.cache/lineprof-bench/ (LINEPROF_BENCH_CACHE), pip-installs lineprof from a copy of this
repository and the latest line_profiler from PyPI there, and then, each measurement in a fresh
process:

1. counts each workload's line events once (a sys.monitoring / sys.settrace counter);
2. times every workload unprofiled, under lineprof and under line_profiler, interleaved
   (A/B/C, A/B/C, ...), --reps repetitions, and reports medians: slowdown, ns of overhead per
   line event, lineprof / line_profiler;
3. measures the per-call cost of an ``@profiler``-decorated function with and without an
   enclosing profiling session;
4. runs the accuracy benchmark (accuracy.py): reported vs true time per line, on a quiet
   machine and again while a second process it starts keeps another core busy;
5. measures memory per profiled line and the cost of get_stats() + print_stats() with 10,000
   profiled functions;
6. times a whole 0.25 s program profiled and unprofiled, in pairs (startup.py): start-up, the
   first session, the exit that writes results, child processes; then the same programs doing
   no work, for the fixed cost alone.

Prints a table per interpreter and writes them (results.txt) and every raw number
(results.json) to --out.  Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # no __pycache__ in the work tree; children use a cache prefix
sys.path.insert(0, str(Path(__file__).resolve().parent))

import envs  # noqa: E402
import startup  # noqa: E402
import tables  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

CHILD = str(Path(__file__).resolve().parent / "child.py")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Runner:
    """Runs child.py commands with one venv's interpreter, each in a fresh process."""

    def __init__(self, env: envs.Env, cache: Path, backend: str) -> None:
        self.env = env
        self.workdir = tempfile.mkdtemp(prefix="lineprof-bench-")
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        self.base_env["PYTHONPYCACHEPREFIX"] = str(cache / "pycache")
        self.base_env["PYTHONHASHSEED"] = "0"
        self.backend = backend

    def __call__(self, *args: str, extra_env: dict[str, str] | None = None) -> dict | None:
        env = {**self.base_env, "LINEPROF_BACKEND": self.backend, **(extra_env or {})}
        try:
            proc = subprocess.run(
                [self.env.python, CHILD, *args],
                capture_output=True,
                text=True,
                cwd=self.workdir,
                env=env,
                timeout=1800,
            )
        except subprocess.TimeoutExpired:
            log(f"  ! {' '.join(args)}: timed out")
            return None
        if proc.returncode != 0:
            log(f"  ! {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
            return None
        # The last JSON line: a profiler's own summary may follow it (lineprof's profile
        # writes one at exit, decorated_program).
        lines = proc.stdout.strip().splitlines()
        return json.loads(next(line for line in reversed(lines) if line.startswith("{")))


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    clocksource = ""
    try:
        path = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
        clocksource = Path(path).read_text().strip()
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "clocksource": clocksource,
        "loadavg_start": os.getloadavg(),
    }


def repo_info(source: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", "--no-optional-locks", "-C", str(source), *args],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {
        "source": str(source),
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--", "csrc", "lineprof", "setup.py")),
        "source_hash": envs.source_hash(source),
    }


def measure_accuracy(
    run: Runner, modes: list[str], args: argparse.Namespace, label: str
) -> dict[str, Any]:
    """accuracy.py's cases: true line costs (unprofiled) and what each profiler reports."""
    import accuracy

    found: dict[str, Any] = {}
    for case in accuracy.CASES:
        log(f"[{label}] accuracy: {case}")
        truths, runs = [], {m: [] for m in modes if m != "unprofiled"}
        for rep in range(max(args.accuracy_reps, args.truth_reps)):
            if rep < args.truth_reps:
                truths.append(run("accuracy-truth", case))
            for mode in runs if rep < args.accuracy_reps else ():
                runs[mode].append(run("accuracy-run", case, mode))
        truths = [t for t in truths if t]
        if truths:
            found[case] = tables.summarize_accuracy(
                truths, runs, normalize=not args.no_speed_normalization
            )
            found[case]["raw"] = {"truths": truths, "runs": runs}
    return found


@contextlib.contextmanager
def cpu_load() -> Iterator[None]:
    """A second process spinning on the CPU for as long as the block runs: on two cores, the
    measured process shares the machine with it, as on a developer's busy laptop."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it get going
        yield
    finally:
        hog.kill()
        hog.wait()


def bench_interpreter(base_python: str, args: argparse.Namespace) -> dict[str, Any] | None:
    env = envs.prepare(
        base_python,
        args.cache_dir,
        source=args.source,
        with_line_profiler=not args.no_line_profiler,
        refresh=args.refresh,
    )
    if env.lineprof is None:
        log(f"[{env.version}] lineprof did not build: skipped")
        return None
    run = Runner(env, args.cache_dir, args.backend)
    info = run("info") or {}
    if info.get("lineprof_file", "").startswith(str(args.source) + "/lineprof"):
        raise SystemExit(f"the child imported lineprof from the work tree: {info}")
    modes = ["unprofiled", "lineprof"] + (["line_profiler"] if env.line_profiler else [])
    if not env.line_profiler and not args.no_line_profiler:
        log(f"[{env.version}] line_profiler unavailable: measuring lineprof alone")
    result: dict[str, Any] = {
        "version": env.version,
        "python": base_python,
        "info": info,
        "lineprof_source_hash": env.source_hash,
        "modes": modes,
        "reps": args.reps,
        "clock": args.clock,
        "scale": args.scale,
        "stat": args.stat,
    }
    names = [w for w in WORKLOADS if not args.workloads or w in args.workloads]
    started = time.monotonic()

    if args.skip_timing:
        names = []
    else:
        log(f"[{env.version}] counting line events")
    counts = {w: run("count", w, str(args.scale)) or {} for w in names}

    raw: dict[str, dict[str, list]] = {w: {m: [] for m in modes} for w in names}
    for rep in range(args.reps):
        log(f"[{env.version}] timing, repetition {rep + 1}/{args.reps}")
        for w in names:
            for mode in modes:
                raw[w][mode].append(run("time", w, mode, str(args.scale)))
    result["workloads"] = {
        w: {
            **tables.summarize_workload(
                raw[w], counts[w].get("line_events", 0), args.clock, args.stat
            ),
            "entries": counts[w].get("entries"),
            "description": WORKLOADS[w][1],
        }
        for w in names
    }
    result["raw_timings"] = raw

    if not args.skip_callcost:
        log(f"[{env.version}] call cost of @profiler")
        result["callcost"] = {m: run("callcost", m) for m in modes}

    if not args.skip_accuracy:
        result["accuracy"] = measure_accuracy(run, modes, args, env.version)
        if not args.skip_loaded:
            with cpu_load():
                result["accuracy_loaded"] = measure_accuracy(
                    run, modes, args, f"{env.version}, other core loaded"
                )

    if not args.skip_startup:
        log(f"[{env.version}] whole-program start-up and exit, {args.startup_pairs} pairs")
        result["startup"] = startup.measure(
            env.python, args.startup_pairs, fixed_runs=5 if args.quick else startup.FIXED_RUNS
        )

    if not args.skip_memory:
        log(f"[{env.version}] memory and report, {args.memory_funcs} functions")
        mem = run("memory", "lineprof", str(args.memory_funcs)) or {}
        traced = run(
            "memory",
            "lineprof",
            str(args.memory_funcs),
            extra_env={"LINEPROF_BENCH_TRACEMALLOC": "1"},
        )
        for key in ("traced_kept_bytes", "traced_peak_bytes", "traced_bytes_per_line"):
            mem[key] = (traced or {}).get(key)
        result["memory"] = {"lineprof": mem}
        if env.line_profiler and args.line_profiler_memory_funcs > 0:
            n = str(args.line_profiler_memory_funcs)
            log(f"[{env.version}] memory and report, line_profiler, {n} functions")
            result["memory"]["line_profiler"] = run("memory", "line_profiler", n)

    result["targets"] = tables.check_targets(result)
    result["seconds"] = time.monotonic() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="lineprof benchmarks: overhead, accuracy, memory vs line_profiler",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, 3 reps")
    parser.add_argument(
        "--python", action="append", default=[], help="interpreter to benchmark (repeatable)"
    )
    parser.add_argument("--out", type=Path, default=None, help="write results.txt/.json here")
    parser.add_argument("--json", type=Path, default=None, help="write the JSON here too")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 7; 3 quick)")
    parser.add_argument("--scale", type=float, default=None, help="workload size (1; 0.25 quick)")
    parser.add_argument("--workloads", default="", help="comma-separated subset")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    parser.add_argument(
        "--stat",
        choices=["min", "median"],
        default="min",
        help="best run of each mode, or median of paired ratios (both go to the JSON)",
    )
    parser.add_argument("--backend", default="auto", help="LINEPROF_BACKEND for lineprof")
    parser.add_argument("--source", type=Path, default=envs.REPO, help="lineprof source tree")
    parser.add_argument("--cache-dir", type=Path, default=envs.DEFAULT_CACHE)
    parser.add_argument("--refresh", action="store_true", help="rebuild the venvs")
    parser.add_argument("--no-line-profiler", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-callcost", action="store_true")
    parser.add_argument("--skip-timing", action="store_true", help="no overhead workloads")
    parser.add_argument(
        "--skip-loaded",
        action="store_true",
        help="accuracy only on a quiet machine (by default it runs again while a second "
        "process keeps another core busy)",
    )
    parser.add_argument(
        "--skip-startup", action="store_true", help="no whole-program start-up/exit pairs"
    )
    parser.add_argument("--startup-pairs", type=int, default=None, help="(default 7; 3 quick)")
    parser.add_argument(
        "--no-speed-normalization",
        action="store_true",
        help="accuracy: do not scale each profiled process by its unprofiled speed",
    )
    parser.add_argument("--accuracy-reps", type=int, default=None, help="(default 5; 2 quick)")
    parser.add_argument("--truth-reps", type=int, default=3)
    parser.add_argument("--memory-funcs", type=int, default=None, help="(10000; 1000 quick)")
    parser.add_argument(
        "--line-profiler-memory-funcs",
        type=int,
        default=None,
        help="line_profiler's registration and report are quadratic: default 2000 (200 quick)",
    )
    args = parser.parse_args(argv)
    q = args.quick
    args.reps = args.reps or (3 if q else 7)
    args.scale = args.scale or (0.25 if q else 1.0)
    args.accuracy_reps = args.accuracy_reps or (2 if q else 5)
    args.startup_pairs = args.startup_pairs or (3 if q else 7)
    args.truth_reps = 1 if q else args.truth_reps
    args.memory_funcs = args.memory_funcs or (1000 if q else 10_000)
    if args.line_profiler_memory_funcs is None:
        args.line_profiler_memory_funcs = 200 if q else 2000
    args.workloads = [w for w in args.workloads.split(",") if w]
    args.source = args.source.resolve()
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; known: {', '.join(WORKLOADS)}")

    pythons = args.python or envs.find_interpreters()
    if not pythons:
        parser.error("no CPython >= 3.10 found in ~/.pyenv/versions; pass --python")
    started = time.monotonic()
    report: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "command": " ".join(
            [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": machine_info(),
        "repo": repo_info(args.source),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "interpreters": [],
    }
    texts = []
    for python in pythons:
        result = bench_interpreter(python, args)
        if result is None:
            continue
        report["interpreters"].append(result)
        text = tables.interpreter_report(result)
        texts.append(text)
        print(text, flush=True)
    report["machine"]["loadavg_end"] = os.getloadavg()
    report["seconds"] = time.monotonic() - started
    m = report["machine"]
    header = (
        f"lineprof benchmarks, {report['date']}; {m['cpu']} x{m['cpus']} ({m['platform']}, "
        f"clocksource {m['clocksource']}); load average {m['loadavg_start'][0]:.1f} at start, "
        f"{m['loadavg_end'][0]:.1f} at end; {report['seconds']:.0f} s; lineprof "
        f"{report['repo']['commit'][:10]}{' (modified)' if report['repo']['dirty'] else ''}\n"
    )
    log(header)
    for path in filter(None, [args.out and args.out / "results.json", args.json]):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1, default=str))
        log(f"wrote {path}")
    if args.out:
        (args.out / "results.txt").write_text(header + "\n" + "\n".join(texts))
        log(f"wrote {args.out / 'results.txt'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

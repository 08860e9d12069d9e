"""Memory mode's allocator hook beside other tools and at the edges of a process (issue 16):
tracemalloc started and stopped in every order around it, a profiler left recording at exit,
and allocations made without the GIL while it records.

Anything that changes the process's allocators runs in a fresh interpreter."""

from __future__ import annotations

import itertools
import threading
import zlib

import pytest

from lineprof import LineProfiler, _lineprof
from tests.conftest import BACKENDS, marks, run_code

MiB = 2**20
SLACK = 64 * 1024

TRACEMALLOC_ORDERS = [
    (starts, stops)
    for starts in itertools.permutations(("lineprof", "tracemalloc"))
    for stops in itertools.permutations(("lineprof", "tracemalloc"))
]


@pytest.mark.parametrize(("starts", "stops"), TRACEMALLOC_ORDERS)
def test_tracemalloc_started_and_stopped_in_any_order(
    starts: tuple[str, str], stops: tuple[str, str]
) -> None:
    # Both count the same allocations while both run; whatever the order they stop in, neither
    # breaks, the process's allocators end as they began, and the next memory-mode session
    # counts again (tracemalloc.stop() puts back what it found at its start, which can cut
    # lineprof's wrapper out of the chain: lineprof must not rely on it still being there).
    result = run_code(
        f"""
        import tracemalloc
        from lineprof import LineProfiler, _lineprof

        def f():
            return bytearray(2**20)

        def net(lp):
            ((_, rows),) = lp.get_stats().memory.items()
            return max(n for a, n, p in rows.values())

        lp = LineProfiler(f, memory=True)
        switch = {{
            "lineprof": (lp.enable, lp.disable),
            "tracemalloc": (tracemalloc.start, tracemalloc.stop),
        }}
        for name in {starts!r}:
            switch[name][0]()
        kept = [f(), f()]
        print(tracemalloc.get_traced_memory()[0] >= 2 * 2**20, net(lp) >= 2**20)
        for name in {stops!r}:
            switch[name][1]()
        print(_lineprof._memory_hook_state()["tracking"], tracemalloc.is_tracing())
        again = LineProfiler(f, memory=True)
        with again:
            kept.append(f())
        print(2**20 <= net(again) <= 2**20 + {SLACK})
        print(_lineprof.memory_hook_installed())
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "True True",
        "0 False",
        "True",
        "(False, False, False)",
    ]


def test_tracemalloc_over_ours_keeps_ours_in_the_chain_until_it_stops() -> None:
    # tracemalloc started after lineprof wraps lineprof's wrapper: lineprof must not put back
    # what it replaced (that would cut tracemalloc out while it still calls lineprof's), so its
    # wrapper stays in the chain, forwarding, and leaves when it is on top again.
    result = run_code(
        """
        import tracemalloc
        from lineprof import LineProfiler, _lineprof

        def f():
            return bytearray(2**20)

        lp = LineProfiler(f, memory=True)
        lp.enable()
        tracemalloc.start()
        f()
        lp.disable()
        state = _lineprof._memory_hook_state()
        print(_lineprof.memory_hook_installed(), state["tracking"], state["wrappers_left"])
        kept = [bytearray(1000) for _ in range(100)]
        current, _ = tracemalloc.get_traced_memory()
        print(current >= 100_000)
        tracemalloc.stop()
        print(_lineprof.memory_hook_installed())
        with lp:
            f()
        print(_lineprof.memory_hook_installed(), _lineprof._memory_hook_state()["wrappers_left"])
        net = [n for _, rows in lp.get_stats().memory.items() for _, (a, n, p) in rows.items()]
        print(sum(net) >= 2 * 2**20)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "(False, False, False) 0 3",
        "True",
        "(True, True, True)",
        "(False, False, False) 0",
        "True",
    ]


EXIT_SCENARIOS = ["alone", "tracemalloc first", "tracemalloc after", "numpy"]


@pytest.mark.parametrize("scenario", EXIT_SCENARIOS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_profiler_left_recording_at_exit(backend: str, scenario: str) -> None:
    # Nobody disables it: the interpreter finalizes with the allocator hook installed (maybe
    # under tracemalloc's), a thread's state already gone, NumPy arrays made under lineprof's
    # handler still alive.  Exit must be clean: status 0, nothing on stderr.
    if scenario == "numpy":
        pytest.importorskip("numpy")
    result = run_code(
        f"""
        import threading, tracemalloc
        from lineprof import LineProfiler

        scenario = {scenario!r}
        if scenario == "numpy":
            import numpy as np

        def f():
            if scenario == "numpy":
                return np.zeros((100, 1000))
            return bytearray(2**20)

        if scenario == "tracemalloc first":
            tracemalloc.start()
        lp = LineProfiler(f, memory=True, backend={backend!r})
        lp.enable()
        if scenario == "tracemalloc after":
            tracemalloc.start()
        kept = [f() for _ in range(3)]
        thread = threading.Thread(target=lambda: kept.append(f()))
        thread.start()
        thread.join()
        print(len(kept))
        """
    )
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "4\n")


def keeps_ten() -> bytearray:
    kept = bytearray(10 * MiB)  # @keep
    return kept


def test_raw_allocations_without_the_gil_meanwhile(backend: str) -> None:
    # zlib takes its buffers from PyMem_RawMalloc with the GIL released: other threads allocate
    # and free through the hook while the profiled line runs.  Their blocks are no line's, and
    # the profiled line's figures are exact.
    data = bytes(range(256)) * (16 * 1024)  # 4 MiB
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            zlib.decompress(zlib.compress(data, 1))

    workers = [threading.Thread(target=churn) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        lp = LineProfiler(keeps_ten, backend=backend, memory=True)
        for _ in range(20):
            lp.runcall(keeps_ten)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    code = keeps_ten.__code__
    ((_, rows),) = [
        (k, v) for k, v in (lp.get_stats().memory or {}).items() if k[1] == code.co_firstlineno
    ]
    alloc, net, peak = rows[marks(keeps_ten)["keep"]]
    assert 200 * MiB <= alloc <= 200 * MiB + 20 * SLACK
    assert 200 * MiB <= net <= 200 * MiB + 20 * SLACK
    assert 10 * MiB <= peak <= 10 * MiB + SLACK
    assert _lineprof.memory_hook_installed() == (False, False, False)

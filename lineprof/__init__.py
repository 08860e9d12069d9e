"""lineprof: a line-by-line timing profiler for CPython.

>>> from lineprof import LineProfiler
>>> lp = LineProfiler(my_function)
>>> lp.runcall(my_function, 10_000)
>>> lp.print_stats()

``from lineprof import profile`` is all a program pays when profiling is off, so everything
else is imported on first use.
"""

# No ``from __future__ import annotations`` in the modules ``from lineprof import profile``
# loads (this one, _typing, _version, environment, decorator): the statement imports the
# ``__future__`` module, ~0.3 ms of every program that keeps ``@profile`` while profiling is
# off (CPython 3.13).  Annotations naming what only type checkers import are quoted.

import sys

from lineprof._typing import TYPE_CHECKING
from lineprof._version import __version__
from lineprof.decorator import profile

if TYPE_CHECKING:
    from typing import Any

    from lineprof.html import write_html
    from lineprof.profiler import LineProfiler
    from lineprof.report import show_func, show_text
    from lineprof.results import LineStats, load_stats
    from lineprof.scoping import ScopingPolicy
    from lineprof.stats import Metadata, ResultsFileError

_LAZY = {
    "LineProfiler": "lineprof.profiler",
    "LineStats": "lineprof.results",
    "Metadata": "lineprof.stats",
    "ResultsFileError": "lineprof.stats",
    "ScopingPolicy": "lineprof.scoping",
    "load_stats": "lineprof.results",
    "show_func": "lineprof.report",
    "show_text": "lineprof.report",
    "write_html": "lineprof.html",
}


def __getattr__(name: str) -> "Any":
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lineprof' has no attribute {name!r}")
    __import__(module)  # importlib would be one more module for every program to load
    value = getattr(sys.modules[module], name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext lineprof``: register the ``%lprun``, ``%%lprun`` and ``%%lprun_all`` magics."""
    from lineprof.ipython import load_ipython_extension as load

    load(ipython)


__all__ = [
    "LineProfiler",
    "LineStats",
    "Metadata",
    "ResultsFileError",
    "ScopingPolicy",
    "__version__",
    "load_stats",
    "profile",
    "show_func",
    "show_text",
    "write_html",
]

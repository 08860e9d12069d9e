"""lineprof: a line-by-line timing profiler for CPython.

>>> from lineprof import LineProfiler
>>> lp = LineProfiler(my_function)
>>> lp.runcall(my_function, 10_000)
>>> lp.print_stats()
"""

from lineprof._version import __version__
from lineprof.html import write_html
from lineprof.profiler import LineProfiler
from lineprof.report import show_func, show_text
from lineprof.stats import LineStats, Metadata, ResultsFileError, load_stats


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext lineprof``: register the ``%lprun`` and ``%%lprun`` magics."""
    from lineprof.ipython import load_ipython_extension as load

    load(ipython)


__all__ = [
    "LineProfiler",
    "LineStats",
    "Metadata",
    "ResultsFileError",
    "__version__",
    "load_stats",
    "show_func",
    "show_text",
    "write_html",
]

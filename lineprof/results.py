"""``LineStats`` as users get it: the results model (stats.py) and its presentation.

line_profiler's ``LineStats`` prints itself (``stats.print()``), and lineprof's also renders
its HTML page (``to_html``, and ``dump`` to a ``.html`` name).  The model must not know its
renderers (imports run down: model, then renderers), so the methods that present results live
here, one layer up, on a subclass: everything lineprof hands out (``LineProfiler.get_stats``,
``load_stats``, merging, ``raw()``) is this class, and the model's own constructors keep the
class they are called on.

``lineprof.html`` is imported when a page is made, not with this module: every profiled
program imports this module, and few of them write HTML.
"""

from __future__ import annotations

import os

from lineprof import report, stats
from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import IO

__all__ = ["LineStats", "load_stats", "dump_with_fallback"]


class LineStats(stats.LineStats):
    __doc__ = stats.LineStats.__doc__

    def print(
        self,
        stream: IO[str] | None = None,
        output_unit: float | None = None,
        stripzeros: bool = False,
        details: bool = True,
        summarize: bool = False,
        sort: bool = False,
    ) -> None:
        """Print the report line_profiler prints (same layout)."""
        report.show_text(
            self.timings,
            self.unit,
            output_unit=output_unit,
            stream=stream,
            stripzeros=stripzeros,
            details=details,
            summarize=summarize,
            sort=sort,
            sources=self.sources,
            times=self.times,
            memory=self.memory,
        )

    def to_html(self, title: str | None = None) -> str:
        """The HTML report: one self-contained page (see ``lineprof.html``)."""
        from lineprof import html  # on use: not every profiled program's start-up (see above)

        return html.render_html(self, title=title)

    def dump(self, filename: str | os.PathLike[str]) -> None:
        if stats.results_format(filename) == "html":
            from lineprof import html  # on use, as in to_html

            html.write_html(self, filename)
        else:
            super().dump(filename)

    dump.__doc__ = stats.LineStats.dump.__doc__


def load_stats(filename: str | os.PathLike[str], *more: str | os.PathLike[str]) -> LineStats:
    """Read results written by lineprof (JSON) or line_profiler (``.lprof``); several files
    are merged.  The format is recognised from the content.  Never executes anything from the
    file; a file that is not results raises ``ResultsFileError`` with a one-line message."""
    return LineStats.load(filename, *more)


def dump_with_fallback(
    results: LineStats, filename: str | os.PathLike[str]
) -> tuple[str, OSError | None]:
    """Write ``results`` to ``filename``, and where that fails (its directory removed while the
    program ran, a full or read-only file system, a path that only looked writable), to a new
    file in the temporary directory: the results of a run are not lost for want of the place
    they were meant for.  Returns the path written and the error that sent them elsewhere
    (``None`` when ``filename`` was written); raises that error when neither can be written."""
    try:
        results.dump(filename)
        return os.fspath(filename), None
    except OSError as exc:
        error = exc
    # Not tempfile: it imports shutil and random, at exit (see decorator._which).
    directory = os.environ.get("TMPDIR") or "/tmp"
    stem, extension = os.path.splitext(os.path.basename(os.fspath(filename)))
    path = os.path.join(directory, f"lineprof-{stem}-{os.getpid()}{extension}")
    try:
        results.dump(path)  # atomically, so never a part of another file of that name
    except OSError:
        raise error from None
    return path, error

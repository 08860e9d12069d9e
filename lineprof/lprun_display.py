"""What ``%lprun`` and ``%%lprun`` display: the text report in a terminal, a small HTML table in
Jupyter.  Presentation only (no IPython, no profiling state): LineStats in, text and HTML out.

The text is ``report.format_text`` itself, given the functions' stored source lines, with
module-level code (a notebook cell) shown to the end of its source: the whole cell.
"""

from __future__ import annotations

import html
import linecache
from collections.abc import Collection, Mapping, Sequence

from lineprof.report import TIMES_HEADER, format_text, function_lines, ran
from lineprof.stats import FunctionKey, LineStats, LineTiming

__all__ = ["LprunReport", "format_html"]


class LprunReport:
    """The results of one ``%lprun``: ``repr`` is the text report, ``_repr_html_`` a table.

    ``whole`` names the functions (module-level code) shown to the end of their source."""

    def __init__(
        self,
        stats: LineStats,
        output_unit: float | None = None,
        stripzeros: bool = False,
        summarize: bool = False,
        sort: bool = False,
        whole: Collection[FunctionKey] = (),
    ) -> None:
        self.stats = stats
        self.output_unit = output_unit
        self.stripzeros = stripzeros
        self.summarize = summarize
        self.sort = sort
        self.whole = frozenset(whole)
        # The lines each table shows: the stored sources, with module-level code (a cell)
        # to the end of its source.
        self.sources: dict[FunctionKey, list[str]] = dict(stats.sources)
        for key in self.whole & stats.timings.keys():
            self.sources[key] = _whole_source(key[0], key[1])

    def text(self) -> str:
        text = format_text(
            self.stats.timings,
            self.stats.unit,
            output_unit=self.output_unit,
            stripzeros=self.stripzeros,
            summarize=self.summarize,
            sort=self.sort,
            sources=self.sources,
            times=self.stats.times,
            memory=self.stats.memory,
        )
        return text

    def html(self) -> str:
        return format_html(
            self.stats,
            output_unit=self.output_unit,
            stripzeros=self.stripzeros,
            summarize=self.summarize,
            sort=self.sort,
            sources=self.sources,
        )

    def __repr__(self) -> str:
        return self.text().rstrip("\n")

    def _repr_html_(self) -> str:
        return self.html()


def _whole_source(filename: str, first_line: int) -> list[str]:
    """The source from ``first_line`` to the end of the file, without trailing blank lines."""
    lines = [line.rstrip("\r\n") for line in linecache.getlines(filename)[first_line - 1 :]]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


# Inline styles only (notebook front ends drop <style> from untrusted output); they also beat
# the front ends' own table rules (centred, fixed layout, right-aligned cells).
_TABLE = (
    'style="border-collapse:collapse;table-layout:auto;margin:0;'
    'font-family:monospace;font-size:12px"'
)
_NUM = 'style="text-align:right;padding:1px 8px;white-space:nowrap"'
_CODE = 'style="text-align:left;padding:1px 8px;white-space:pre"'
_RULE = "border-bottom:1px solid rgba(128,128,128,0.6)"
_HEAD_NUM = _NUM[:-1] + ";" + _RULE + '"'
_HEAD_CODE = _CODE[:-1] + ";" + _RULE + '"'
_COLUMNS = ["Line #", "Hits", "Time", "Per Hit", "% Time"]


def _function_html(
    key: FunctionKey,
    timings: Sequence[LineTiming],
    unit: float,
    output_unit: float,
    source: Sequence[str] | None,
) -> str:
    filename, first_line, qualname = key
    total = sum(time for _, _, time in timings)
    scale = unit / output_unit
    shown = function_lines(filename, first_line, timings, source)
    found = shown is not None
    last_timed = max((line for line, _, _ in timings), default=first_line)
    lines = shown if shown is not None else [""] * (last_timed - first_line + 1)
    esc = html.escape
    out = [
        '<p style="font-family:monospace;margin:1em 0 0.4em">',
        f"Total time: {total * unit:g} s<br>",
        f"File: {esc(filename)}<br>",
        f"Function: <b>{esc(qualname)}</b> at line {first_line}",
    ]
    if not found:
        out.append(f"<br>(source not available: {esc(filename)} cannot be read)")
    out.append(f"</p>\n<table {_TABLE}>\n<thead><tr>")
    out += [f"<th {_HEAD_NUM}>{name}</th>" for name in _COLUMNS]
    out.append(f"<th {_HEAD_CODE}>Line Contents</th></tr></thead>\n<tbody>\n")
    by_line = {line: (hits, time) for line, hits, time in timings}
    for lineno, text in enumerate(lines, first_line):
        cells = [str(lineno), "", "", "", ""]
        shade = ""
        if lineno in by_line:
            hits, time = by_line[lineno]
            cells[1:3] = [str(hits), f"{time * scale:.1f}"]
            cells[3] = f"{time * scale / hits:.1f}" if hits else ""
            cells[4] = f"{100 * time / total:.1f}" if total else ""
            if total and time:
                # The share of the time, as a tint that reads on light and dark themes.
                shade = f' style="background-color:rgba(255,110,0,{0.5 * time / total:.3f})"'
        out.append(f"<tr{shade}>")
        out += [f"<td {_NUM}>{cell}</td>" for cell in cells]
        out.append(f"<td {_CODE}>{esc(text)}</td></tr>\n")
    out.append("</tbody>\n</table>\n")
    return "".join(out)


def format_html(
    stats: LineStats,
    output_unit: float | None = None,
    stripzeros: bool = False,
    summarize: bool = False,
    sort: bool = False,
    sources: Mapping[FunctionKey, Sequence[str]] | None = None,
) -> str:
    """The report as one self-contained HTML fragment (inline styles, no scripts): the text
    report's tables, in its order."""
    unit = stats.unit
    if output_unit is None:
        output_unit = unit
    items = list(stats.timings.items())
    if sort:
        items.sort(key=lambda item: sum(time for _, _, time in item[1]))
    else:
        items.sort()
    kept = [(key, timings) for key, timings in items if ran(timings) or not stripzeros]
    out = ['<div class="lineprof">\n']
    out.append(f'<p style="font-family:monospace;margin:0">Timer unit: {output_unit:g} s</p>\n')
    if stats.times is not None:
        header = html.escape(TIMES_HEADER[stats.times])
        out.append(f'<p style="font-family:monospace;margin:0">Times: {header}</p>\n')
    for key, timings in kept:
        source = (sources if sources is not None else stats.sources).get(key)
        out.append(_function_html(key, timings, unit, output_unit, source))
    if summarize:
        out.append('<p style="font-family:monospace;margin:1em 0 0.4em">Summary</p>\n')
        out.append(f"<table {_TABLE}>\n<thead><tr><th {_HEAD_NUM}>Seconds</th>")
        out.append(f"<th {_HEAD_CODE}>Function</th><th {_HEAD_CODE}>File:Line</th></tr></thead>\n")
        out.append("<tbody>\n")
        for (filename, first_line, qualname), timings in kept:
            total = sum(time for _, _, time in timings)
            out.append(
                f"<tr><td {_NUM}>{total * unit:.2f}</td><td {_CODE}>{html.escape(qualname)}</td>"
                f"<td {_CODE}>{html.escape(filename)}:{first_line}</td></tr>\n"
            )
        out.append("</tbody>\n</table>\n")
    out.append("</div>\n")
    return "".join(out)

"""Results -> text, in line_profiler's layout.  Pure formatting: no profiling state.

``format_*`` return strings; ``show_*`` write them to a stream (stdout by default) and keep
line_profiler's function names and signatures so existing scripts keep working.
"""

from __future__ import annotations

import sys

from lineprof._typing import TYPE_CHECKING
from lineprof.sources import lines as source_lines
from lineprof.stats import (
    TIMES_CORRECTED,
    TIMES_RAW,
    FunctionKey,
    LineMemory,
    LineTiming,
    function_source,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import IO

__all__ = [
    "format_bytes",
    "format_func",
    "format_text",
    "function_lines",
    "ran",
    "show_func",
    "show_text",
]

HEADER = "Line #      Hits         Time  Per Hit   % Time  Line Contents"
# Memory mode's table: three more columns before the line's text.
MEMORY_HEADER = HEADER.replace(
    "Line Contents", f"{'Alloc':>10} {'Net':>10} {'Peak':>10}  Line Contents"
)

# The header line for what the times are (LineStats.times).
TIMES_HEADER = {
    TIMES_CORRECTED: "lineprof's own measured cost taken out",
    TIMES_RAW: "raw, as the clock read them",
}


def _row(lineno: int, hits: str, time: str, per_hit: str, percent: str, text: str) -> str:
    return f"{lineno:>6} {hits:>9} {time:>12} {per_hit:>8} {percent:>8}  {text}"


def format_bytes(count: int) -> str:
    """A byte count as people read it: "512 B", "1.5 KiB", "7.6 MiB" (binary units); at most
    10 characters below 1000 GiB (1000 KiB and more is shown in MiB: "1.0 MiB")."""
    sign = "-" if count < 0 else ""
    if abs(count) < 1024:
        return f"{sign}{abs(count)} B"
    size = float(abs(count))
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 999.95 or unit == "GiB":
            break
    return f"{sign}{size:.1f} {unit}"


def _memory_cells(figures: LineMemory | None) -> str:
    if figures is None:
        return " " * 33
    alloc, net, peak = figures
    return f" {format_bytes(alloc):>10} {format_bytes(net):>10} {format_bytes(peak):>10}"


def _fit(value: float, width: int, spec: str) -> str:
    """``spec`` if it fits the column, else 3 significant digits (as line_profiler does)."""
    text = format(value, spec)
    if len(text) > width:
        text = format(value, "5.3g")
    return text


def function_lines(
    filename: str,
    start_lineno: int,
    timings: Sequence[LineTiming],
    source: Sequence[str] | None = None,
) -> list[str] | None:
    """The contents of the lines to show for a function, from its first line to the end of its
    block or its last timed line, whichever is later: from ``source`` (the lines stored with
    the results) when given, else from the file.  None when neither is available."""
    last_timed = max((line for line, _, _ in timings), default=start_lineno)
    if source is not None:
        contents = list(source)
    else:
        block = function_source(filename, start_lineno)
        if block is None:
            return None
        contents = block
        missing = last_timed - (start_lineno + len(contents) - 1)
        if missing > 0:
            extra = source_lines(filename)[start_lineno - 1 + len(contents) :]
            contents += [line.rstrip("\n").rstrip("\r") for line in extra[:missing]]
    return contents + [""] * (last_timed - (start_lineno + len(contents) - 1))


def ran(timings: Sequence[LineTiming]) -> bool:
    """Whether a function ran: ``stripzeros`` hides the others.  By hits, not by time: with
    lineprof's own measured cost taken out, a function that ran briefly can total 0."""
    return any(hits for _, hits, _ in timings)


def format_func(
    filename: str,
    start_lineno: int,
    func_name: str,
    timings: Sequence[LineTiming],
    unit: float,
    output_unit: float | None = None,
    stripzeros: bool = False,
    source: Sequence[str] | None = None,
    memory: Mapping[int, LineMemory] | None = None,
) -> str:
    """One function's table.  ``source``: the function's lines as stored with the results
    (``LineStats.sources``); without it they are read from ``filename``.  ``memory``: {line:
    (alloc, net, peak)} in bytes (``LineStats.memory``): the table gets Alloc, Net and Peak
    columns and the header the function's totals; None leaves the layout line_profiler's."""
    total_time = sum(time for _, _, time in timings)
    if stripzeros and not ran(timings):
        return ""
    if output_unit is None:
        output_unit = unit
    scalar = unit / output_unit

    out = [f"Total time: {total_time * unit:g} s"]
    if memory is not None:
        figures = memory.values()
        out.append(
            f"Memory: {format_bytes(sum(a for a, _, _ in figures))} allocated, "
            f"{format_bytes(sum(n for _, n, _ in figures))} net, "
            f"{format_bytes(max((p for _, _, p in figures), default=0))} largest line peak"
        )
    out.append(f"File: {filename}")
    out.append(f"Function: {func_name} at line {start_lineno}")
    contents = function_lines(filename, start_lineno, timings, source)
    if contents is None:
        out.append(f"(source not available: {filename} cannot be read; line contents omitted)")
        last_timed = max((line for line, _, _ in timings), default=start_lineno)
        contents = [""] * (last_timed - start_lineno + 1)
    header = HEADER if memory is None else MEMORY_HEADER
    out += ["", header, "=" * len(header)]

    by_line = {line: (hits, time) for line, hits, time in timings}
    for offset, text in enumerate(contents):
        lineno = start_lineno + offset
        if lineno in by_line:
            hits, time = by_line[lineno]
            per_hit = _fit(time * scalar / hits, 8, "5.1f") if hits else ""
            percent = _fit(100 * time / total_time, 8, "5.1f") if total_time else ""
            if memory is not None:
                text = _memory_cells(memory.get(lineno))[1:] + "  " + text
            out.append(
                _row(
                    lineno,
                    _fit(hits, 9, "d"),
                    _fit(time * scalar, 12, "5.1f"),
                    per_hit,
                    percent,
                    text,
                )
            )
        else:
            if memory is not None:
                text = _memory_cells(None)[1:] + "  " + text
            out.append(_row(lineno, "", "", "", "", text))
    out.append("")
    return "\n".join(out) + "\n"


def format_text(
    stats: Mapping[FunctionKey, Sequence[LineTiming]],
    unit: float,
    output_unit: float | None = None,
    stripzeros: bool = False,
    details: bool = True,
    summarize: bool = False,
    sort: bool = False,
    sources: Mapping[FunctionKey, Sequence[str]] | None = None,
    times: str | None = None,
    memory: Mapping[FunctionKey, Mapping[int, LineMemory]] | None = None,
) -> str:
    """The whole report: timer unit, every function's table, and optionally a summary.

    With ``sort``, functions go from least to most total time, so the most expensive one is
    printed last, next to the prompt.  ``sources``: functions' lines stored with the results
    (``LineStats.sources``); a function without them is read from its file.  ``times``
    (``LineStats.times``) adds a header line saying what the times are; None (not known, as
    for line_profiler's results) adds none, so the layout is line_profiler's own.  ``memory``
    (``LineStats.memory``) adds the memory columns to every table; None adds none."""
    if output_unit is None:
        output_unit = unit
    if sort:
        order = sorted(stats.items(), key=lambda kv: sum(t for _, _, t in kv[1]))
    else:
        order = sorted(stats.items())
    out = [f"Timer unit: {output_unit:g} s\n"]
    if times is not None:
        out.append(f"Times: {TIMES_HEADER[times]}\n")
    out.append("\n")
    if details:
        for key, timings in order:
            filename, lineno, name = key
            source = sources.get(key) if sources else None
            figures = memory.get(key, {}) if memory is not None else None
            out.append(
                format_func(
                    filename,
                    lineno,
                    name,
                    timings,
                    unit,
                    output_unit,
                    stripzeros,
                    source,
                    memory=figures,
                )
            )
    if summarize:
        for (filename, lineno, name), timings in order:
            total = sum(t for _, _, t in timings)
            if stripzeros and not ran(timings):
                continue
            out.append(f"{total * unit:6.2f} seconds - {filename}:{lineno} - {name}\n")
    return "".join(out)


def show_func(
    filename: str,
    start_lineno: int,
    func_name: str,
    timings: Sequence[LineTiming],
    unit: float,
    output_unit: float | None = None,
    stream: IO[str] | None = None,
    stripzeros: bool = False,
    source: Sequence[str] | None = None,
) -> None:
    """Print one function's table (line_profiler's ``show_func``)."""
    text = format_func(
        filename, start_lineno, func_name, timings, unit, output_unit, stripzeros, source
    )
    write(stream if stream is not None else sys.stdout, text)


def show_text(
    stats: Mapping[FunctionKey, Sequence[LineTiming]],
    unit: float,
    output_unit: float | None = None,
    stream: IO[str] | None = None,
    stripzeros: bool = False,
    details: bool = True,
    summarize: bool = False,
    sort: bool = False,
    sources: Mapping[FunctionKey, Sequence[str]] | None = None,
    times: str | None = None,
    memory: Mapping[FunctionKey, Mapping[int, LineMemory]] | None = None,
) -> None:
    """Print the whole report (line_profiler's ``show_text``)."""
    text = format_text(
        stats, unit, output_unit, stripzeros, details, summarize, sort, sources, times, memory
    )
    write(stream if stream is not None else sys.stdout, text)


def write(stream: IO[str], text: str) -> None:
    """``stream.write(text)``; what the stream's encoding cannot encode (source in UTF-8 to an
    ASCII terminal) is written as backslash escapes, as line_profiler does, rather than
    raising UnicodeEncodeError and losing the report."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))

"""Results -> text, in line_profiler's layout.  Pure formatting: no profiling state.

``format_*`` return strings; ``show_*`` write them to a stream (stdout by default) and keep
line_profiler's function names and signatures so existing scripts keep working.
"""

from __future__ import annotations

import inspect
import linecache
import sys
from collections.abc import Mapping, Sequence
from typing import IO

from lineprof.stats import FunctionKey, LineTiming

__all__ = ["format_func", "format_text", "show_func", "show_text"]

HEADER = "Line #      Hits         Time  Per Hit   % Time  Line Contents"


def _row(lineno: int, hits: str, time: str, per_hit: str, percent: str, text: str) -> str:
    return f"{lineno:>6} {hits:>9} {time:>12} {per_hit:>8} {percent:>8}  {text}"


def _fit(value: float, width: int, spec: str) -> str:
    """``spec`` if it fits the column, else 3 significant digits (as line_profiler does)."""
    text = format(value, spec)
    if len(text) > width:
        text = format(value, "5.3g")
    return text


def _source_block(filename: str, start_lineno: int) -> list[str] | None:
    """The function's source lines, from its first line to the end of its block."""
    all_lines = linecache.getlines(filename)
    if not all_lines or start_lineno > len(all_lines):
        return None
    tail = all_lines[start_lineno - 1 :]
    try:
        block = inspect.getblock(tail)
    except Exception:  # tokenizer trouble on odd source: show to the end of the file
        block = tail
    return list(block) or tail[:1]


def format_func(
    filename: str,
    start_lineno: int,
    func_name: str,
    timings: Sequence[LineTiming],
    unit: float,
    output_unit: float | None = None,
    stripzeros: bool = False,
) -> str:
    """One function's table."""
    total_time = sum(time for _, _, time in timings)
    if stripzeros and total_time == 0:
        return ""
    if output_unit is None:
        output_unit = unit
    scalar = unit / output_unit

    out = [f"Total time: {total_time * unit:g} s", f"File: {filename}"]
    out.append(f"Function: {func_name} at line {start_lineno}")
    block = _source_block(filename, start_lineno)
    last_timed = max((line for line, _, _ in timings), default=start_lineno)
    if block is None:
        out.append(f"(source not available: {filename} cannot be read; line contents omitted)")
        contents = [""] * (last_timed - start_lineno + 1)
    else:
        contents = [line.rstrip("\n").rstrip("\r") for line in block]
        missing = last_timed - (start_lineno + len(contents) - 1)
        if missing > 0:
            extra = linecache.getlines(filename)[start_lineno - 1 + len(contents) :]
            extra = [line.rstrip("\n").rstrip("\r") for line in extra[:missing]]
            contents += extra + [""] * (missing - len(extra))
    out += ["", HEADER, "=" * len(HEADER)]

    by_line = {line: (hits, time) for line, hits, time in timings}
    for offset, text in enumerate(contents):
        lineno = start_lineno + offset
        if lineno in by_line:
            hits, time = by_line[lineno]
            per_hit = _fit(time * scalar / hits, 8, "5.1f") if hits else ""
            percent = _fit(100 * time / total_time, 8, "5.1f") if total_time else ""
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
) -> str:
    """The whole report: timer unit, every function's table, and optionally a summary.

    With ``sort``, functions go from least to most total time, so the most expensive one is
    printed last, next to the prompt."""
    if output_unit is None:
        output_unit = unit
    if sort:
        order = sorted(stats.items(), key=lambda kv: sum(t for _, _, t in kv[1]))
    else:
        order = sorted(stats.items())
    out = [f"Timer unit: {output_unit:g} s\n\n"]
    if details:
        for (filename, lineno, name), timings in order:
            out.append(format_func(filename, lineno, name, timings, unit, output_unit, stripzeros))
    if summarize:
        for (filename, lineno, name), timings in order:
            total = sum(t for _, _, t in timings)
            if stripzeros and total == 0:
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
) -> None:
    """Print one function's table (line_profiler's ``show_func``)."""
    text = format_func(filename, start_lineno, func_name, timings, unit, output_unit, stripzeros)
    (stream if stream is not None else sys.stdout).write(text)


def show_text(
    stats: Mapping[FunctionKey, Sequence[LineTiming]],
    unit: float,
    output_unit: float | None = None,
    stream: IO[str] | None = None,
    stripzeros: bool = False,
    details: bool = True,
    summarize: bool = False,
    sort: bool = False,
) -> None:
    """Print the whole report (line_profiler's ``show_text``)."""
    text = format_text(stats, unit, output_unit, stripzeros, details, summarize, sort)
    (stream if stream is not None else sys.stdout).write(text)

"""A comparison (``lineprof.diff``) -> one self-contained HTML page.  Pure formatting.

The page needs no network and no JavaScript: inline CSS only.  At the top, the functions
biggest change first; below, each function's rows as the text shows them, with two bars per
line (OLD above, NEW below) as wide as the line's time in that run relative to the function's
largest line time in either run.  Every text from the results is escaped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape

from lineprof.diff import LEGEND, FunctionDiff, RowDiff, StatsDiff
from lineprof.stats import atomic_write

__all__ = ["render_diff_html", "write_diff_html"]

_ROW_CLASS = {"+": "added", "-": "removed", "!": "changed", "~": "noise", " ": "same"}


def write_diff_html(
    diff: StatsDiff,
    filename: str | os.PathLike[str],
    output_unit: float | None = None,
    skip_zero: bool = False,
    names: tuple[str, str] = ("OLD", "NEW"),
) -> None:
    """Write the page of ``diff`` to ``filename``, atomically."""
    page = render_diff_html(diff, output_unit, skip_zero, names).encode("utf-8")
    atomic_write(filename, lambda out: out.write(page))


def render_diff_html(
    diff: StatsDiff,
    output_unit: float | None = None,
    skip_zero: bool = False,
    names: tuple[str, str] = ("OLD", "NEW"),
) -> str:
    """The page of ``diff``: the same rows and numbers as ``format_diff``."""
    if output_unit is None:
        output_unit = diff.unit
    functions = [f for f in diff.functions if f.ran or not skip_zero]
    legend = LEGEND.format(share=100 * diff.noise_share, floor=diff.noise_floor)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>lineprof diff: {escape(names[0])} → {escape(names[1])}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>lineprof diff</h1>",
        '<dl class="meta">',
        f"<dt>OLD</dt><dd>{escape(names[0])}</dd><dt>NEW</dt><dd>{escape(names[1])}</dd>",
        f"<dt>Timer unit</dt><dd>{output_unit:g} s</dd>",
    ]
    if diff.times:
        out.append(f"<dt>Times</dt><dd>{escape(diff.times)}</dd>")
    out.append(f'</dl><p class="legend">{escape(" ".join(legend.split()))}</p>')
    out.append(_summary(functions, diff.unit))
    for index, function in enumerate(functions, 1):
        out.append(_function(function, diff.unit, output_unit, f"f{index}"))
    out.append("</body></html>\n")
    return "\n".join(out)


def _seconds(units: int, unit: float, signed: bool = False) -> str:
    return format(units * unit, "+.3g" if signed else ".3g") + " s"


def _where(function: FunctionDiff) -> str:
    if function.old_first is None:
        return f"{function.filename}:{function.new_first} (only in NEW)"
    if function.new_first is None:
        return f"{function.filename}:{function.old_first} (only in OLD)"
    if function.old_first == function.new_first:
        return f"{function.filename}:{function.new_first}"
    return f"{function.filename}:{function.old_first} → {function.new_first}"


def _summary(functions: Sequence[FunctionDiff], unit: float) -> str:
    rows = []
    for index, function in enumerate(functions, 1):
        rows.append(
            f'<tr><td><a href="#f{index}">{escape(function.qualname)}</a></td>'
            f'<td class="where">{escape(_where(function))}</td>'
            f'<td class="num">{_seconds(function.old_total, unit)}</td>'
            f'<td class="num">{_seconds(function.new_total, unit)}</td>'
            f'<td class="num">{_seconds(function.delta, unit, signed=True)}</td></tr>'
        )
    return (
        '<section><h2>Functions, biggest change first</h2><table class="summary"><thead><tr>'
        '<th>Function</th><th>Where</th><th class="num">Time OLD</th>'
        '<th class="num">Time NEW</th><th class="num">Change</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return ""
    text = format(value, "+.1f" if signed else ".1f")
    return text if len(text) <= 11 else format(value, "+.3g" if signed else ".3g")


def _function(function: FunctionDiff, unit: float, output_unit: float, anchor: str) -> str:
    scalar = unit / output_unit
    widest = max((max(r.old_time, r.new_time) for r in function.rows), default=0)
    body = [_row(row, function.old_total, scalar, widest) for row in function.rows]
    largest = function.largest
    note = ""
    if largest is not None:
        line = largest.new_line if largest.new_line is not None else largest.old_line
        note = (
            f" · largest change: line {line}, {_seconds(largest.delta, unit, signed=True)}: "
            f"<code>{escape(largest.text.strip())}</code>"
        )
    return (
        f'<section class="func" id="{anchor}">'
        f"<h2>{escape(function.qualname)} "
        f'<span class="where">{escape(_where(function))}</span></h2>'
        f'<p class="stats">{_seconds(function.old_total, unit)} → '
        f"{_seconds(function.new_total, unit)} "
        f"({_seconds(function.delta, unit, signed=True)}){note}</p>"
        '<div class="scroll"><table class="lines"><thead><tr><th></th>'
        '<th class="num">Old #</th><th class="num">New #</th>'
        '<th class="num">Hits old</th><th class="num">Hits new</th>'
        '<th class="num">Time old</th><th class="num">Time new</th>'
        '<th class="num">Time diff</th><th class="num">Per hit diff</th>'
        '<th class="num">% of old</th><th>OLD / NEW</th><th class="code">Line contents</th>'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _row(row: RowDiff, old_total: int, scalar: float, widest: int) -> str:
    timed = row.timed
    per_hit = row.per_hit_delta
    cells = [
        escape(row.marker.strip()),
        str(row.old_line) if row.old_line is not None else "",
        str(row.new_line) if row.new_line is not None else "",
        str(row.old_hits) if row.old_hits is not None else "",
        str(row.new_hits) if row.new_hits is not None else "",
        _number(row.old_time * scalar) if row.old_hits is not None else "",
        _number(row.new_time * scalar) if row.new_hits is not None else "",
        _number(row.delta * scalar, signed=True) if timed else "",
        _number(per_hit * scalar, signed=True) if per_hit is not None else "",
        _number(100 * row.delta / old_total, signed=True) if timed and old_total else "",
    ]
    numbers = "".join(f'<td class="num">{cell}</td>' for cell in cells[1:])
    bars = ""
    if timed and widest:
        old_width = 100 * row.old_time / widest
        new_width = 100 * row.new_time / widest
        bars = (
            f'<div class="bar old" style="width:{old_width:.2f}%"></div>'
            f'<div class="bar new" style="width:{new_width:.2f}%"></div>'
        )
    code = escape(row.text)
    if row.old_text is not None:
        code += f'<br><del title="OLD">{escape(row.old_text)}</del>'
    return (
        f'<tr class="{_ROW_CLASS[row.marker]}"><td class="mark">{cells[0]}</td>{numbers}'
        f'<td class="bars">{bars}</td><td class="code"><pre>{code}</pre></td></tr>'
    )


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin:1.4em 0 .3em}
.meta{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}
.meta dt{font-weight:600}.meta dd{margin:0}
.legend,.where,.stats{color:#555}
table{border-collapse:collapse}th,td{padding:0 .5em;vertical-align:top}
th{text-align:left;border-bottom:1px solid #999}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}
.code pre{margin:0;font:13px/1.35 ui-monospace,monospace;white-space:pre}
.mark{font-family:ui-monospace,monospace;font-weight:700}
.bars{width:10em;min-width:10em}
.bar{height:.45em;margin:.15em 0}.bar.old{background:#9aa}.bar.new{background:#d62}
tr.added{background:#e6ffec}tr.removed{background:#ffebe9}tr.changed{background:#fff8c5}
tr.noise{color:#888}
del{color:#a33}
"""

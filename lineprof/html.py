"""Results -> one self-contained HTML page.  Pure formatting: no profiling state.

The page needs no network: CSS and JavaScript are inline, nothing is linked.  At the top, the
functions by total time; below, each function's source with per-line hits, time, time per hit,
% of the function's time and a heat bar as wide as that %, the row tinted by how hot the line
is.  Runs of ``FOLD_MIN`` or more lines that never ran are folded behind a button, so long
functions stay readable.  Without JavaScript everything is there except the folded rows.
"""

from __future__ import annotations

import datetime
import os
import shlex
from collections.abc import Sequence
from html import escape

from lineprof._typing import TYPE_CHECKING
from lineprof.report import TIMES_HEADER, function_lines
from lineprof.stats import FunctionKey, LineTiming, atomic_write

if TYPE_CHECKING:
    from lineprof.stats import LineStats

__all__ = ["FOLD_MIN", "render_html", "write_html"]

FOLD_MIN = 8  # a run of this many lines that never ran, or more, is folded
_SCALES = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"))


def write_html(
    stats: LineStats, filename: str | os.PathLike[str], title: str | None = None
) -> None:
    """Write the HTML report of ``stats`` to ``filename``, atomically."""
    page = render_html(stats, title=title).encode("utf-8")
    atomic_write(filename, lambda out: out.write(page))


def render_html(stats: LineStats, title: str | None = None) -> str:
    """The HTML report of ``stats``, as one page."""
    totals = {key: sum(t for _, _, t in rows) for key, rows in stats.timings.items()}
    order = sorted(stats.timings, key=lambda key: (-totals[key], key))
    grand_total = sum(totals.values())
    anchors = {key: f"f{index}" for index, key in enumerate(order, 1)}
    heading = title if title is not None else "lineprof report"
    if title is None and stats.metadata.command_line:
        title = f"lineprof: {shlex.join(stats.metadata.command_line)}"

    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title or heading)}</title>",
        f"<style>{_CSS}</style></head>",
        '<body><header id="top">',
        f"<h1>{escape(heading)}</h1>",
        _metadata(stats, grand_total, len(order)),
        "</header>",
        _summary(stats, order, totals, grand_total, anchors),
    ]
    for key in order:
        out.append(_function(stats, key, totals[key], grand_total, anchors[key]))
    out.append(f"<script>{_JS}</script></body></html>\n")
    return "\n".join(out)


# ---- pieces -----------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    """A duration for people: 3 significant digits in s, ms, µs or ns."""
    if value == 0:
        return "0"
    scale, suffix = next(
        ((scale, suffix) for scale, suffix in _SCALES if abs(value) >= scale), (1e-9, "ns")
    )
    number = value / scale
    digits = 0 if abs(number) >= 100 else 1 if abs(number) >= 10 else 2
    return f"{number:.{digits}f}\u202f{suffix}"


def _percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def _metadata(stats: LineStats, grand_total: int, functions: int) -> str:
    meta = stats.metadata
    items = [
        ("Total time", _seconds(grand_total * stats.unit)),
        ("Functions", str(functions)),
    ]
    if meta.command_line:
        items.append(("Command", shlex.join(meta.command_line)))
    if meta.start_time is not None:
        start = meta.start_time.astimezone(datetime.timezone.utc)
        items.append(("Started", start.strftime("%Y-%m-%d %H:%M:%S UTC")))
    if meta.duration is not None:
        items.append(("Profiled for", _seconds(meta.duration)))
    if meta.python_version:
        items.append(("Python", meta.python_version))
    if meta.lineprof_version:
        items.append(("lineprof", meta.lineprof_version))
    items.append(("Timer unit", f"{stats.unit:g} s"))
    if stats.times is not None:
        items.append(("Times", TIMES_HEADER[stats.times]))
    cells = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items)
    return f'<dl class="meta">{cells}</dl>'


def _summary(
    stats: LineStats,
    order: Sequence[FunctionKey],
    totals: dict[FunctionKey, int],
    grand_total: int,
    anchors: dict[FunctionKey, str],
) -> str:
    rows = []
    for key in order:
        filename, first_line, qualname = key
        share = _percent(totals[key], grand_total)
        hottest = max(stats.timings[key], key=lambda row: (row[2], -row[0]), default=None)
        hot = (
            f"line {hottest[0]} ({_percent(hottest[2], totals[key]):.1f}%)"
            if hottest is not None and hottest[2] > 0
            else ""
        )
        rows.append(
            f'<tr><td class="num">{escape(_seconds(totals[key] * stats.unit))}</td>'
            f'<td class="num">{share:.1f}%</td>'
            f'<td class="barcell"><div class="bar" style="width:{share:.2f}%"></div></td>'
            f'<td><a href="#{anchors[key]}">{escape(qualname)}</a></td>'
            f'<td class="where">{escape(filename)}:{first_line}</td>'
            f"<td>{escape(hot)}</td></tr>"
        )
    return (
        '<section class="summary"><h2>Functions by total time</h2>'
        '<table><thead><tr><th class="num">Time</th><th class="num">%</th><th></th>'
        "<th>Function</th><th>File</th><th>Hottest line</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        '<p class="tools"><button type="button" data-all="show">Unfold all lines</button> '
        '<button type="button" data-all="hide">Fold lines not run</button></p></section>'
    )


def _function(stats: LineStats, key: FunctionKey, total: int, grand_total: int, anchor: str) -> str:
    filename, first_line, qualname = key
    timings: list[LineTiming] = stats.timings[key]
    source = stats.sources.get(key)
    contents = function_lines(filename, first_line, timings, source)
    note = ""
    if contents is None:
        note = (
            f'<p class="note">Source not available: {escape(filename)} cannot be read and '
            f"the results hold no copy of it; line contents omitted.</p>"
        )
        last = max((line for line, _, _ in timings), default=first_line)
        contents = [""] * (last - first_line + 1)
    by_line = {line: (hits, time) for line, hits, time in timings}
    hottest = max((time for _, _, time in timings), default=0)

    body: list[str] = []
    index = 0
    while index < len(contents):
        lineno = first_line + index
        run = 0
        if index > 0:  # the def line always shows
            while index + run < len(contents) and first_line + index + run not in by_line:
                run += 1
        if run >= FOLD_MIN:
            fold = f"{anchor}-{lineno}"
            body.append(
                f'<tr class="fold"><td class="ln"></td><td colspan="6">'
                f'<button type="button" data-fold="{fold}" aria-expanded="false">'
                f"▸ {run} lines not run ({lineno}–{lineno + run - 1})</button></td></tr>"
            )
            for offset in range(run):
                body.append(
                    _row(
                        stats, lineno + offset, contents[index + offset], None, total, hottest, fold
                    )
                )
            index += run
            continue
        body.append(_row(stats, lineno, contents[index], by_line.get(lineno), total, hottest))
        index += 1

    share = _percent(total, grand_total)
    return (
        f'<section class="func" id="{anchor}">'
        f'<h2><span class="name">{escape(qualname)}</span> '
        f'<span class="where">{escape(filename)}:{first_line}</span></h2>'
        f'<p class="stats">{escape(_seconds(total * stats.unit))} · {share:.1f}% of all '
        f'profiled time · <a href="#top">top</a></p>{note}'
        '<div class="scroll"><table class="lines"><thead><tr><th class="num">Line</th>'
        '<th class="num">Hits</th><th class="num">Time</th><th class="num">Per hit</th>'
        '<th class="num">% Time</th><th></th><th class="code">Line contents</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _row(
    stats: LineStats,
    lineno: int,
    text: str,
    numbers: tuple[int, int] | None,
    total: int,
    hottest: int,
    fold: str | None = None,
) -> str:
    attributes = f' data-in-fold="{fold}" hidden' if fold else ""
    code = f'<td class="code"><code>{escape(text)}</code></td>'
    if numbers is None:
        return (
            f'<tr class="idle"{attributes}><td class="ln">{lineno}</td>'
            f'<td></td><td></td><td></td><td></td><td class="barcell"></td>{code}</tr>'
        )
    hits, time = numbers
    seconds = time * stats.unit
    share = _percent(time, total)
    heat = time / hottest if hottest else 0.0
    per_hit = escape(_seconds(seconds / hits)) if hits else ""
    return (
        f'<tr class="run" style="--heat:{heat:.3f}"><td class="ln">{lineno}</td>'
        f'<td class="num">{hits}</td>'
        f'<td class="num" title="{time} × {stats.unit:g} s">{escape(_seconds(seconds))}</td>'
        f'<td class="num">{per_hit}</td><td class="num">{share:.1f}%</td>'
        f'<td class="barcell"><div class="bar" style="width:{share:.2f}%"></div></td>{code}</tr>'
    )


_CSS = """
:root { --fg: #1d2127; --muted: #6a7380; --line: #e3e6ea; --bg: #ffffff; --panel: #f6f7f9;
  --hot: 234, 88, 12; --bar: #e8590c; --link: #1c64c8;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e4e6ea; --muted: #9aa3ae; --line: #2e333a; --bg: #16191d; --panel: #1e2227;
    --link: #6ea8fe; }
}
body { margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 8px; word-break: break-all; }
h2 { font-size: 16px; margin: 0 0 4px; }
a { color: var(--link); text-decoration: none; }
a:hover { text-decoration: underline; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 20px;
  color: var(--muted); }
.meta dt { font-weight: 600; } .meta dd { margin: 0; color: var(--fg); word-break: break-all; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
  padding: 12px 14px; margin: 0 0 18px; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line);
  padding: 3px 8px; white-space: nowrap; }
td { padding: 1px 8px; vertical-align: top; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.summary td { padding: 3px 8px; border-bottom: 1px solid var(--line); }
.where { color: var(--muted); font-weight: normal; font-size: 13px; word-break: break-all; }
.stats { margin: 0 0 8px; color: var(--muted); }
.note { color: #b02a37; }
.barcell { width: 110px; min-width: 110px; padding-top: 4px; }
.bar { height: 11px; background: var(--bar); border-radius: 2px; min-width: 1px; }
.scroll { overflow-x: auto; }
.lines { font: 12.5px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.lines .ln { color: var(--muted); text-align: right; user-select: none; }
.lines .code { width: 100%; white-space: pre; tab-size: 4; }
.lines code { font: inherit; }
tr.run { background: rgba(var(--hot), calc(0.04 + 0.42 * var(--heat))); }
tr.run td { border-top: 1px solid var(--bg); }
tr.idle { color: var(--muted); }
tr.fold button, .tools button { font: inherit; font-size: 12px; color: var(--link);
  background: none; border: 1px dashed var(--line); border-radius: 4px; padding: 0 8px;
  cursor: pointer; }
.tools { margin: 10px 0 0; }
@media print { tr[hidden] { display: table-row; } tr.fold, .tools { display: none; } }
"""

_JS = """
(function () {
  function setFold(button, open) {
    document.querySelectorAll('tr[data-in-fold="' + button.dataset.fold + '"]')
      .forEach(function (row) { row.hidden = !open; });
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = button.textContent.replace(/^[▸▾]/, open ? "▾" : "▸");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    if (button.dataset.fold) {
      setFold(button, button.getAttribute("aria-expanded") !== "true");
    } else if (button.dataset.all) {
      document.querySelectorAll("button[data-fold]").forEach(function (b) {
        setFold(b, button.dataset.all === "show");
      });
    }
  });
  document.documentElement.dataset.ready = "yes";
})();
"""

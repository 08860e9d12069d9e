"""Two results compared line by line: the model of ``lineprof diff`` and its text rendering.
Pure functions of two LineStats; no profiling state, no files.

Functions are matched by (filename, qualified name): the first line may differ when code above
the function moved.  Within a function, rows are matched by source text, not by line number:
the two functions' stored sources (the file as it is now when the results hold none) are
aligned with ``difflib.SequenceMatcher`` on the stripped lines, so a line that moved, or one
below a line that was inserted or removed, keeps its partner.  A line found in one run only is
added (``+``, only in NEW) or removed (``-``, only in OLD); in a block of replaced lines, a line
much like one of the other run's (``CHANGED_RATIO``) is paired with it as changed (``!``), so
``range(1000)`` becoming ``range(10000)`` reads as one row.

Noise: a row is insignificant (``~``) when its hits are equal in both runs and its time changed
by less than ``NOISE_SHARE`` of its old time or by less than ``NOISE_FLOOR`` seconds.  A
function's significant change is the sum of its significant rows' changes; ``fail_over`` and
the text's "significant" figure count nothing else.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from lineprof.report import TIMES_HEADER, function_lines
from lineprof.stats import TIMES_RAW, FunctionKey, LineStats, LineTiming

__all__ = [
    "CHANGED_RATIO",
    "NOISE_FLOOR",
    "NOISE_SHARE",
    "FunctionDiff",
    "RowDiff",
    "StatsDiff",
    "diff_stats",
    "fail_over",
    "format_diff",
]

NOISE_SHARE = 0.05  # a change below 5 % of the old time, hits equal, is noise
NOISE_FLOOR = 1e-6  # seconds: so is a change below 1 µs, hits equal
CHANGED_RATIO = 0.75  # difflib ratio above which two replaced lines are one changed line

# What a row is; the marker column shows it.
SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"
_MARKERS = {SAME: " ", CHANGED: "!", ADDED: "+", REMOVED: "-"}
INSIGNIFICANT_MARKER = "~"


@dataclass(frozen=True)
class RowDiff:
    """One source line of a function in either run or both.  Hits are None where the run did
    not time the line (not code, or not in that run); times are in the diff's unit, 0 then."""

    kind: str  # SAME, CHANGED, ADDED, REMOVED
    old_line: int | None
    new_line: int | None
    text: str  # NEW's text; OLD's for a removed line
    old_text: str | None  # OLD's text of a changed line, else None
    old_hits: int | None
    new_hits: int | None
    old_time: int
    new_time: int
    significant: bool

    @property
    def delta(self) -> int:
        return self.new_time - self.old_time

    @property
    def timed(self) -> bool:
        return self.old_hits is not None or self.new_hits is not None

    @property
    def per_hit_delta(self) -> float | None:
        """New time per hit less old time per hit; None unless both runs hit the line."""
        if not self.old_hits or not self.new_hits:
            return None
        return self.new_time / self.new_hits - self.old_time / self.old_hits

    @property
    def marker(self) -> str:
        if self.kind == SAME and self.timed and not self.significant:
            return INSIGNIFICANT_MARKER
        return _MARKERS[self.kind]


@dataclass(frozen=True)
class FunctionDiff:
    """A function of either run or both.  ``old_first`` / ``new_first``: its first line in
    that run, None when the run does not have it."""

    filename: str
    qualname: str
    old_first: int | None
    new_first: int | None
    rows: tuple[RowDiff, ...]
    old_total: int
    new_total: int
    ran: bool  # hit in either run
    source_known: bool  # False: neither run's source could be read; rows by line offset

    @property
    def delta(self) -> int:
        return self.new_total - self.old_total

    @property
    def significant_delta(self) -> int:
        return sum(row.delta for row in self.rows if row.significant)

    @property
    def largest(self) -> RowDiff | None:
        """The row whose time changed most (either way), among the significant ones."""
        rows = [row for row in self.rows if row.significant and row.delta]
        return max(rows, key=lambda row: abs(row.delta), default=None)

    @property
    def size(self) -> int:
        """How big the change is, for ordering: the larger of |total change| and the
        largest |line change|."""
        lines = max((abs(row.delta) for row in self.rows), default=0)
        return max(abs(self.delta), lines)


@dataclass(frozen=True)
class StatsDiff:
    """The comparison: functions biggest change first (``FunctionDiff.size``), times counting
    ``unit`` seconds each (the finer of the two runs' units)."""

    functions: tuple[FunctionDiff, ...]
    unit: float
    times: str  # what the times are, for the header
    noise_share: float = NOISE_SHARE
    noise_floor: float = NOISE_FLOOR

    def function(self, qualname: str) -> FunctionDiff:
        """The first function called ``qualname`` (tests and scripts)."""
        return next(f for f in self.functions if f.qualname == qualname)


# ---- the comparison ------------------------------------------------------------------------


def diff_stats(
    old: LineStats,
    new: LineStats,
    noise_share: float = NOISE_SHARE,
    noise_floor: float = NOISE_FLOOR,
) -> StatsDiff:
    """Compare ``old`` with ``new``.  Times are rescaled to the finer unit.  When one run's
    times have lineprof's measured cost taken out and the other's do not, both are compared
    raw (``LineStats.raw``), as ``LineStats.merge`` does."""
    times = _times_note(old, new)
    if old.times is not None and new.times is not None and old.times != new.times:
        old, new = old.raw(), new.raw()
    unit = min(old.unit, new.unit)
    floor = noise_floor / unit

    def significant(old_hits: int, new_hits: int, old_time: int, new_time: int) -> bool:
        change = abs(new_time - old_time)
        return old_hits != new_hits or not (change < noise_share * old_time or change < floor)

    functions = []
    for old_key, new_key in _pair_functions(old.timings, new.timings):
        functions.append(_function_diff(old, new, old_key, new_key, unit, significant))
    functions.sort(key=lambda f: (-f.size, f.filename, f.qualname, f.new_first or 0))
    return StatsDiff(tuple(functions), unit, times, noise_share, noise_floor)


def _times_note(old: LineStats, new: LineStats) -> str:
    if old.times == new.times:
        return TIMES_HEADER[old.times] if old.times is not None else ""
    if old.times is not None and new.times is not None:
        return TIMES_HEADER[TIMES_RAW] + " (the runs' corrections differ)"
    kind = [TIMES_HEADER[t] if t is not None else "not recorded" for t in (old.times, new.times)]
    return f"OLD {kind[0]}; NEW {kind[1]} (compared as recorded)"


def _same_files(filenames: set[str]) -> dict[str, str]:
    """{relative filename: the one absolute filename ending in it}: kernprof records a script
    as it was given (``demo.py``), lineprof with its whole path, and the two runs profiled the
    same file.  A relative name that more than one absolute name ends in stays apart."""
    absolute = [name for name in filenames if os.path.isabs(name)]
    found: dict[str, str] = {}
    for name in filenames:
        if os.path.isabs(name):
            continue
        tail = os.sep + os.path.normpath(name)
        matches = [path for path in absolute if os.path.normpath(path).endswith(tail)]
        if len(matches) == 1:
            found[name] = matches[0]
    return found


def _pair_functions(
    old: Iterable[FunctionKey], new: Iterable[FunctionKey]
) -> list[tuple[FunctionKey | None, FunctionKey | None]]:
    """Match functions by (filename, qualname).  When a name has several functions in a run
    (redefinitions, lambdas), those at the same first line pair first, the rest in order of
    first line."""
    old, new = list(old), list(new)
    same_file = _same_files({key[0] for key in [*old, *new]})
    groups: dict[tuple[str, str], tuple[list[FunctionKey], list[FunctionKey]]] = {}
    for side, keys in enumerate((old, new)):
        for key in keys:
            groups.setdefault((same_file.get(key[0], key[0]), key[2]), ([], []))[side].append(key)
    pairs: list[tuple[FunctionKey | None, FunctionKey | None]] = []
    for olds, news in groups.values():
        olds.sort()
        news.sort()
        new_at: dict[int, FunctionKey] = {}
        for key in news:
            new_at.setdefault(key[1], key)
        matched = [(key, new_at.pop(key[1])) for key in olds if key[1] in new_at]
        pairs += matched
        rest_old = [key for key in olds if key not in {old for old, _ in matched}]
        rest_new = [key for key in news if key not in {new for _, new in matched}]
        for index in range(max(len(rest_old), len(rest_new))):
            pairs.append(
                (
                    rest_old[index] if index < len(rest_old) else None,
                    rest_new[index] if index < len(rest_new) else None,
                )
            )
    return pairs


def _scaled(stats: LineStats, key: FunctionKey | None, unit: float) -> dict[int, tuple[int, int]]:
    if key is None:
        return {}
    scale = stats.unit / unit
    return {line: (hits, round(time * scale)) for line, hits, time in stats.timings[key]}


def _contents(stats: LineStats, key: FunctionKey | None) -> list[str] | None:
    if key is None:
        return []
    timings: list[LineTiming] = stats.timings[key]
    return function_lines(key[0], key[1], timings, stats.sources.get(key))


def _function_diff(
    old: LineStats,
    new: LineStats,
    old_key: FunctionKey | None,
    new_key: FunctionKey | None,
    unit: float,
    significant: Callable[[int, int, int, int], bool],
) -> FunctionDiff:
    key = new_key or old_key
    assert key is not None
    old_rows, new_rows = _scaled(old, old_key, unit), _scaled(new, new_key, unit)
    old_first = old_key[1] if old_key else 0
    new_first = new_key[1] if new_key else 0
    old_text, new_text = _contents(old, old_key), _contents(new, new_key)
    source_known = old_text is not None or new_text is not None
    pairs = _align(old_text, new_text, old_first, new_first, old_rows, new_rows)

    rows = []
    for kind, old_line, new_line in pairs:
        old_hits, old_time = old_rows.get(old_line, (None, 0)) if old_line else (None, 0)
        new_hits, new_time = new_rows.get(new_line, (None, 0)) if new_line else (None, 0)
        text = _line_text(new_text, new_first, new_line) if new_line else ""
        was = _line_text(old_text, old_first, old_line) if old_line else ""
        rows.append(
            RowDiff(
                kind,
                old_line,
                new_line,
                was if kind == REMOVED else text,
                was if kind == CHANGED else None,
                old_hits,
                new_hits,
                old_time,
                new_time,
                significant(old_hits or 0, new_hits or 0, old_time, new_time),
            )
        )
    return FunctionDiff(
        key[0],
        key[2],
        old_key[1] if old_key else None,
        new_key[1] if new_key else None,
        tuple(rows),
        sum(t for _, t in old_rows.values()),
        sum(t for _, t in new_rows.values()),
        any(h for h, _ in old_rows.values()) or any(h for h, _ in new_rows.values()),
        source_known,
    )


def _line_text(contents: list[str] | None, first: int, line: int) -> str:
    if contents is None:
        return ""
    index = line - first
    return contents[index] if 0 <= index < len(contents) else ""


def _align(
    old_text: list[str] | None,
    new_text: list[str] | None,
    old_first: int,
    new_first: int,
    old_rows: dict[int, tuple[int, int]],
    new_rows: dict[int, tuple[int, int]],
) -> list[tuple[str, int | None, int | None]]:
    """(kind, old line, new line) for every row, in NEW's order with OLD's removed lines
    where they were.  Without either run's source, lines pair by their offset from the
    function's first line."""
    if old_text is None or new_text is None:
        known = old_text if old_text is not None else new_text or []
        last = max(
            len(known),
            *(line - old_first + 1 for line in old_rows),
            *(line - new_first + 1 for line in new_rows),
            0,
        )
        pairs: list[tuple[str, int | None, int | None]] = []
        for offset in range(last):
            in_old = old_text is not None or old_first + offset in old_rows
            in_new = new_text is not None or new_first + offset in new_rows
            if old_first and new_first and (in_old or in_new):
                pairs.append((SAME, old_first + offset, new_first + offset))
            elif old_first and in_old:
                pairs.append((REMOVED, old_first + offset, None))
            elif new_first and in_new:
                pairs.append((ADDED, None, new_first + offset))
        return pairs
    a = [line.strip() for line in old_text]
    b = [line.strip() for line in new_text]
    pairs = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs += [(SAME, old_first + i1 + k, new_first + j1 + k) for k in range(i2 - i1)]
            continue
        for kind, i, j in _pair_replaced(a, b, i1, i2, j1, j2):
            pairs.append(
                (
                    kind,
                    old_first + i if i is not None else None,
                    new_first + j if j is not None else None,
                )
            )
    return pairs


def _pair_replaced(
    a: Sequence[str], b: Sequence[str], i1: int, i2: int, j1: int, j2: int
) -> list[tuple[str, int | None, int | None]]:
    """A replaced block a[i1:i2] -> b[j1:j2]: each old line pairs, in order, with the most
    similar new line not yet passed when they are alike enough; the others are removed or
    added."""
    out: list[tuple[str, int | None, int | None]] = []
    j = j1
    for i in range(i1, i2):
        best, best_ratio = None, CHANGED_RATIO
        for k in range(j, j2):
            ratio = difflib.SequenceMatcher(None, a[i], b[k], autojunk=False).ratio()
            if ratio > best_ratio:
                best, best_ratio = k, ratio
        if best is None:
            out.append((REMOVED, i, None))
            continue
        out += [(ADDED, None, k) for k in range(j, best)]
        out.append((CHANGED, i, best))
        j = best + 1
    out += [(ADDED, None, k) for k in range(j, j2)]
    return out


# ---- --fail-over ---------------------------------------------------------------------------


def fail_over(diff: StatsDiff, percent: float) -> list[str]:
    """What grew by more than ``percent``, one message each; [] when nothing did.

    Only functions present in both runs are judged, and only their significant rows count.
    A function fails when its significant change exceeds ``percent`` % of its old total time
    (any significant growth when the old total is 0).  A line fails when its share of its
    function's total time grew by more than ``percent`` percentage points (new share: of the
    new total; old share: of the old total; a line added counts from 0)."""
    messages = []
    for function in diff.functions:
        if function.old_first is None or function.new_first is None:
            continue
        where = f"{function.qualname} ({function.filename}:{function.new_first})"
        change = function.significant_delta
        if change > 0 and change > percent / 100 * function.old_total:
            grew = (
                f"grew by {100 * change / function.old_total:.1f}%"
                if function.old_total
                else "grew from 0"
            )
            messages.append(
                f"{where}: total time {grew} (over {percent:g}%): "
                f"{function.old_total * diff.unit:g} s -> {function.new_total * diff.unit:g} s"
            )
        for row in function.rows:
            if not row.significant or row.new_line is None:
                continue
            old_share = _share(row.old_time, function.old_total)
            new_share = _share(row.new_time, function.new_total)
            if new_share - old_share > percent:
                messages.append(
                    f"{where} line {row.new_line}: share of the function grew by "
                    f"{new_share - old_share:.1f} points (over {percent:g}): "
                    f"{old_share:.1f}% -> {new_share:.1f}%: {row.text.strip()}"
                )
    return messages


def _share(time: int, total: int) -> float:
    return 100.0 * time / total if total else 0.0


# ---- text ----------------------------------------------------------------------------------

HEADER = (
    "  Old #  New #  Hits old  Hits new    Time old    Time new   Time diff  Per hit diff"
    "  % of old  Line Contents"
)
LEGEND = """\
Markers: + only in NEW, - only in OLD, ! text changed (NEW's shown), ~ change within noise
Time diff = new - old; Per hit diff = new per hit - old per hit; % of old = time diff in
percent of the function's total time in OLD.  Noise: hits equal and time changed by less
than {share:g}% of the old time or less than {floor:g} s."""


def _row(
    marker: str,
    old_line: str,
    new_line: str,
    numbers: Sequence[str],
    text: str,
) -> str:
    hits_old, hits_new, time_old, time_new, diff, per_hit, percent = numbers
    return (
        f"{marker} {old_line:>6} {new_line:>6} {hits_old:>9} {hits_new:>9} {time_old:>11} "
        f"{time_new:>11} {diff:>11} {per_hit:>13} {percent:>9}  {text}"
    ).rstrip()


def _fit(value: float, width: int, signed: bool = False) -> str:
    """One decimal if it fits the column, else 3 significant digits (as report.py does);
    ``signed`` shows + on growth."""
    sign = "+" if signed and value else ""
    text = format(value, f"{sign}.1f")
    if len(text) > width:
        text = format(value, f"{sign}.3g")
    return text


def _count(hits: int | None, width: int) -> str:
    if hits is None:
        return ""
    text = str(hits)
    return text if len(text) <= width else format(hits, ".3g")


def _seconds(units: int, unit: float) -> str:
    return f"{units * unit:g} s"


def format_function(function: FunctionDiff, unit: float, output_unit: float | None = None) -> str:
    """One function's table."""
    if output_unit is None:
        output_unit = unit
    scalar = unit / output_unit
    old, new = function.old_total, function.new_total
    change = _seconds(function.delta, unit)
    if function.delta > 0:
        change = "+" + change
    share = f", {100 * function.delta / old:+.1f}%" if old else ""
    out = [f"Total time: {_seconds(old, unit)} -> {_seconds(new, unit)} ({change}{share})"]
    out.append(f"File: {function.filename}")
    if function.old_first is None:
        out.append(f"Function: {function.qualname} at line {function.new_first} (only in NEW)")
    elif function.new_first is None:
        out.append(f"Function: {function.qualname} at line {function.old_first} (only in OLD)")
    elif function.old_first == function.new_first:
        out.append(f"Function: {function.qualname} at line {function.new_first}")
    else:
        out.append(
            f"Function: {function.qualname} at line {function.old_first} in OLD, "
            f"{function.new_first} in NEW"
        )
    largest = function.largest
    if largest is not None:
        where = f"line {largest.new_line}"
        if largest.new_line is None:
            where = f"line {largest.old_line} of OLD"
        out.append(
            f"Largest change: {where}, {largest.delta * unit:+.3g} s: {largest.text.strip()}"
        )
    if not function.source_known:
        out.append(
            f"(source not available: {function.filename} cannot be read; rows matched by "
            f"line offset, contents omitted)"
        )
    out += ["", HEADER, "=" * len(HEADER)]
    for row in function.rows:
        numbers = ["", "", "", "", "", "", ""]
        if row.timed:
            numbers = [
                _count(row.old_hits, 9),
                _count(row.new_hits, 9),
                _fit(row.old_time * scalar, 11) if row.old_hits is not None else "",
                _fit(row.new_time * scalar, 11) if row.new_hits is not None else "",
                _fit(row.delta * scalar, 11, True),
                _fit(row.per_hit_delta * scalar, 13, True) if row.per_hit_delta is not None else "",
                _fit(100 * row.delta / old, 9, True) if old else "",
            ]
        out.append(
            _row(
                row.marker,
                str(row.old_line) if row.old_line is not None else "",
                str(row.new_line) if row.new_line is not None else "",
                numbers,
                row.text,
            )
        )
    out.append("")
    return "\n".join(out) + "\n"


def format_diff(
    diff: StatsDiff,
    output_unit: float | None = None,
    skip_zero: bool = False,
    names: tuple[str, str] = ("OLD", "NEW"),
) -> str:
    """The whole comparison: header, then every function's table, biggest change first.
    ``skip_zero`` hides functions that ran in neither run."""
    if output_unit is None:
        output_unit = diff.unit
    out = [f"Timer unit: {output_unit:g} s\n"]
    if diff.times:
        out.append(f"Times: {diff.times}\n")
    out.append(f"OLD: {names[0]}\nNEW: {names[1]}\n")
    out.append(LEGEND.format(share=100 * diff.noise_share, floor=diff.noise_floor) + "\n\n")
    for function in diff.functions:
        if skip_zero and not function.ran:
            continue
        out.append(format_function(function, diff.unit, output_unit))
    return "".join(out)

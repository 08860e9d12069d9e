"""lineprof's own results format: JSON, described by the versioned JSON Schema in
``lineprof/results.schema.json``.

Written a field a line and a function at a time, so that people can read it and a large result
never needs one huge string.  Read as data only: ``loads`` checks every field it uses and says
in one line what is wrong with a file that is not results.  This module knows the format and
plain data; stats.py turns the data into a ``LineStats``.

``json`` is imported where JSON is written or read, not with this module: every profiled
program imports this module, most never write JSON, and the import costs ~2.5 ms (CPython 3.13).
"""

from __future__ import annotations

from lineprof._typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from typing import Any, TypeGuard

    from lineprof.stats import FunctionKey, LineMemory, LineTiming

__all__ = [
    "FORMAT_NAME",
    "MAX_LINE",
    "MAX_SPAN",
    "SCHEMA_VERSION",
    "TIMES_CORRECTED",
    "TIMES_RAW",
    "NewerFormatError",
    "Parsed",
    "chunks",
    "function_item",
    "is_number",
    "parse",
    "parse_subtracted",
]

FORMAT_NAME = "lineprof-results"
# The major version of the JSON format.  Adding an optional field keeps it (readers ignore
# fields they do not know); a change an older reader would misread bumps it.  Version 2 added
# memory figures (an older lineprof would show such results without them, as if they had
# none); results without memory figures are still written as version 1, which they are, so
# older readers keep reading them.
SCHEMA_VERSION = 2

# What the times are (``LineStats.times``, the JSON field "times"): the clock's figures less
# what lineprof's own callbacks measured of themselves inside each line (``subtracted`` says
# how much), or the clock's figures as read.
TIMES_CORRECTED = "own cost subtracted"
TIMES_RAW = "raw"

# Line numbers as CPython has them (a C int), and no function's lines further than this from its
# first: a report shows every line between, so a damaged number must not ask for millions.
MAX_LINE = 2**31 - 1
MAX_SPAN = 1_000_000


class NewerFormatError(ValueError):
    """Results written by a newer lineprof, in a schema version this one cannot read."""


class Parsed(NamedTuple):
    """A results file's content, checked: the arguments of a ``LineStats``, with its metadata
    still as JSON (stats.py's ``Metadata.from_json`` reads it) and ``memory`` None when the
    file has no memory figures."""

    timings: dict[FunctionKey, list[LineTiming]]
    unit: float
    sources: dict[FunctionKey, list[str]]
    metadata: Any
    times: str | None
    subtracted: dict[FunctionKey, dict[int, int]]
    memory: dict[FunctionKey, dict[int, LineMemory]] | None


# ---- writing ----------------------------------------------------------------------------------


def function_item(
    key: FunctionKey,
    lines: Sequence[LineTiming],
    source: Sequence[str] | None,
    subtracted: Mapping[int, int] | None,
    memory: Mapping[int, LineMemory] | None,
) -> dict[str, Any]:
    """One entry of "functions"."""
    filename, first_line, qualname = key
    item: dict[str, Any] = {"filename": filename, "first_line": first_line, "qualname": qualname}
    if source is not None:
        item["source"] = list(source)
    item["lines"] = [list(row) for row in lines]
    if subtracted:
        item["subtracted"] = [[line, units] for line, units in subtracted.items()]
    if memory:
        item["memory"] = [[line, *figures] for line, figures in memory.items()]
    return item


def chunks(head: Mapping[str, Any], functions: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The text of a results file, in pieces: the fields of ``head``, a line each, then
    "functions", an entry a few lines long each with a field a line."""
    import json  # noqa: PLC0415  (not at the top: see the module docstring)

    yield "{" + ",\n ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in head.items())
    yield ',\n "functions": ['
    empty = True
    for item in functions:
        fields = [f"{json.dumps(name)}: {json.dumps(value)}" for name, value in item.items()]
        yield ("\n" if empty else ",\n") + "  {" + ",\n   ".join(fields) + "}"
        empty = False
    yield "]}\n" if empty else "\n ]}\n"


# ---- reading ----------------------------------------------------------------------------------


def parse(data: Any) -> Parsed:
    """The results in ``data``, JSON as ``json.loads`` returns it.  Raises ValueError saying in
    a few words why ``data`` is not lineprof's results (``NewerFormatError`` for results of a
    later schema version)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise ValueError(f"no 'format': {FORMAT_NAME!r} field")
    version = data.get("schema_version")
    if not _is_int(version) or version < 1:
        raise ValueError("no positive integer 'schema_version'")
    if version > SCHEMA_VERSION:
        raise NewerFormatError(
            f"written by a newer lineprof (schema version {version}; this lineprof reads up "
            f"to {SCHEMA_VERSION}); upgrade lineprof to read it"
        )
    unit = data.get("unit")
    functions = data.get("functions")
    if not is_number(unit) or not 0 < unit < float("inf"):
        raise ValueError("'unit' must be a positive number")
    if not isinstance(functions, list):
        raise ValueError("'functions' must be a list")
    times = data.get("times")
    if times is not None and times not in (TIMES_CORRECTED, TIMES_RAW):
        raise ValueError(f"'times' must be {TIMES_CORRECTED!r} or {TIMES_RAW!r}, not {times!r}")
    has_memory = data.get("memory") is not None
    if has_memory and data["memory"] != "bytes":
        raise ValueError(f"'memory' must be 'bytes', not {data['memory']!r}")
    parsed = Parsed(
        {}, float(unit), {}, data.get("metadata"), times, {}, {} if has_memory else None
    )
    for index, item in enumerate(functions):
        try:
            key, lines, text, taken = _parse_function(item)
        except (KeyError, TypeError, ValueError) as exc:
            why = str(exc) if isinstance(exc, ValueError) else repr(exc)
            raise ValueError(f"function #{index} is malformed: {why}") from None
        if key in parsed.timings:
            raise ValueError(f"function #{index} ({key[2]} at {key[0]}:{key[1]}) is listed twice")
        if taken and times != TIMES_CORRECTED:
            raise ValueError(
                f"function #{index} has 'subtracted' but the file's 'times' is not "
                f"{TIMES_CORRECTED!r}"
            )
        parsed.timings[key] = lines
        try:
            figures = _parse_memory(item.get("memory"), lines)
        except ValueError as exc:
            raise ValueError(f"function #{index} is malformed: {exc}") from None
        if parsed.memory is None:
            if figures:
                raise ValueError(
                    f"function #{index} has 'memory' but the file has no 'memory' field"
                )
        else:
            parsed.memory[key] = figures
        if text is not None:
            parsed.sources[key] = text
        if taken:
            parsed.subtracted[key] = taken
    return parsed


def _parse_function(
    item: Any,
) -> tuple[FunctionKey, list[LineTiming], list[str] | None, dict[int, int]]:
    if not isinstance(item, dict):
        raise ValueError("not an object")
    filename, first_line, qualname = item["filename"], item["first_line"], item["qualname"]
    if not isinstance(filename, str) or not isinstance(qualname, str):
        raise ValueError("'filename' and 'qualname' must be strings")
    if not _is_int(first_line) or not 0 <= first_line <= MAX_LINE:
        raise ValueError(f"'first_line' must be an integer from 0 to {MAX_LINE}")
    rows = item["lines"]
    if not isinstance(rows, list):
        raise ValueError("'lines' must be a list")
    lines: list[LineTiming] = []
    for row in rows:
        if not (
            isinstance(row, list)
            and len(row) == 3
            and all(_is_int(v) for v in row)
            and row[1] >= 0
            and row[2] >= 0
        ):
            raise ValueError(
                f"a row of 'lines' must be [line, hits, time], integers, hits and time >= 0, "
                f"not {row!r}"
            )
        if not 0 <= row[0] <= MAX_LINE or abs(row[0] - first_line) > MAX_SPAN:
            raise ValueError(
                f"line {row[0]} is not a line number within {MAX_SPAN:,} of 'first_line'"
            )
        lines.append((row[0], row[1], row[2]))
    text = item.get("source")
    if text is not None and (
        not isinstance(text, list) or not all(isinstance(line, str) for line in text)
    ):
        raise ValueError("'source' must be a list of strings")
    key = (filename, first_line, qualname)
    return key, lines, text, parse_subtracted(item.get("subtracted"), lines)


def parse_subtracted(rows: Any, lines: Sequence[LineTiming]) -> dict[int, int]:
    """A function's optional "subtracted": [[line, units], ...], each line one of its
    timed lines, once; {} when absent (None)."""
    if rows is None:
        return {}
    if not isinstance(rows, list):
        raise ValueError("'subtracted' must be a list")
    timed = {line for line, _, _ in lines}
    taken: dict[int, int] = {}
    for row in rows:
        if not (isinstance(row, list) and len(row) == 2 and all(_is_int(v) for v in row)):
            raise ValueError(f"a row of 'subtracted' must be [line, time], integers, not {row!r}")
        line, units = row
        if units < 0:
            raise ValueError(f"'subtracted' of line {line} is negative ({units})")
        if line not in timed:
            raise ValueError(f"'subtracted' names line {line}, which is not among its 'lines'")
        if line in taken:
            raise ValueError(f"'subtracted' lists line {line} twice")
        if units:
            taken[line] = units
    return taken


def _parse_memory(rows: Any, lines: Sequence[LineTiming]) -> dict[int, LineMemory]:
    """A function's optional "memory": [[line, alloc, net, peak], ...] (schema version 2),
    each line one of its timed lines, once; {} when absent (None)."""
    if rows is None:
        return {}
    if not isinstance(rows, list):
        raise ValueError("'memory' must be a list")
    timed = {line for line, _, _ in lines}
    figures: dict[int, LineMemory] = {}
    for row in rows:
        if not (
            isinstance(row, list)
            and len(row) == 4
            and all(_is_int(v) for v in row)
            and row[1] >= 0
            and row[3] >= 0
        ):
            raise ValueError(
                f"a row of 'memory' must be [line, alloc, net, peak], integers, alloc and peak "
                f">= 0, not {row!r}"
            )
        line, alloc, net, peak = row
        if line not in timed:
            raise ValueError(f"'memory' names line {line}, which is not among its 'lines'")
        if line in figures:
            raise ValueError(f"'memory' lists line {line} twice")
        figures[line] = (alloc, net, peak)
    return figures


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)

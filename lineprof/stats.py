"""LineStats: the results data model.  Merging, saving and loading; no formatting.

Writing, the file name's extension chooses the format (``results_format``):

- ``.lprof``: line_profiler's format (a pickle of its ``LineStats``, see ``lprof_format``), so
  ``python -m line_profiler out.lprof`` shows lineprof's results;
- ``.html`` / ``.htm``: the HTML report (``lineprof.html``), which cannot be read back;
- ``.json`` and every other name: lineprof's own format, JSON described by the versioned JSON
  Schema in ``lineprof/results.schema.json`` (see ``json_format``).

Reading looks at the content, never the name (JSON starts with ``{``, a pickle with byte 0x80),
and never executes anything from the file: JSON is parsed as data, and pickles go through an
unpickler that admits line_profiler's ``LineStats`` and plain data only.  Every file is written
atomically (temporary file in the same directory, then rename).

``json`` is imported where JSON is read, not with this module: every profiled program imports
this module, most never write or read JSON, and the import costs ~2.5 ms (CPython 3.13).
"""

from __future__ import annotations

import os
import stat
import sys

from lineprof import codemap, json_format, lprof_format
from lineprof._typing import TYPE_CHECKING, NamedTuple
from lineprof._version import __version__
from lineprof.json_format import FORMAT_NAME, SCHEMA_VERSION, TIMES_CORRECTED, TIMES_RAW
from lineprof.sources import lines as source_lines

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from datetime import datetime, timedelta, timezone
    from typing import Any, BinaryIO, Self, TypeVar

    _Stats = TypeVar("_Stats", bound="LineStats")
    # What Metadata.current captures when results are taken, to make the Metadata from later:
    # (command line, start in POSIX seconds, duration in seconds).
    _Deferred = tuple[tuple[str, ...], float | None, float | None]


_MAX_DURATION = 100 * 365.25 * 86400  # seconds: NaN, inf and absurd values are refused


def datetime_classes() -> tuple[type[datetime], type[timedelta], timezone]:
    """datetime's classes and its UTC, imported when first needed: a profiled program that
    writes only a ``.lprof`` and the text report never reads a start time (importing the module
    cost it ~0.3 ms of start-up, CPython 3.13).  They come from the C module datetime.py takes
    them from: on 3.10 and 3.11 datetime.py defines them all in Python first and then replaces
    them (~2 ms)."""
    try:
        import _datetime as module  # type: ignore[import-not-found]  # noqa: PLC0415
    except ImportError:  # an interpreter built without it
        import datetime as module  # noqa: PLC0415
    return module.datetime, module.timedelta, module.timezone.utc


__all__ = [
    "TIMES_CORRECTED",
    "TIMES_RAW",
    "LineStats",
    "Metadata",
    "ResultsFileError",
    "atomic_write",
    "function_source",
    "results_format",
]

FunctionKey = tuple[str, int, str]  # (filename, first line, qualified name)
LineTiming = tuple[int, int, int]  # (line, hits, time in units)
LineMemory = tuple[int, int, int]  # (alloc, net, peak) in bytes: memory mode, see docs/memory.md


class ResultsFileError(ValueError):
    """A results file that cannot be read: the message is one line meant for the user."""


def results_format(filename: str | os.PathLike[str]) -> str:
    """The format written to ``filename``, from its extension: 'lprof', 'html' or 'json'."""
    extension = os.path.splitext(os.fspath(filename))[1].lower()
    if extension == ".lprof":
        return "lprof"
    if extension in (".html", ".htm"):
        return "html"
    return "json"


# ---- where results come from ----------------------------------------------------------------


class Metadata(NamedTuple):
    """What was profiled, when and with what.  A field is None when unknown (results read from
    a line_profiler file have none of them).  Immutable (``_replace`` makes a changed copy); a
    NamedTuple rather than a dataclass, which would add some ms to every profiled program's
    start-up (the module and what it imports)."""

    lineprof_version: str | None = None
    python_version: str | None = None
    command_line: tuple[str, ...] | None = None
    start_time: datetime | None = None  # when profiling first started (aware, UTC)
    duration: float | None = None  # seconds profiling was on
    # the modelled costs an older lineprof took out of the times (ns), kept when such a file
    # is loaded; None from this version, which subtracts only what it measured
    overhead: dict[str, float] | None = None

    @classmethod
    def current(cls, started: float | None = None, duration: float | None = None) -> Metadata:
        """This process: lineprof and Python versions and its command line; ``started`` in
        POSIX seconds (``time.time()``)."""
        return cls._made(cls._deferred(started, duration))

    @staticmethod
    def _deferred(started: float | None, duration: float | None) -> _Deferred:
        """What ``current`` needs from this moment (the command line now), for ``_made``."""
        argv = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]
        return tuple(argv), started, duration

    @classmethod
    def _made(cls, deferred: _Deferred) -> Metadata:
        argv, started, duration = deferred
        start = None
        if started is not None:
            datetime, _, utc = datetime_classes()
            start = datetime.fromtimestamp(started, utc)
        return cls(__version__, sys.version.split()[0], argv, start, duration)

    def to_json(self) -> dict[str, Any]:
        return {
            "lineprof_version": self.lineprof_version,
            "python_version": self.python_version,
            "command_line": list(self.command_line) if self.command_line is not None else None,
            "start_time": self.start_time.isoformat() if self.start_time is not None else None,
            "duration": self.duration,
            "overhead": self.overhead,
        }

    @classmethod
    def from_json(cls, data: Any) -> Metadata:
        """Raises ValueError saying what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("'metadata' must be an object")

        def text(name: str) -> str | None:
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"metadata '{name}' must be a string or null")
            return value

        argv = data.get("command_line")
        if argv is not None and (
            not isinstance(argv, list) or not all(isinstance(a, str) for a in argv)
        ):
            raise ValueError("metadata 'command_line' must be a list of strings or null")
        start_text = text("start_time")
        start = None
        if start_text is not None:
            try:
                # Python < 3.11 does not take the "Z" other tools write for UTC.
                zulu = start_text[:-1] + "+00:00" if start_text.endswith("Z") else start_text
                start = datetime_classes()[0].fromisoformat(zulu)
            except ValueError:
                raise ValueError(f"metadata 'start_time' is not ISO 8601: {start_text!r}") from None
            if start.tzinfo is None:
                raise ValueError("metadata 'start_time' has no UTC offset")
        duration = data.get("duration")
        if duration is not None and (
            not json_format.is_number(duration) or not 0 <= duration <= _MAX_DURATION
        ):
            raise ValueError(
                "metadata 'duration' must be a number of seconds from 0 to a century, or null"
            )
        overhead = data.get("overhead")
        if overhead is not None and (
            not isinstance(overhead, dict)
            or not all(isinstance(k, str) and json_format.is_number(v) for k, v in overhead.items())
        ):
            raise ValueError("metadata 'overhead' must be an object of numbers or null")
        return cls(
            text("lineprof_version"),
            text("python_version"),
            tuple(argv) if argv is not None else None,
            start,
            float(duration) if duration is not None else None,
            {k: float(v) for k, v in overhead.items()} if overhead is not None else None,
        )

    @staticmethod
    def merge(items: Sequence[Metadata]) -> Metadata:
        """Versions: the common value, or the distinct values joined by ', '.  Command line:
        the first known (merging a program's results with its children's keeps the
        program's).  Start: the earliest; duration: from the earliest start to the latest end
        among the results that know both."""

        def distinct(values: Iterable[str | None]) -> str | None:
            found = list(dict.fromkeys(v for v in values if v is not None))
            return ", ".join(found) if found else None

        timed = [
            (m.start_time, m.duration)
            for m in items
            if m.start_time is not None and m.duration is not None
        ]
        start = min((m.start_time for m in items if m.start_time is not None), default=None)
        duration = None
        if timed:
            timedelta = datetime_classes()[1]
            first = min(s for s, _ in timed)
            try:
                last = max(s + timedelta(seconds=d) for s, d in timed)
            except OverflowError:  # a start near the year 9999: no end to say
                last = None
            duration = (last - first).total_seconds() if last is not None else None
        overheads = [m.overhead for m in items]
        return Metadata(
            distinct(m.lineprof_version for m in items),
            distinct(m.python_version for m in items),
            next((m.command_line for m in items if m.command_line is not None), None),
            start,
            duration,
            overheads[0] if overheads and all(o == overheads[0] for o in overheads) else None,
        )


# ---- the results ---------------------------------------------------------------------------


class LineStats:
    """Per-line results.

    ``timings`` maps (filename, first line, qualified name) to a sorted list of (line, hits,
    time); times count ``unit`` seconds each.  ``sources`` maps the same keys to the function's
    source lines (no line endings) as they were when profiled, starting at its first line, so
    a report can be shown where the file is gone; a function without one is shown from its
    file.  ``metadata`` says what ran, when and with what.

    ``subtracted`` says what the times are.  A dict (possibly empty): lineprof took its own
    measured cost out of them, and it maps a function's key to {line: time units taken out of
    that line} (nonzero entries only), so ``raw()`` gives the clock's figures back.  None with
    ``raw=True``: the times are the clock's figures as read.  None otherwise: unknown (results
    read from a line_profiler ``.lprof`` file, or from an older lineprof's JSON).  ``times``
    names the case: ``TIMES_CORRECTED``, ``TIMES_RAW`` or None.

    ``memory`` (memory mode, ``LineProfiler(memory=True)``) maps a function's key to {line:
    (alloc, net, peak)} in bytes, for lines that ran; None when memory was not recorded (the
    default, and results from line_profiler or an older lineprof).

    Two LineStats are equal when their timings, unit and memory figures are (sources, metadata
    and what was subtracted describe the results; they are not results)."""

    def __init__(
        self,
        timings: Mapping[FunctionKey, Sequence[LineTiming]],
        unit: float,
        sources: Mapping[FunctionKey, Sequence[str]] | None = None,
        metadata: Metadata | None = None,
        *,
        subtracted: Mapping[FunctionKey, Mapping[int, int]] | None = None,
        raw: bool = False,
        memory: Mapping[FunctionKey, Mapping[int, LineMemory]] | None = None,
    ) -> None:
        self.timings: dict[FunctionKey, list[LineTiming]] = {
            key: sorted((int(ln), int(h), int(t)) for ln, h, t in lines)
            for key, lines in timings.items()
        }
        self.unit = float(unit)
        self.sources: dict[FunctionKey, list[str]] = {
            key: list(lines) for key, lines in (sources or {}).items() if key in self.timings
        }
        self._metadata = metadata
        self._deferred_metadata: _Deferred | None = None
        if raw and subtracted is not None:
            raise ValueError("raw times have nothing subtracted: pass subtracted=None")
        self._raw = raw
        self.subtracted: dict[FunctionKey, dict[int, int]] | None = None
        if subtracted is not None:
            self.subtracted = {}
            for key, per_line in subtracted.items():
                kept = {int(line): int(units) for line, units in per_line.items() if units}
                if not kept:
                    continue
                timed = {line for line, _, _ in self.timings.get(key, ())}
                if key not in self.timings or not kept.keys() <= timed:
                    raise ValueError(f"subtracted names lines {key} has no timings for")
                if min(kept.values()) < 0:
                    raise ValueError(f"subtracted is negative for a line of {key}")
                self.subtracted[key] = dict(sorted(kept.items()))
        self.memory: dict[FunctionKey, dict[int, LineMemory]] | None = None
        if memory is not None:
            self.memory = {}
            for key, figures in memory.items():
                if key not in self.timings:
                    raise ValueError(f"memory names {key}, which has no timings")
                self.memory[key] = {
                    int(line): (int(a), int(n), int(p))
                    for line, (a, n, p) in sorted(figures.items())
                }

    @property
    def metadata(self) -> Metadata:
        if self._metadata is None:
            deferred, self._deferred_metadata = self._deferred_metadata, None
            self._metadata = Metadata._made(deferred) if deferred is not None else Metadata()
        return self._metadata

    @metadata.setter
    def metadata(self, value: Metadata) -> None:
        self._metadata = value
        self._deferred_metadata = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickling: results pickled by a lineprof from before ``metadata`` was a property
        keep theirs."""
        state = dict(state)
        if "metadata" in state:
            state["_metadata"] = state.pop("metadata")
        state.setdefault("_deferred_metadata", None)
        self.__dict__.update(state)

    def _metadata_of_this_process(self, started: float | None, duration: float | None) -> None:
        """``metadata`` is ``Metadata.current(started, duration)``, as of now, made when first
        read (profiler.py's ``get_stats``): most results are written where it is not read."""
        self._metadata = None
        self._deferred_metadata = Metadata._deferred(started, duration)

    @property
    def times(self) -> str | None:
        """``TIMES_CORRECTED`` (lineprof's own measured cost taken out; ``subtracted`` has
        it), ``TIMES_RAW`` (the clock's figures) or None (unknown)."""
        if self.subtracted is not None:
            return TIMES_CORRECTED
        return TIMES_RAW if self._raw else None

    def raw(self) -> Self:
        """The same results with the clock's figures: every time plus what was subtracted
        from it (sources and metadata kept).  Raw results give an equal copy.  Raises
        ValueError when the results do not say what was subtracted (``times`` is None)."""
        if self.times is None:
            raise ValueError(
                "these results do not record what lineprof subtracted from their times "
                "(line_profiler's .lprof format cannot; lineprof's .json does)"
            )
        subtracted = self.subtracted or {}
        timings = {
            key: [
                (line, hits, time + subtracted.get(key, {}).get(line, 0))
                for line, hits, time in rows
            ]
            for key, rows in self.timings.items()
        }
        return type(self)(
            timings, self.unit, self.sources, self.metadata, raw=True, memory=self.memory
        )

    def __repr__(self) -> str:
        return f"LineStats({len(self.timings)} functions, unit={self.unit:g})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LineStats):
            return NotImplemented
        return (
            self.unit == other.unit
            and self.timings == other.timings
            and self.memory == other.memory
        )

    def total_time(self, key: FunctionKey) -> int:
        return sum(time for _, _, time in self.timings.get(key, ()))

    # ---- merging ------------------------------------------------------------------------

    def __add__(self, other: LineStats) -> Self:
        if not isinstance(other, LineStats):
            return NotImplemented
        return type(self).merge([self, other])

    def __radd__(self, other: object) -> Self:
        # sum(list_of_stats) starts from 0.
        if isinstance(other, int) and other == 0:
            return type(self).merge([self])
        return NotImplemented

    @classmethod
    def merge(cls, stats: Iterable[LineStats]) -> Self:
        """Sum hits and times per line of the same function; the finest unit wins and the
        others are rescaled to it.  A function's source is the first one found among the
        results; metadata is merged by ``Metadata.merge``.

        What the times are (``times``): corrected results merge into corrected ones, their
        ``subtracted`` summed; raw with raw stays raw.  Corrected mixed with raw: every input
        is made raw (``raw()``) first and the result is raw, so that no line adds a corrected
        time to a raw one.  If any input does not say (a line_profiler file), neither can the
        result (``times`` is None); corrected inputs are made raw first there too, since what
        line_profiler reports is the clock's figures, with nothing taken out.

        Memory figures: Alloc and Net are summed, Peak is the largest; the result has memory
        figures if any input has."""
        stats = list(stats)
        if not stats:
            return cls({}, 1e-9)
        kinds = {s.times for s in stats}
        if len(kinds) > 1:
            stats = [s.raw() if s.times == TIMES_CORRECTED else s for s in stats]
            kinds = {TIMES_RAW} if None not in kinds else {None}
        unit = min(s.unit for s in stats)
        merged: dict[FunctionKey, dict[int, list[int]]] = {}
        taken: dict[FunctionKey, dict[int, int]] = {}
        sources: dict[FunctionKey, list[str]] = {}
        memory = _merge_memory([s.memory for s in stats])
        for s in stats:
            scale = s.unit / unit
            for key, lines in s.timings.items():
                rows = merged.setdefault(key, {})
                for line, hits, time in lines:
                    row = rows.setdefault(line, [0, 0])
                    row[0] += hits
                    row[1] += round(time * scale)
            for key, per_line in (s.subtracted or {}).items():
                total = taken.setdefault(key, {})
                for line, units in per_line.items():
                    total[line] = total.get(line, 0) + round(units * scale)
            for key, source in s.sources.items():
                sources.setdefault(key, source)
        return cls(
            {key: [(line, h, t) for line, (h, t) in rows.items()] for key, rows in merged.items()},
            unit,
            sources,
            Metadata.merge([s.metadata for s in stats]),
            subtracted=taken if kinds == {TIMES_CORRECTED} else None,
            raw=kinds == {TIMES_RAW},
            memory=memory,
        )

    # ---- lineprof's JSON format ---------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {**self._json_head(), "functions": list(self._json_functions())}

    def to_json(self) -> str:
        """The JSON text ``dump`` writes to a ``.json`` file."""
        return "".join(json_format.chunks(self._json_head(), self._json_functions()))

    @classmethod
    def from_dict(cls, data: Any, source: str = "results") -> Self:
        try:
            parsed = json_format.parse(data)
            metadata = Metadata()
            if parsed.metadata is not None:
                metadata = Metadata.from_json(parsed.metadata)
        except json_format.NewerFormatError as exc:
            raise ResultsFileError(f"{source}: {exc}") from None
        except ValueError as exc:
            raise ResultsFileError(f"{source}: not a lineprof results file ({exc})") from None
        return cls(
            parsed.timings,
            parsed.unit,
            parsed.sources,
            metadata,
            subtracted=parsed.subtracted if parsed.times == TIMES_CORRECTED else None,
            raw=parsed.times == TIMES_RAW,
            memory=parsed.memory,
        )

    def _json_head(self) -> dict[str, Any]:
        head: dict[str, Any] = {
            "format": FORMAT_NAME,
            "schema_version": SCHEMA_VERSION if self.memory is not None else 1,
            "unit": self.unit,
        }
        if self.times is not None:
            head["times"] = self.times
        if self.memory is not None:
            head["memory"] = "bytes"
        head["metadata"] = self.metadata.to_json()
        return head

    def _json_functions(self) -> Iterator[dict[str, Any]]:
        for key, lines in self.timings.items():
            yield json_format.function_item(
                key,
                lines,
                self.sources.get(key),
                (self.subtracted or {}).get(key),
                (self.memory or {}).get(key),
            )

    # ---- files --------------------------------------------------------------------------

    @classmethod
    def load(cls, filename: str | os.PathLike[str], *more: str | os.PathLike[str]) -> Self:
        """Read results written by lineprof (JSON) or line_profiler (``.lprof``); several
        files are merged.  The format is recognised from the content.  Never executes
        anything from the file; a file that is not results raises ``ResultsFileError`` with
        a one-line message."""
        loaded = [_load_one(cls, os.fspath(name)) for name in (filename, *more)]
        return loaded[0] if len(loaded) == 1 else cls.merge(loaded)

    def dump(self, filename: str | os.PathLike[str]) -> None:
        """Write to ``filename`` atomically (a crash mid-write leaves any previous file
        intact), in the format its extension chooses: ``.lprof`` line_profiler's, ``.html``
        the HTML report, anything else lineprof's JSON."""
        kind = results_format(filename)
        if kind == "html":
            # The model knows no renderer; lineprof.results.LineStats, what users get, does.
            raise ValueError(f"{os.fspath(filename)}: HTML is written by lineprof.LineStats")
        if kind == "lprof":
            self.to_file(filename)
        else:
            atomic_write(filename, self._write_json)

    def to_file(self, filename: str | os.PathLike[str]) -> None:
        """line_profiler 5's ``LineStats.to_file``: write the ``.lprof`` pickle line_profiler
        reads, whatever the name's extension (``dump`` chooses the format by extension);
        atomically, as ``dump``."""
        if self.memory is not None:
            print(
                f"lineprof: {os.fspath(filename)}: the memory columns (Alloc, Net, Peak) are "
                f"not part of line_profiler's .lprof format and are not written; save to a "
                f".json file to keep them",
                file=sys.stderr,
            )
        data = lprof_format.dumps(self.timings, self.unit, _lprof_extra(self))
        atomic_write(filename, lambda out: out.write(data))

    @classmethod
    def from_files(cls, filename: str | os.PathLike[str], /, *more: str | os.PathLike[str]) -> Self:
        """line_profiler 5's ``LineStats.from_files``: ``load_stats`` (any results file
        lineprof reads, several merged)."""
        return cls.load(filename, *more)

    def _write_json(self, out: BinaryIO) -> None:
        for chunk in json_format.chunks(self._json_head(), self._json_functions()):
            out.write(chunk.encode("utf-8"))


def _merge_memory(
    items: Sequence[Mapping[FunctionKey, Mapping[int, LineMemory]] | None],
) -> dict[FunctionKey, dict[int, LineMemory]] | None:
    """Alloc and Net summed, Peak the largest (a peak is reached once, not added up)."""
    if all(item is None for item in items):
        return None
    merged: dict[FunctionKey, dict[int, LineMemory]] = {}
    for item in items:
        for key, per_line in (item or {}).items():
            rows = merged.setdefault(key, {})
            for line, (alloc, net, peak) in per_line.items():
                a, n, p = rows.get(line, (0, 0, 0))
                rows[line] = (a + alloc, n + net, max(p, peak))
    return merged


# ---- sources ----------------------------------------------------------------------------------


def function_source(filename: str, first_line: int, last_line: int = 0) -> list[str] | None:
    """The source lines (no line endings) of the function starting at ``first_line``, as
    linecache has them now (sources.py): to the end of its block, and at least to
    ``last_line`` as far as the file goes.  None when the source cannot be read."""
    all_lines = source_lines(filename)
    if not all_lines or first_line > len(all_lines):
        return None
    end = codemap.block_end(filename, first_line)
    if end is not None:
        block = all_lines[first_line - 1 : end]
    else:
        # Not a def or class the syntax tree knows (a lambda, source that does not parse):
        # the indented block that starts there.
        block = _indented_block(all_lines[first_line - 1 :])
    if last_line >= first_line + len(block):
        block = all_lines[first_line - 1 : last_line]
    return [line.rstrip("\n").rstrip("\r") for line in block]


def _indented_block(lines: list[str]) -> list[str]:
    """The first line and the lines after it that are indented deeper (blank lines inside
    kept): the block a lambda or an unparsable def starts.  Read by indentation rather than
    with inspect.getblock, whose import (inspect, tokenize, dis) every profiled program would
    pay at start-up."""

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip())

    block = lines[:1]
    for line in lines[1:]:
        if line.strip() and indent(line) <= indent(lines[0]):
            break
        block.append(line)
    while len(block) > 1 and not block[-1].strip():
        block.pop()
    return block


def capture_sources(
    timings: Mapping[FunctionKey, Sequence[LineTiming]],
) -> dict[FunctionKey, list[str]]:
    """Every function's source lines as they are now, for the functions whose source can be
    read (``get_stats`` keeps them with the results).  Module-level code (a script, a
    notebook cell) keeps its whole file."""
    sources: dict[FunctionKey, list[str]] = {}
    for key, lines in timings.items():
        filename, first_line, qualname = key
        if qualname == "<module>":
            whole = source_lines(filename)
            if whole:
                sources[key] = [line.rstrip("\n").rstrip("\r") for line in whole]
            continue
        last = max((line for line, _, _ in lines), default=0)
        block = function_source(filename, first_line, last)
        if block is not None:
            sources[key] = block
    return sources


# ---- atomic writing ---------------------------------------------------------------------------


def write_target(filename: str | os.PathLike[str]) -> tuple[str, bool]:
    """Where writing ``filename`` goes, and whether it is written in place (True) or replaced
    by a renamed temporary file (False).

    Replacing is for a regular file or a new name.  A symlink is followed, and its target
    replaced: the link stays a link.  Anything else is written into as it is, as line_profiler
    writes every output: a device (``/dev/null``), a FIFO a reader waits on, a file with other
    names (hard links), and any name under ``/dev`` or ``/proc`` (``/dev/stdout`` is a link to
    whatever the process's stdout is, a terminal, a pipe or the file the shell redirected it
    to, which must not be replaced under the shell)."""
    path = os.path.abspath(os.fspath(filename))
    if path.startswith(("/dev/", "/proc/")):
        return path, True
    path = os.path.realpath(path)
    try:
        found = os.stat(path)
    except OSError:  # a new name (or one lineprof cannot look at: the write will say why)
        return path, False
    return path, not stat.S_ISREG(found.st_mode) or found.st_nlink > 1


def atomic_write(filename: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` on a new temporary file beside ``filename``, then rename it over
    ``filename``: readers see the old file or the whole new one, never a part.  If ``write``
    fails, the temporary file is removed and ``filename`` is untouched.  The new file gets the
    old one's permissions, or the umask's for a new name.  What is not a regular file or a new
    name (a device, a pipe, ``/dev/stdout``: ``write_target``) is written into instead.

    No ``fsync``: the rename already protects the results from the program crashing, being
    killed or filling the disk while they are written, which is what happens to profiled
    programs; what fsync adds is surviving the *machine* losing power in the seconds after, and
    it cost every profiled program 5-20 ms at exit on this project's CI machine (ext4, two
    files and their directory), more than the rest of lineprof's exit together."""
    path, in_place = write_target(filename)
    if in_place:
        with open(path, "wb") as out:
            write(out)
        return
    directory, name = os.path.split(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        # os.urandom, not secrets: the name only has to be unlikely to exist, and secrets
        # imports hmac and hashlib (some ms of every profiled program's start-up).
        tmp = os.path.join(directory, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                os.chmod(out.fileno(), stat.S_IMODE(os.stat(path).st_mode))
            except FileNotFoundError:
                pass
            write(out)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ---- what the times are, in a .lprof file ------------------------------------------------------
# line_profiler's format has a place for timings and unit only; lineprof adds two entries that
# line_profiler never reads (see lprof_format), so `lineprof show --raw` works on .lprof too.


def _lprof_extra(stats: LineStats) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if stats.times is not None:
        extra["lineprof_times"] = stats.times
    if stats.subtracted:
        extra["lineprof_subtracted"] = {
            key: [[line, units] for line, units in per_line.items()]
            for key, per_line in stats.subtracted.items()
        }
    return extra


def _from_lprof(
    cls: type[_Stats],
    timings: dict[FunctionKey, list[LineTiming]],
    unit: float,
    extra: Mapping[str, Any],
) -> _Stats:
    times = extra.get("lineprof_times")
    if times is not None and times not in (TIMES_CORRECTED, TIMES_RAW):
        raise ValueError(f"its lineprof_times is {times!r}, not a kind lineprof writes")
    rows = extra.get("lineprof_subtracted", {})
    if not isinstance(rows, dict) or (rows and times != TIMES_CORRECTED):
        raise ValueError("its lineprof_subtracted is malformed or does not go with its times")
    subtracted: dict[FunctionKey, dict[int, int]] = {}
    for key, per_line in rows.items():
        if key not in timings:
            raise ValueError(f"its lineprof_subtracted names {key!r}, which has no timings")
        subtracted[key] = json_format.parse_subtracted(per_line, timings[key])
    return cls(
        timings,
        unit,
        subtracted=subtracted if times == TIMES_CORRECTED else None,
        raw=times == TIMES_RAW,
    )


# ---- loading ----------------------------------------------------------------------------------


def _load_one(cls: type[_Stats], path: str) -> _Stats:
    import json  # not at the top: see the module docstring

    with open(path, "rb") as stream:
        data = stream.read()
    start = data.lstrip()[:1]
    if data[:1] == b"\x80":  # a pickle of protocol 2 or more: line_profiler's format
        try:
            timings, unit, extra = lprof_format.loads(data)
            return _from_lprof(cls, timings, unit, extra)
        except ValueError as exc:
            raise ResultsFileError(f"{path}: {exc}") from None
    if start == b"":
        raise ResultsFileError(f"{path}: not a lineprof results file (the file is empty)")
    if start == b"<":
        raise ResultsFileError(
            f"{path}: not a lineprof results file (HTML or XML; an HTML report cannot be "
            f"read back: load the .json or .lprof it was made from)"
        )
    if start != b"{":
        raise ResultsFileError(
            f"{path}: not a lineprof results file (neither lineprof's JSON nor line_profiler's "
            f".lprof)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ResultsFileError(f"{path}: not a lineprof results file (not UTF-8 text)") from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFileError(
            f"{path}: not a lineprof results file, or truncated (invalid JSON at line "
            f"{exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None
    except (ValueError, RecursionError) as exc:  # absurd nesting, integers too long
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ResultsFileError(f"{path}: not a lineprof results file ({why})") from None
    return cls.from_dict(parsed, source=path)

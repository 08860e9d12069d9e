"""LineStats: the results data model.  Merging, saving and loading; no formatting.

Saved results are JSON with a versioned schema (``format`` and ``schema_version`` fields), so
loading never executes anything from the file, unlike line_profiler's pickles.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

__all__ = ["LineStats", "load_stats", "ResultsFileError"]

FORMAT_NAME = "lineprof-results"
SCHEMA_VERSION = 1

FunctionKey = tuple[str, int, str]  # (filename, first line, qualified name)
LineTiming = tuple[int, int, int]  # (line, hits, time in units)


class ResultsFileError(ValueError):
    """A results file that cannot be read: the message is one line meant for the user."""


class LineStats:
    """Per-line results: ``timings`` maps (filename, first line, qualified name) to a sorted
    list of (line, hits, time); times count ``unit`` seconds each."""

    def __init__(self, timings: Mapping[FunctionKey, Sequence[LineTiming]], unit: float) -> None:
        self.timings: dict[FunctionKey, list[LineTiming]] = {
            key: sorted((int(ln), int(h), int(t)) for ln, h, t in lines)
            for key, lines in timings.items()
        }
        self.unit = float(unit)

    def __repr__(self) -> str:
        return f"LineStats({len(self.timings)} functions, unit={self.unit:g})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LineStats):
            return NotImplemented
        return self.unit == other.unit and self.timings == other.timings

    def total_time(self, key: FunctionKey) -> int:
        return sum(time for _, _, time in self.timings.get(key, ()))

    # ---- merging ------------------------------------------------------------------------

    def __add__(self, other: LineStats) -> LineStats:
        if not isinstance(other, LineStats):
            return NotImplemented
        return LineStats.merge([self, other])

    @staticmethod
    def merge(stats: Iterable[LineStats]) -> LineStats:
        """Sum hits and times per line of the same function; the finest unit wins and the
        others are rescaled to it."""
        stats = list(stats)
        if not stats:
            return LineStats({}, 1e-9)
        unit = min(s.unit for s in stats)
        merged: dict[FunctionKey, dict[int, list[int]]] = {}
        for s in stats:
            scale = s.unit / unit
            for key, lines in s.timings.items():
                rows = merged.setdefault(key, {})
                for line, hits, time in lines:
                    row = rows.setdefault(line, [0, 0])
                    row[0] += hits
                    row[1] += round(time * scale)
        return LineStats(
            {key: [(line, h, t) for line, (h, t) in rows.items()] for key, rows in merged.items()},
            unit,
        )

    # ---- presentation (delegated) -------------------------------------------------------

    def print(
        self,
        stream: IO[str] | None = None,
        output_unit: float | None = None,
        stripzeros: bool = False,
        details: bool = True,
        summarize: bool = False,
        sort: bool = False,
    ) -> None:
        from lineprof.report import show_text

        show_text(
            self.timings,
            self.unit,
            output_unit=output_unit,
            stream=stream,
            stripzeros=stripzeros,
            details=details,
            summarize=summarize,
            sort=sort,
        )

    # ---- saving and loading -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "schema_version": SCHEMA_VERSION,
            "unit": self.unit,
            "functions": [
                {
                    "filename": filename,
                    "first_line": first_line,
                    "qualname": qualname,
                    "lines": [list(row) for row in lines],
                }
                for (filename, first_line, qualname), lines in self.timings.items()
            ],
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "results") -> LineStats:
        def bad(why: str) -> ResultsFileError:
            return ResultsFileError(f"{source}: not a lineprof results file ({why})")

        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise bad("no 'format': 'lineprof-results' field")
        version = data.get("schema_version")
        if not isinstance(version, int):
            raise bad("no integer 'schema_version'")
        if version > SCHEMA_VERSION:
            raise ResultsFileError(
                f"{source}: written by a newer lineprof (schema version {version}; this "
                f"lineprof reads up to {SCHEMA_VERSION}); upgrade lineprof to read it"
            )
        unit = data.get("unit")
        functions = data.get("functions")
        if not isinstance(unit, int | float) or unit <= 0:
            raise bad("'unit' must be a positive number")
        if not isinstance(functions, list):
            raise bad("'functions' must be a list")
        timings: dict[FunctionKey, list[LineTiming]] = {}
        for index, item in enumerate(functions):
            try:
                key = (str(item["filename"]), int(item["first_line"]), str(item["qualname"]))
                lines = [(int(ln), int(h), int(t)) for ln, h, t in item["lines"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise bad(f"function #{index} is malformed: {exc!r}") from None
            timings[key] = lines
        return cls(timings, float(unit))

    def dump(self, filename: str | os.PathLike[str]) -> None:
        """Write JSON atomically: a crash mid-write leaves any previous file intact."""
        path = os.fspath(filename)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".lineprof-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.to_dict(), out, indent=1)
                out.write("\n")
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


def load_stats(filename: str | os.PathLike[str]) -> LineStats:
    """Read results saved by ``dump_stats``.  Never executes anything from the file."""
    path = os.fspath(filename)
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except UnicodeDecodeError:
        raise ResultsFileError(f"{path}: not a lineprof results file (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise ResultsFileError(
            f"{path}: not a lineprof results file, or truncated (invalid JSON: {exc.msg} at "
            f"line {exc.lineno})"
        ) from None
    return LineStats.from_dict(data, source=path)

"""line_profiler's results format (``.lprof``): read without running anything, written without
importing line_profiler.

A ``.lprof`` file is a pickle of line_profiler's ``LineStats``: the class by its module path,
created empty (``NEWOBJ``) and given the state ``{"timings": {...}, "unit": float}`` (``BUILD``),
where ``timings`` maps ``(filename, first line, function name)`` tuples to lists of
``(line, hits, time)`` tuples of integers in ``unit`` seconds.  That is all line_profiler 3 to 5
write (``pickle.dump(stats, f, pickle.HIGHEST_PROTOCOL)``).  lineprof may add state entries of
its own, named ``lineprof_*`` and plain data only (what its times are and what it took out of
them): ``BUILD`` makes them attributes of line_profiler's object, which it never reads.

Reading goes through an unpickler whose ``find_class`` admits only that class name, and
returns a plain placeholder for it, never line_profiler's class: no other callable can be
reached, so a pickle that would run code is refused before anything in it runs.  Writing
assembles the pickle opcodes around the state, so line_profiler need not be installed.
"""

from __future__ import annotations

import io
import math
import pickle
from collections.abc import Mapping, Sequence

from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

__all__ = ["ALLOWED_CLASSES", "EXTRA_PREFIX", "WRITE_CLASS", "dumps", "loads"]

Timings = dict[tuple[str, int, str], list[tuple[int, int, int]]]

# Where line_profiler's LineStats has lived: line_profiler 5 pickles its
# line_profiler.line_profiler.LineStats, a subclass of line_profiler._line_profiler.LineStats,
# which is the class line_profiler 3 and 4 pickle; 2.x had it at the top level.
ALLOWED_CLASSES = frozenset(
    {
        ("line_profiler.line_profiler", "LineStats"),
        ("line_profiler._line_profiler", "LineStats"),
        ("line_profiler", "LineStats"),
    }
)
# The one every line_profiler from 3 to 5 can unpickle (5's own loader takes the base class).
WRITE_CLASS = ("line_profiler._line_profiler", "LineStats")
# lineprof's own entries in the state start with this; line_profiler has none.
EXTRA_PREFIX = "lineprof_"


class _LineStatsRecord:
    """Stands in for line_profiler's LineStats while unpickling: plain attributes only."""

    timings: Any = None
    unit: Any = None

    def __init__(self, timings: Any = None, unit: Any = None) -> None:
        self.timings = timings
        self.unit = unit


class _Refused(Exception):
    pass


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED_CLASSES:
            return _LineStatsRecord
        raise _Refused(f"{module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused("a persistent id")


def loads(data: bytes) -> tuple[Timings, float, dict[str, Any]]:
    """``(timings, unit, extra)`` from the bytes of a ``.lprof`` file; ``extra`` holds its
    ``lineprof_*`` entries, unchecked (the caller knows what they mean).  Raises ValueError
    with a one-line reason for anything else; nothing in the data is ever called."""
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data), encoding="utf-8").load()
    except _Refused as exc:
        raise ValueError(
            f"not a lineprof results file: a pickle that refers to {exc}, which line_profiler's "
            f".lprof format never contains; refused, nothing in it was run"
        ) from None
    except (EOFError, pickle.UnpicklingError) as exc:
        if isinstance(exc, EOFError) or "truncated" in str(exc):
            raise ValueError(
                "not a lineprof results file, or truncated (pickle ends early)"
            ) from None
        raise ValueError(f"not a readable line_profiler results file (bad pickle: {exc})") from None
    except Exception as exc:  # any other malformation the unpickler meets
        raise ValueError(
            f"not a readable line_profiler results file ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(obj, _LineStatsRecord):
        raise ValueError(
            f"not a lineprof results file: a pickle of {type(obj).__name__}, not of "
            f"line_profiler's LineStats"
        )
    timings, unit = _check(obj.timings, obj.unit)
    extra = {name: value for name, value in vars(obj).items() if name.startswith(EXTRA_PREFIX)}
    return timings, unit, extra


def _check(timings: Any, unit: Any) -> tuple[Timings, float]:
    def bad(why: str) -> ValueError:
        return ValueError(f"a line_profiler LineStats pickle, but {why}")

    if not isinstance(unit, int | float) or isinstance(unit, bool) or not 0 < unit < math.inf:
        raise bad(f"its unit is {unit!r}, not a positive number")
    if not isinstance(timings, dict):
        raise bad(f"its timings are a {type(timings).__name__}, not a dict")
    checked: Timings = {}
    for key, rows in timings.items():
        if not (
            isinstance(key, tuple)
            and len(key) == 3
            and isinstance(key[0], str)
            and _is_int(key[1])
            and isinstance(key[2], str)
        ):
            raise bad(f"a timings key is {key!r}, not (filename, line, name)")
        if not isinstance(rows, list | tuple):
            raise bad(f"the timings of {key[2]} are not a list")
        lines = []
        for row in rows:
            if not (
                isinstance(row, tuple | list)
                and len(row) == 3
                and _is_int(row[0])
                and _is_int(row[1])
                and (_is_int(row[2]) or (isinstance(row[2], float) and math.isfinite(row[2])))
            ):
                raise bad(f"a row of {key[2]} is {row!r}, not (line, hits, time)")
            lines.append((row[0], row[1], round(row[2])))
        checked[key] = lines
    return checked, float(unit)


def _plain(value: object) -> bool:
    """Only str, int, float, bool, None, and lists, tuples and dicts of them: what protocol 2
    pickles without naming a class."""
    if value is None or type(value) in (str, int, float, bool):
        return True
    if isinstance(value, list | tuple) and type(value) in (list, tuple):
        return all(_plain(item) for item in value)
    if isinstance(value, dict) and type(value) is dict:
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return False


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def dumps(
    timings: Mapping[tuple[str, int, str], Sequence[tuple[int, int, int]]],
    unit: float,
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """The bytes of a ``.lprof`` file that line_profiler's ``load_stats`` and
    ``python -m line_profiler`` read as these results.  ``extra``: lineprof's own entries,
    each named ``lineprof_*``, plain data (no class or function can be pickled here)."""
    for name, value in (extra or {}).items():
        if not name.startswith(EXTRA_PREFIX):
            raise ValueError(f"an extra entry must be named {EXTRA_PREFIX}*, not {name!r}")
        if not _plain(value):
            raise ValueError(f"the extra entry {name} holds something other than plain data")
    state: dict[str, Any] = {
        **(extra or {}),
        "timings": {
            (str(f), int(first), str(name)): [(int(ln), int(h), int(t)) for ln, h, t in rows]
            for (f, first, name), rows in timings.items()
        },
        "unit": float(unit),
    }
    # Protocol 2 has no frames, so its opcodes for plain data (dict, list, tuple, str, int,
    # float; no globals) can be spliced between the class and BUILD as they are.
    body = pickle.dumps(state, protocol=2)
    assert body[:2] == b"\x80\x02" and body[-1:] == pickle.STOP

    module, name = WRITE_CLASS
    return b"".join(
        [
            pickle.PROTO + b"\x02",
            pickle.GLOBAL + f"{module}\n{name}\n".encode("ascii"),
            pickle.EMPTY_TUPLE,
            pickle.NEWOBJ,  # cls.__new__(cls), as pickle does for a plain class
            body[2:-1],  # the state dict
            pickle.BUILD,  # obj.__dict__.update(state)
            pickle.STOP,
        ]
    )

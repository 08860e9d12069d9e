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
assembles the pickle opcodes around the state, so line_profiler need not be installed; the
state is plain data (str, int, float, bool, None, and lists, tuples and dicts of them), whose
protocol-2 opcodes are written here directly: every ``@profile`` program writes a ``.lprof``
at exit, and importing ``pickle`` (with ``re``, ``enum`` and ``struct`` behind it) cost it
~3-5 ms (CPython 3.13); only reading imports it.
"""

from __future__ import annotations

import io

from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pickle
    from collections.abc import Mapping, Sequence
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

_INF = float("inf")


class _LineStatsRecord:
    """Stands in for line_profiler's LineStats while unpickling: plain attributes only."""

    timings: Any = None
    unit: Any = None

    def __init__(self, timings: Any = None, unit: Any = None) -> None:
        self.timings = timings
        self.unit = unit


class _Refused(Exception):
    pass


def _restricted_unpickler(data: bytes) -> pickle.Unpickler:
    import pickle  # on reading only: see the module docstring

    class RestrictedUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in ALLOWED_CLASSES:
                return _LineStatsRecord
            raise _Refused(f"{module}.{name}")

        def persistent_load(self, pid: Any) -> Any:
            raise _Refused("a persistent id")

    return RestrictedUnpickler(io.BytesIO(data), encoding="utf-8")


def loads(data: bytes) -> tuple[Timings, float, dict[str, Any]]:
    """``(timings, unit, extra)`` from the bytes of a ``.lprof`` file; ``extra`` holds its
    ``lineprof_*`` entries, unchecked (the caller knows what they mean).  Raises ValueError
    with a one-line reason for anything else; nothing in the data is ever called."""
    import pickle  # on reading only: see the module docstring

    try:
        obj = _restricted_unpickler(data).load()
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


# As json_format's MAX_LINE and MAX_SPAN (the same rule for both formats).
_MAX_LINE = 2**31 - 1
_MAX_SPAN = 1_000_000


def _check(timings: Any, unit: Any) -> tuple[Timings, float]:
    def bad(why: str) -> ValueError:
        return ValueError(f"a line_profiler LineStats pickle, but {why}")

    if not isinstance(unit, int | float) or isinstance(unit, bool) or not 0 < unit < _INF:
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
        if not 0 <= key[1] <= _MAX_LINE:
            raise bad(f"the first line of {key[2]} is {key[1]}, not a line number")
        if not isinstance(rows, list | tuple):
            raise bad(f"the timings of {key[2]} are not a list")
        lines = []
        for row in rows:
            if not (
                isinstance(row, tuple | list)
                and len(row) == 3
                and _is_int(row[0])
                and _is_int(row[1])
                and (_is_int(row[2]) or (isinstance(row[2], float) and abs(row[2]) < _INF))
            ):
                raise bad(f"a row of {key[2]} is {row!r}, not (line, hits, time)")
            if not 0 <= row[0] <= _MAX_LINE or abs(row[0] - key[1]) > _MAX_SPAN:
                raise bad(f"line {row[0]} of {key[2]} is not a line number near its first")
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
    module, name = WRITE_CLASS
    out = [
        b"\x80\x02",  # PROTO 2
        b"c" + f"{module}\n{name}\n".encode("ascii"),  # GLOBAL: the class
        b")",  # EMPTY_TUPLE
        b"\x81",  # NEWOBJ: cls.__new__(cls), as pickle does for a plain class
    ]
    _encode(state, out)
    out.append(b"b")  # BUILD: obj.__dict__.update(state)
    out.append(b".")  # STOP
    return b"".join(out)


def _encode(value: object, out: list[bytes]) -> None:
    """Append the protocol-2 opcodes that rebuild ``value``, plain data only (``_plain``),
    without the memo: nothing in the state is shared or recursive."""
    kind = type(value)
    if kind is str:
        data = value.encode("utf-8", "surrogatepass")  # type: ignore[attr-defined]
        out.append(b"X" + len(data).to_bytes(4, "little") + data)  # BINUNICODE
    elif kind is bool:
        out.append(b"\x88" if value else b"\x89")  # NEWTRUE / NEWFALSE
    elif kind is int:
        number: int = value  # type: ignore[assignment]
        if 0 <= number < 0x100:
            out.append(b"K" + number.to_bytes(1, "little"))  # BININT1
        elif -(2**31) <= number < 2**31:
            out.append(b"J" + number.to_bytes(4, "little", signed=True))  # BININT
        else:  # LONG1/LONG4: little-endian two's complement, as short as the sign allows
            size = (number.bit_length() + 8) // 8
            length = bytes([size]) if size < 256 else size.to_bytes(4, "little")
            opcode = b"\x8a" if size < 256 else b"\x8b"
            out.append(opcode + length + number.to_bytes(size, "little", signed=True))
    elif kind is float:
        # FLOAT: the shortest repr that reads back exactly (BINFLOAT would need struct, one
        # more module for every profiled program to load).
        out.append(b"F" + repr(value).encode("ascii") + b"\n")
    elif value is None:
        out.append(b"N")
    elif kind is tuple:
        items: tuple[object, ...] = value  # type: ignore[assignment]
        if not items:
            out.append(b")")  # EMPTY_TUPLE
            return
        if len(items) > 3:
            out.append(b"(")  # MARK
        for item in items:
            _encode(item, out)
        out.append(b"t" if len(items) > 3 else b"\x85\x86\x87"[len(items) - 1 : len(items)])
    elif kind is list:
        out.append(b"]")  # EMPTY_LIST
        elements: list[object] = value  # type: ignore[assignment]
        if elements:
            out.append(b"(")  # MARK
            for item in elements:
                _encode(item, out)
            out.append(b"e")  # APPENDS
    elif kind is dict:
        out.append(b"}")  # EMPTY_DICT
        mapping: dict[object, object] = value  # type: ignore[assignment]
        if mapping:
            out.append(b"(")  # MARK
            for key, item in mapping.items():
                _encode(key, out)
                _encode(item, out)
            out.append(b"u")  # SETITEMS
    else:
        raise TypeError(f"not plain data: {kind.__name__}")

"""line_profiler's configuration, as lineprof reads it when a project has no ``[tool.lineprof]``.

line_profiler 5 keeps its settings under ``[tool.line_profiler]``, in the file the
LINE_PROFILER_RC environment variable names or else in the first ``line_profiler.toml`` or
``pyproject.toml`` found walking up from the working directory (``line_profiler.toml`` first
within a directory).  The table has one sub-table per consumer: ``kernprof`` (the command, which
is ``lineprof`` itself), ``cli`` (``python -m line_profiler``, which is ``lineprof show``) and
``setup``, ``write`` and ``show`` for its ``@profile``.

This file knows where line_profiler looks and what each of its keys means to lineprof; it reads
no file.  config.py reads the files, checks the values and decides which table wins.
"""

from __future__ import annotations

import os

from lineprof import environment
from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

__all__ = ["ENV_VAR", "FILE_NAMES", "Translation", "find_file", "rc_file", "translate"]

ENV_VAR = environment.LINE_PROFILER_RC  # line_profiler's knob: the path of its TOML file
FILE_NAMES = ("line_profiler.toml", "pyproject.toml")  # looked for in each directory, in order

# (sub-table, key) -> the lineprof key it sets, the value going over as it is.  Where kernprof
# and `python -m line_profiler` have a key of the same name, lineprof has one key for both (its
# run and show share [tool.lineprof]), and kernprof's value is the one taken.
_SAME: dict[tuple[str, str], str] = {
    ("kernprof", "line-by-line"): "line-by-line",
    ("kernprof", "builtin"): "builtin",
    ("kernprof", "rich"): "rich",
    ("kernprof", "skip-zero"): "skip-zero",
    ("kernprof", "summarize"): "summarize",
    ("kernprof", "prof-imports"): "prof-imports",
    ("kernprof", "preimports"): "preimports",
    ("kernprof", "outfile"): "outfile",
    ("kernprof", "setup"): "setup",
    ("kernprof", "unit"): "unit",
    ("kernprof", "output-interval"): "output-interval",
    ("kernprof", "prof-mod"): "prof-mod",
    ("cli", "unit"): "unit",
    ("cli", "rich"): "rich",
    ("cli", "skip-zero"): "skip-zero",
    ("cli", "sort"): "sort",
    ("cli", "summarize"): "summarize",
}

# The values with which line_profiler says "unset" where lineprof's keys have no such value
# (lineprof wants a path or a positive number, or the key left out).
_UNSET: dict[tuple[str, str], Any] = {
    ("kernprof", "outfile"): "",  # the default name, from the script's
    ("kernprof", "setup"): "",  # no setup script
    ("kernprof", "output-interval"): 0,  # results written at the end only
}

# Keys lineprof has no setting for, with the value that is what lineprof does anyway: these go
# without a warning; any other value of them is warned about.
_ALREADY: dict[tuple[str, str], Any] = {
    ("setup", "environ_flags"): ["LINE_PROFILE"],  # @profile's switch
    ("setup", "cli_flags"): ["--line-profile", "--line_profile"],
    ("write", "output_prefix"): "profile_output",  # @profile's files at exit
    ("write", "lprof"): True,
    ("write", "text"): True,
    ("write", "timestamped_text"): False,
}

# The sub-tables lineprof reads values from; a value that is not a table is an error there.
_READ = ("kernprof", "cli")


class Translation:
    """What a ``[tool.line_profiler]`` table says in lineprof's keys.

    ``values`` maps a lineprof key to ``(where, value)``: ``where`` names the line_profiler key
    it came from (``[tool.line_profiler.kernprof] unit``), for the error when the value has the
    wrong type (config.py checks it).  ``ignored`` lists the keys lineprof has no use for
    (``show.column_widths``), as they appear in the file."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, Any]] = {}
        self.ignored: list[str] = []

    def __repr__(self) -> str:
        return f"Translation({self.values!r}, {self.ignored!r})"


def rc_file() -> str | None:
    """The file LINE_PROFILER_RC names (absolute), or None when it is unset or empty."""
    value = environment.line_profiler_rc()
    return os.path.abspath(value) if value else None


def find_file(start: str | None = None) -> str | None:
    """The file line_profiler's own lookup finds: the first ``line_profiler.toml`` or
    ``pyproject.toml`` at or above ``start`` (default: the working directory), whether or not
    it has a ``[tool.line_profiler]`` table."""
    directory = os.path.abspath(start if start is not None else os.getcwd())
    while True:
        for name in FILE_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def translate(table: Any) -> Translation:
    """``table`` (the ``[tool.line_profiler]`` of a file) in lineprof's keys.

    Raises ValueError, its message naming the table within the file, when a sub-table lineprof
    reads is not a table or ``kernprof.verbose`` is not a whole number."""
    if not isinstance(table, dict):
        raise ValueError("[tool.line_profiler] must be a table")
    result = Translation()
    for section, content in table.items():
        if section not in _READ and not isinstance(content, dict):
            result.ignored.append(section)
            continue
        if not isinstance(content, dict):
            raise ValueError(f"[tool.line_profiler.{section}] must be a table")
        for key, value in content.items():
            if not _take(result, section, key, value):
                result.ignored.append(f"{section}.{key}")
    return result


def _take(result: Translation, section: str, key: str, value: Any) -> bool:
    """Put ``section.key = value`` into ``result``; False if lineprof has no use for it."""
    where = f"[tool.line_profiler.{section}] {key}"
    if (section, key) == ("kernprof", "verbose"):
        # kernprof's -v adds one and -q takes one away: 1 is -v (view), -1 is -q (no "Wrote"
        # messages).  lineprof has no further levels (kernprof's 2 adds diagnostics, -2 and -3
        # silence stdout and stderr), so every level above 0 is view and every one below quiet.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where} must be a whole number, not {value!r}")
        _set(result, "view", where, value > 0)
        _set(result, "quiet", where, value < 0)
        return True
    target = _SAME.get((section, key))
    if target is not None:
        if (section, key) in _UNSET and _same_value(value, _UNSET[section, key]):
            return True  # line_profiler's "unset": lineprof's default
        _set(result, target, where, value)
        return True
    if (section, key) in _ALREADY:
        return _same_value(value, _ALREADY[section, key])
    return False


def _set(result: Translation, key: str, where: str, value: Any) -> None:
    """Set ``key`` unless kernprof's table has set it already: kernprof's value wins over
    ``cli``'s, whichever of the two tables the file has first."""
    if key not in result.values or where.startswith("[tool.line_profiler.kernprof]"):
        result.values[key] = (where, value)


def _same_value(value: Any, expected: Any) -> bool:
    """``value == expected`` without ``1 == True`` or ``0 == False``."""
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected
    if isinstance(expected, int | float) and isinstance(value, int | float):
        return bool(value == expected)
    return type(value) is type(expected) and bool(value == expected)

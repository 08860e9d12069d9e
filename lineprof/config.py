"""Defaults for the ``lineprof`` command from ``[tool.lineprof]`` in pyproject.toml.

The nearest pyproject.toml wins: the first found walking up from the working directory (it
need not have a ``[tool.lineprof]`` table; then there are no defaults).  Keys are the long
option names without the dashes::

    [tool.lineprof]
    builtin = true
    unit = 1e-6
    skip-zero = true
    prof-mod = ["mypackage"]

CPython 3.11+ reads the file with ``tomllib``.  3.10 has no TOML parser: ``tomli`` is used when
it is installed, otherwise a small reader that understands the ``[tool.lineprof]`` and
``[tool.line_profiler]`` tables itself (``key = value`` lines with strings, numbers, booleans
and arrays of those).

A project without ``[tool.lineprof]`` may have line_profiler's ``[tool.line_profiler]``: then
that is read instead, found as line_profiler finds it (LINE_PROFILER_RC, else the nearest
``line_profiler.toml`` or ``pyproject.toml``), its keys translated by config_line_profiler.py;
the keys lineprof has no use for are named in one warning line on stderr.  A ``[tool.lineprof]``
table, even an empty one, wins whole: line_profiler's is then not read.
"""

from __future__ import annotations

import os
import sys

from lineprof import config_line_profiler
from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    import re
    from typing import Any

__all__ = [
    "KEYS",
    "LINEPROF_TABLE",
    "LINE_PROFILER_TABLE",
    "Config",
    "ConfigError",
    "find_pyproject",
    "load_config",
]

# key -> (type, what the key means); the command line's options of the same name.
KEYS: dict[str, tuple[type, str]] = {
    "line-by-line": (bool, "profile line by line (else cProfile, as kernprof); implies builtin"),
    "builtin": (bool, "put `profile` in the builtins"),
    "view": (bool, "print the report after the run"),
    "quiet": (bool, "no 'Wrote profile results' messages"),
    "outfile": (str, "results file"),
    "setup": (str, "script run before profiling starts"),
    "unit": (float, "output unit in seconds"),
    "skip-zero": (bool, "hide functions that never ran"),
    "rich": (bool, "colour the report in a terminal (needs rich)"),
    "summarize": (bool, "one summary line per function after the report"),
    "sort": (bool, "functions from least to most time (lineprof show)"),
    "output-interval": (float, "write results every N seconds"),
    "prof-mod": (list, "modules, packages or scripts to profile whole"),
    "prof-imports": (bool, "also profile what the script imports"),
    "preimports": (bool, "import the prof-mod targets before the program (default true)"),
    "children": (bool, "profile child processes too and merge their results (default true)"),
    "memory": (bool, "memory mode: each line's Alloc, Net and Peak (docs/memory.md)"),
    "html": (str, "also write the HTML report to this file"),
}


class ConfigError(ValueError):
    """A pyproject.toml lineprof cannot use: the message is one line."""


LINEPROF_TABLE = "tool.lineprof"
LINE_PROFILER_TABLE = "tool.line_profiler"


class Config:
    """A pyproject.toml's defaults (a plain class: no dataclass import at start-up)."""

    def __init__(
        self,
        path: str | None = None,
        values: dict[str, Any] | None = None,
        table: str = LINEPROF_TABLE,
        ignored: list[str] | None = None,
    ) -> None:
        self.path = path  # the file the values come from (relative paths are relative to it)
        self.values: dict[str, Any] = values if values is not None else {}  # in lineprof's keys
        self.table = table  # LINEPROF_TABLE, or LINE_PROFILER_TABLE: line_profiler's, translated
        self.ignored: list[str] = ignored if ignored is not None else []  # line_profiler's unused

    def __repr__(self) -> str:
        if self.table == LINEPROF_TABLE and not self.ignored:
            return f"Config({self.path!r}, {self.values!r})"
        return f"Config({self.path!r}, {self.values!r}, {self.table!r}, {self.ignored!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config):
            return NotImplemented
        mine = (self.path, self.values, self.table, self.ignored)
        return mine == (other.path, other.values, other.table, other.ignored)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was


def find_pyproject(start: str | None = None) -> str | None:
    """The nearest pyproject.toml at or above ``start`` (default: the working directory)."""
    directory = os.path.abspath(start if start is not None else os.getcwd())
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load_config(path: str | None, *, explicit: bool | None = None) -> Config:
    """The defaults ``path`` gives (None: no pyproject.toml was found).

    Its ``[tool.lineprof]``, validated, when it has one (an empty one included).  Else
    line_profiler's ``[tool.line_profiler]``, translated: from ``path`` itself when it was
    named explicitly (``lineprof --config FILE``, like ``kernprof --config FILE``), else from the
    file line_profiler would read: LINE_PROFILER_RC's, else the nearest ``line_profiler.toml`` or
    ``pyproject.toml``.  ``explicit=None`` takes ``path`` as named explicitly when it is not the
    nearest pyproject.toml.  The line_profiler keys lineprof has no use for are named in one
    warning line on stderr.
    """
    tool: dict[str, Any] = {}
    if path is not None:
        tool = _read_tool_table(path)
        own = tool.get("lineprof")
        if own is not None:
            if not isinstance(own, dict):
                raise ConfigError(f"{path}: [tool.lineprof] must be a table")
            return Config(path, _validate(own, path))
    if explicit is None:
        explicit = path is not None and os.path.abspath(path) != find_pyproject()
    rc = config_line_profiler.rc_file()
    if explicit:
        source = path
    else:
        source = rc if rc is not None else config_line_profiler.find_file()
    if source is None:
        return Config(path)
    if source != path:
        tool = _read_tool_table(source, named_by_env=source == rc)
    table = tool.get("line_profiler")
    if table is None:
        return Config(path)
    try:
        translation = config_line_profiler.translate(table)
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    values: dict[str, Any] = {}
    for key, (where, value) in translation.values.items():
        values[key] = _check(key, value, f"{source}: {where}")
    if translation.ignored:
        names = ", ".join(translation.ignored)
        print(
            f"lineprof: warning: {source}: [tool.line_profiler] keys lineprof has no use for, "
            f"ignored: {names}",
            file=sys.stderr,
        )
    return Config(source, values, LINE_PROFILER_TABLE, translation.ignored)


def _read_tool_table(path: str, named_by_env: bool = False) -> dict[str, Any]:
    """The ``[tool]`` table of the TOML file ``path`` ({} when it has none)."""
    why = f"{config_line_profiler.ENV_VAR}: " if named_by_env else ""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        raise ConfigError(f"{why}cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{why}{path}: not UTF-8 text") from None
    return _tool_table(text, path)


def _tool_table(text: str, path: str) -> dict[str, Any]:
    parser: Any = None
    if sys.version_info >= (3, 11):
        import tomllib as parser
    else:
        try:
            import tomli as parser  # optional; not a dependency
        except ImportError:
            parser = None
    if parser is None:
        return _read_tool_tables(text, path)
    try:
        document = parser.loads(text)
    except parser.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: [tool] must be a table")
    return tool


def _validate(table: dict[str, Any], path: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            known = ", ".join(sorted(KEYS))
            raise ConfigError(f"{path}: [tool.lineprof] has no option {key!r} (known: {known})")
        values[key] = _check(key, value, f"{path}: [tool.lineprof] {key}")
    return values


def _check(key: str, value: Any, where: str) -> Any:
    """``value`` for lineprof's ``key``, or the one-line error naming it as ``where``."""
    kind = KEYS[key][0]
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {value!r}")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{where} must be a positive number, not {value!r}")
        value = float(value)
    elif kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, not {value!r}")
    elif kind is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings, not {value!r}")
    return value


# ---- the 3.10 fallback: just the [tool.lineprof] and [tool.line_profiler] tables ----------

# Matched with re, imported on use: a run without a pyproject.toml loads no re.
_HEADER = (
    r"^\s*\[\s*tool\s*\.\s*(lineprof|line_profiler)((?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*\]\s*(#.*)?$"
)
_KEY = r"^\s*(?:\"([^\"]+)\"|([A-Za-z0-9_-]+))\s*=\s*(.*)$"


def _read_lineprof_table(text: str, path: str) -> dict[str, Any]:
    """Read ``[tool.lineprof]`` without a TOML library (its sub-tables left out)."""
    table = _read_tool_tables(text, path).get("lineprof", {})
    return {key: value for key, value in table.items() if not isinstance(value, dict)}


def _read_tool_tables(text: str, path: str) -> dict[str, Any]:
    """Read ``[tool.lineprof]``, ``[tool.line_profiler]`` and their sub-tables (``[tool.
    line_profiler.kernprof]``) without a TOML library, as the ``[tool]`` table would hold them.
    Values may be basic or literal strings, integers, floats, booleans, or arrays of those (over
    several lines); the other tables of the file are skipped."""
    import re  # noqa: PLC0415 (see _HEADER)

    tool: dict[str, Any] = {}
    lines = text.splitlines()
    table: dict[str, Any] | None = None  # the table being read; None: one that is skipped
    name = ""
    index = 0
    while index < len(lines):
        line = _strip_comment(lines[index]).strip()
        index += 1
        if not line:
            continue
        if line.startswith("["):
            header = re.match(_HEADER, line)
            table = None if header is None else _subtable(tool, header, path, index)
            name = "" if header is None else line.strip("[] ")
            continue
        if table is None:
            continue
        match = re.match(_KEY, line)
        if match is None:
            raise ConfigError(f"{path}: line {index}: cannot read {line!r} in [{name}]")
        key = match.group(1) or match.group(2)
        value = match.group(3).strip()
        first = index
        while value.startswith("[") and not _balanced(value) and index < len(lines):
            value += " " + _strip_comment(lines[index]).strip()
            index += 1
        try:
            table[key] = _value(value)
        except ValueError as exc:
            raise ConfigError(f"{path}: line {first}: {exc}") from None
    return tool


def _subtable(tool: dict[str, Any], header: re.Match[str], path: str, line: int) -> dict[str, Any]:
    """The table a header names, made (with the tables above it) if it is new."""
    names = [header.group(1)] + [part.strip() for part in header.group(2).split(".")[1:]]
    table = tool
    for part in names:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: line {line}: {part!r} is already a value, not a table")
    return table


def _balanced(value: str) -> bool:
    depth = 0
    quote = ""
    for char in value:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
    return depth <= 0


def _strip_comment(line: str) -> str:
    """``line`` without a ``#`` comment (a ``#`` inside a string is kept)."""
    quote = ""
    for position, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:position]
    return line


def _value(text: str) -> Any:
    if text == "true":
        return True
    if text == "false":
        return False
    if text.startswith("["):
        inner = text[1:-1] if text.endswith("]") else None
        if inner is None:
            raise ValueError(f"unterminated array: {text!r}")
        items = [item.strip() for item in _split_items(inner) if item.strip()]
        return [_value(item) for item in items]
    if text.startswith('"') or text.startswith("'"):
        if len(text) < 2 or text[-1] != text[0]:
            raise ValueError(f"unterminated string: {text!r}")
        if text[0] == "'":
            return text[1:-1]
        import ast  # only for a TOML file on 3.10 without tomli: ~1.5 ms of every start-up

        return ast.literal_eval(text)  # a basic string: Python's escapes are TOML's
    try:
        number = text.replace("_", "")
        digits = number[1:] if number[:1] in ("+", "-") else number
        return int(number) if digits.isdecimal() else float(number)
    except ValueError:
        raise ValueError(f"cannot read value {text!r}") from None


def _split_items(inner: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    quote = ""
    for char in inner:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == ",":
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return items

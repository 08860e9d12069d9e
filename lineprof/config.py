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
it is installed, otherwise a small reader that understands the ``[tool.lineprof]`` table itself
(``key = value`` lines with strings, numbers, booleans and arrays of those).
"""

from __future__ import annotations

import ast
import os
import re
import sys
from typing import Any

__all__ = ["KEYS", "Config", "ConfigError", "find_pyproject", "load_config"]

# key -> (type, what the key means); the command line's options of the same name.
KEYS: dict[str, tuple[type, str]] = {
    "line-by-line": (bool, "accepted for kernprof compatibility; implies builtin"),
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
    "children": (bool, "profile child processes too and merge their results (default true)"),
    "html": (str, "also write the HTML report to this file"),
}


class ConfigError(ValueError):
    """A pyproject.toml lineprof cannot use: the message is one line."""


class Config:
    """A pyproject.toml's defaults (a plain class: no dataclass import at start-up)."""

    def __init__(self, path: str | None = None, values: dict[str, Any] | None = None) -> None:
        self.path = path  # the pyproject.toml read, if any
        self.values: dict[str, Any] = values if values is not None else {}  # [tool.lineprof]

    def __repr__(self) -> str:
        return f"Config({self.path!r}, {self.values!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config):
            return NotImplemented
        return (self.path, self.values) == (other.path, other.values)

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


def load_config(path: str | None) -> Config:
    """Read and validate ``[tool.lineprof]`` of ``path`` (None: no file, no defaults)."""
    if path is None:
        return Config()
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    table = _tool_table(text, path)
    return Config(path, _validate(table, path))


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
        return _read_lineprof_table(text, path)
    try:
        document = parser.loads(text)
    except parser.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    table = document.get("tool", {}).get("lineprof", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.lineprof] must be a table")
    return table


def _validate(table: dict[str, Any], path: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in KEYS:
            known = ", ".join(sorted(KEYS))
            raise ConfigError(f"{path}: [tool.lineprof] has no option {key!r} (known: {known})")
        kind = KEYS[key][0]
        where = f"{path}: [tool.lineprof] {key}"
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
        values[key] = value
    return values


# ---- the 3.10 fallback: just the [tool.lineprof] table ------------------------------------

_HEADER = re.compile(r"^\s*\[\s*tool\s*\.\s*lineprof\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*(?:\"([^\"]+)\"|([A-Za-z0-9_-]+))\s*=\s*(.*)$")


def _read_lineprof_table(text: str, path: str) -> dict[str, Any]:
    """Read ``[tool.lineprof]`` without a TOML library.  Values may be basic or literal
    strings, integers, floats, booleans, or arrays of those (over several lines)."""
    table: dict[str, Any] = {}
    lines = text.splitlines()
    inside = False
    index = 0
    while index < len(lines):
        line = _strip_comment(lines[index]).strip()
        index += 1
        if not line:
            continue
        if line.startswith("["):
            inside = _HEADER.match(line) is not None
            continue
        if not inside:
            continue
        match = _KEY.match(line)
        if match is None:
            raise ConfigError(f"{path}: line {index}: cannot read {line!r} in [tool.lineprof]")
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
        return ast.literal_eval(text)  # a basic string: Python's escapes are TOML's
    try:
        number = text.replace("_", "")
        return int(number) if re.fullmatch(r"[+-]?\d+", number) else float(number)
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

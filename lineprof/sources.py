"""The source lines of files, as ``linecache`` has them, without importing linecache first.

The code map (which rows a function's lines count on), the results (the sources kept with
them) and the report read a file's lines from one place, so that the rows and the lines shown
come from one version of the file.  That place is linecache's cache: the program's tracebacks,
IPython's cells and ``lineprof -c``'s text are there, and ``linecache.checkcache`` (which
tracebacks and IPython call) drops a file edited since it was read.

Importing linecache costs a profiled program that has not imported it ~7-8 ms of start-up on
CPython 3.10-3.12: it imports tokenize, and with it re, enum, functools and collections
(3.13 imports tokenize only when linecache reads a file: ~4 ms).  So until the program imports
linecache, a file of plain UTF-8 is read here, and kept; the first call after linecache is
imported hands what was kept to linecache's cache, as linecache would have cached it, and
from then on linecache keeps every file.  A file tokenize must decode (an encoding
declaration, not UTF-8) or that is not a file on disk is left to linecache, imported then.
"""

from __future__ import annotations

import os
import sys

from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["lines"]

# Files read here while linecache was not imported: filename -> (size, mtime, lines), what
# linecache's cache keeps of a file.
_kept: dict[str, tuple[int, float, list[str]]] = {}


def lines(filename: str) -> list[str]:
    """``linecache.getlines(filename)``: the file's lines with their line endings, [] when
    it cannot be read."""
    loaded = sys.modules.get("linecache")
    if loaded is not None and not _importing(loaded):
        return _from_linecache(loaded, filename)
    kept = _kept.get(filename)
    if kept is None:
        kept = _read_plain_utf8(filename) if os.path.isabs(filename) else None
        if kept is None:
            if loaded is not None:
                return []  # linecache is being imported: it cannot read anything yet
            import linecache  # noqa: PLC0415 (what only tokenize can read: see above)

            return _from_linecache(linecache, filename)
        _kept[filename] = kept
    return kept[2]


def _importing(module: ModuleType) -> bool:
    """Whether ``module`` is still being imported: a session may finish from a signal
    handler (SIGTERM, which multiprocessing ends its pool workers with) while the program
    is in the middle of importing linecache, whose functions and cache are not there yet.
    Importing marks a module's spec so until it is done, as ``import`` itself reads it."""
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


def _from_linecache(linecache: ModuleType, filename: str) -> list[str]:
    cache = linecache.cache
    if _kept:
        # linecache has been imported since: its cache keeps these from now on.  An entry it
        # already has is the program's own reading of the file, and stays.  Taken out of
        # _kept first: a signal handler finishing the session may call in meanwhile.
        handed = list(_kept.items())
        _kept.clear()
        for name, (size, mtime, kept_lines) in handed:
            cache.setdefault(name, (size, mtime, kept_lines, name))
    if filename not in cache and os.path.isabs(filename):
        read = _read_plain_utf8(filename)
        if read is not None:
            cache[filename] = (*read, filename)
    result: list[str] = linecache.getlines(filename)
    return result


def _read_plain_utf8(filename: str) -> tuple[int, float, list[str]] | None:
    """The file's (size, mtime, lines) as ``linecache.updatecache`` reads them, if it is
    UTF-8 (a BOM allowed) and declares no encoding; None for linecache to read."""
    try:
        stat = os.stat(filename)
        with open(filename, "rb") as file:
            data = file.read()
    except OSError:
        return None
    if not data:
        return None  # linecache's own rule for an empty file differs between versions
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # tokenize.open reads a BOM as utf-8-sig
    if any(b"coding" in line for line in data.split(b"\n", 2)[:2]):
        return None  # a PEP 263 declaration (or a line that looks like one): tokenize decides
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # What readlines() of tokenize.open's text file gives: universal newlines, split on "\n"
    # only, and linecache's final "\n" added to a last line without one.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    read = [line + "\n" for line in text.split("\n")]
    if read[-1] == "\n":
        read.pop()
    return stat.st_size, stat.st_mtime, read

"""``from line_profiler import profile`` under the ``lineprof`` command records into lineprof.

kernprof points line_profiler's ``profile`` at its own profiler while it runs a program, so a
script written for kernprof decorates with ``from line_profiler import profile`` (or
``@line_profiler.profile``).  Under lineprof the same script must record into lineprof's
session, while a program that uses line_profiler for itself keeps it.  So, while the command
runs (and in its child processes):

* line_profiler installed: the real package is imported as usual and only its top-level
  ``profile`` is lineprof's ``profile`` (the one name kernprof redirects); ``LineProfiler``
  and the rest stay line_profiler's.  Not when the program is kernprof or line_profiler
  itself, which need their own ``profile``.
* line_profiler not installed: ``import line_profiler`` finds a stand-in, a module (not a
  package) with lineprof's public API under line_profiler's names (lineprof is a drop-in for
  it), ``__lineprof_stand_in__ = True`` and no ``__version__``; ``line_profiler.<submodule>``
  is not found, as without it.

Nothing is imported ahead: the finder acts when the program imports ``line_profiler``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types

from lineprof._typing import TYPE_CHECKING
from lineprof.autoprofile import WatchingFinder
from lineprof.decorator import profile

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from typing import Any

__all__ = ["Alias", "wanted_for_itself"]

NAME = "line_profiler"
_MISSING: Any = object()


def wanted_for_itself(module_name: str, filename: str) -> bool:
    """Whether the program about to run is kernprof or line_profiler itself."""
    if module_name in ("kernprof", NAME) or module_name.startswith(NAME + "."):
        return True
    parts = os.path.normpath(os.path.abspath(filename)).split(os.sep)
    return parts[-1] in ("kernprof", "kernprof.py") or NAME in parts[:-1]


class Alias:
    """Installs (and takes back) what the module docstring describes."""

    def __init__(self) -> None:
        self._finder: _Finder | None = None
        self._patched: list[tuple[types.ModuleType, Any]] = []  # (module, its profile before)
        self._stand_ins: list[types.ModuleType] = []

    def install(self) -> None:
        module = sys.modules.get(NAME)
        if module is not None:  # imported already (a .pth file, sitecustomize): patch it now
            self.patch(module)
            return
        if self._finder is None:
            self._finder = _Finder(self)
            sys.meta_path.insert(0, self._finder)

    def uninstall(self) -> None:
        if self._finder is not None and self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        self._finder = None
        for module, before in reversed(self._patched):
            if before is _MISSING:
                module.__dict__.pop("profile", None)
            else:
                module.profile = before
        self._patched.clear()
        for stand_in in self._stand_ins:
            if sys.modules.get(NAME) is stand_in:
                del sys.modules[NAME]
        self._stand_ins.clear()

    def patch(self, module: types.ModuleType) -> None:
        if getattr(module, "__lineprof_stand_in__", False):
            return
        self._patched.append((module, module.__dict__.get("profile", _MISSING)))
        module.profile = profile  # type: ignore[attr-defined]


class _StandInLoader:
    """Makes the stand-in ``line_profiler`` when the real one is not installed."""

    def __init__(self, alias: Alias) -> None:
        self.alias = alias

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        import lineprof

        for name in lineprof.__all__:
            if name != "__version__":
                setattr(module, name, getattr(lineprof, name))
        module.__lineprof_stand_in__ = True  # type: ignore[attr-defined]
        module.__doc__ = "lineprof standing in for line_profiler under the lineprof command"
        self.alias._stand_ins.append(module)


class _Finder(WatchingFinder):
    """A meta path finder for ``line_profiler`` only (see the module docstring)."""

    def __init__(self, alias: Alias) -> None:
        super().__init__()
        self.alias = alias

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname != NAME or self.looking_up(fullname):
            return None
        spec = self.find_elsewhere(fullname, path, target)
        if spec is None:
            stand_in: Any = _StandInLoader(self.alias)
            return importlib.util.spec_from_loader(NAME, stand_in)
        loader: Any = spec.loader
        if loader is None or not hasattr(loader, "__dict__"):
            return spec
        original = loader.exec_module  # perhaps autoprofile's wrapper (-p line_profiler)
        had_own = "exec_module" in loader.__dict__
        alias = self.alias

        def exec_module(module: types.ModuleType) -> None:
            try:
                original(module)
            finally:
                if had_own:
                    loader.__dict__["exec_module"] = original
                else:
                    loader.__dict__.pop("exec_module", None)
            alias.patch(module)

        loader.exec_module = exec_module
        return spec

"""``-p/--prof-mod``: profile whole scripts, modules and packages without decorating them.

A target is a path (a script or module file, or a directory: everything below it) or a dotted
name (a module; a package and all its submodules, unless written ``pkg.__init__``; or a
function or class inside a module, ``pkg.mod.func``).

Nothing is rewritten.  Every function's code object is a constant of the code that defines
it, so registering the code objects of a module before executing it (``LineProfiler.add_code``)
profiles all its functions, methods, nested functions and lambdas: a ``sys.meta_path`` hook
does that for each target module when it is imported.  The program's own code (``-p
script.py``) is registered the same way, with its module-level code.  Modules imported before
profiling started are registered through their functions and classes (``add_module``).
"""

from __future__ import annotations

import _thread
import importlib.machinery
import importlib.util
import os
import sys
import types

from lineprof import callables
from lineprof._typing import TYPE_CHECKING
from lineprof.profiler import LineProfiler

if TYPE_CHECKING:
    import weakref
    from collections.abc import Iterable, Sequence
    from typing import Any

__all__ = ["AutoProfiler", "TargetError", "WatchingFinder", "imported_names", "split_targets"]

_CO_OPTIMIZED = 0x1  # set on function code; unset on module and class bodies
_COMPREHENSIONS = {"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}


class TargetError(ValueError):
    """A ``-p`` target that names nothing: the message is one line."""


def split_targets(chunks: Iterable[str]) -> list[str]:
    """kernprof's rules: each ``-p`` value is a path (which may contain commas) or a
    comma-separated list; an empty value forgets the targets given before it."""
    targets: list[str] = []
    for chunk in chunks:
        if not chunk:
            targets.clear()
            continue
        parts = [chunk] if os.path.exists(chunk) else [p.strip() for p in chunk.split(",")]
        for part in parts:
            if part and part not in targets:
                targets.append(part)
    return targets


def imported_names(source: bytes) -> list[str]:
    """Absolute module names (and ``module.name`` for ``from module import name``) that
    ``source`` imports, in order: what ``--prof-imports`` profiles.  The standard library's
    modules are left out: the report is for the program's code and its dependencies."""
    import ast  # only for --prof-imports: ~2.5 ms of the command's start-up otherwise

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                names.append(node.module if alias.name == "*" else f"{node.module}.{alias.name}")
    stdlib = sys.stdlib_module_names
    return [name for name in dict.fromkeys(names) if name.partition(".")[0] not in stdlib]


class AutoProfiler:
    """Decide which modules to profile whole, and register them with ``profiler``."""

    def __init__(self, profiler: LineProfiler) -> None:
        self.profiler = profiler
        self.files: set[str] = set()  # real paths of module files
        self.directories: list[str] = []  # real paths: every module below
        self.modules: set[str] = set()  # dotted names, exactly
        self.packages: set[str] = set()  # dotted names, with their submodules
        self.attributes: dict[str, list[str]] = {}  # module -> ["func", "Class.method", ...]
        self.warnings: list[str] = []
        self._finder: _Finder | None = None
        self._registered: dict[int, weakref.ref[types.CodeType]] = {}  # id -> code seen
        # Registering: the modules lineprof imports meanwhile (weakref, its scoping) are its
        # own and load as they would without -p, even under a directory target (a target
        # holding the standard library would otherwise profile weakref while importing it).
        self.registering = 0

    # ---- targets ------------------------------------------------------------------------

    def add_targets(self, targets: Sequence[str], *, strict: bool = True) -> list[str]:
        """Resolve each target (without importing anything).  ``strict``: a target that
        names nothing raises TargetError; otherwise it is skipped, and its one-line message
        is in the list returned (the command warns with it and goes on, as kernprof does)."""
        skipped: list[str] = []
        for target in targets:
            try:
                self._add_target(target)
            except TargetError as exc:
                if strict:
                    raise
                skipped.append(str(exc))
        return skipped

    def _add_target(self, target: str) -> None:
        if os.path.exists(target):
            real = _real(target)
            if os.path.isdir(target):
                self.directories.append(real.rstrip(os.sep) + os.sep)
            else:
                self.files.add(real)
            return
        parts = target.split(".")
        if not all(part.isidentifier() for part in parts) or "__init__" in parts[:-1]:
            raise TargetError(f"-p {target}: no such file, directory or module")
        if parts[-1] == "__init__" and len(parts) > 1:
            package = ".".join(parts[:-1])
            spec = _find_spec(package)
            if spec is None or spec.submodule_search_locations is None:
                raise TargetError(f"-p {target}: no package named {package!r}")
            self.modules.add(package)
            return
        for cut in range(len(parts), 0, -1):
            name = ".".join(parts[:cut])
            spec = _find_spec(name)
            if spec is None:
                continue
            if cut < len(parts):  # mod.func, mod.Class.method: attributes of mod
                self.attributes.setdefault(name, []).append(".".join(parts[cut:]))
            elif spec.submodule_search_locations is not None:
                self.packages.add(name)
                # the same files imported under another name (or run with -m) count too
                self.directories.extend(
                    _real(d).rstrip(os.sep) + os.sep for d in spec.submodule_search_locations
                )
            else:
                self.modules.add(name)
                if spec.origin and os.path.isfile(spec.origin):
                    self.files.add(_real(spec.origin))
            return
        raise TargetError(f"-p {target}: no such file, directory or module")

    def preimport(self, targets: Sequence[str], exclude: Iterable[str] = ()) -> list[str]:
        """Import the modules ``targets`` name, as kernprof 5.1's eager pre-imports do: a
        package with all its submodules but ``__main__`` (``pkg.__init__``: the package
        alone), the module of
        ``mod.func``, and a path that is a module or package on ``sys.path``.  Call it after
        ``install()``, so that what is imported is registered.  ``exclude``: the real paths of
        files not to import (the program itself).  Returns a one-line message for each module
        that failed to import; the others are imported all the same."""
        excluded = {_real(path) for path in exclude}
        names: list[tuple[str, bool]] = []  # (module, with its submodules)
        for target in targets:
            found = _module_for_target(target)
            if found is not None and found not in names:
                names.append(found)
        failures: list[str] = []
        done: set[str] = set()

        def load(name: str) -> types.ModuleType | None:
            spec = _find_spec(name)
            if spec is None or name in done:
                return None
            done.add(name)
            if spec.origin and os.path.isfile(spec.origin) and _real(spec.origin) in excluded:
                return None
            try:
                return importlib.import_module(name)
            except BaseException as exc:  # noqa: BLE001 - a target's import is the program's
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                failures.append(f"--preimports: cannot import {name}: {type(exc).__name__}: {exc}")
                return None

        for name, recurse in names:
            module = load(name)
            locations = getattr(module, "__path__", None) if module is not None else None
            if recurse and locations is not None:
                import pkgutil  # only for --preimports of a package

                def walk_error(sub: str) -> None:
                    failures.append(f"--preimports: cannot import {sub}")

                for info in pkgutil.walk_packages(list(locations), name + ".", onerror=walk_error):
                    if info.name.rpartition(".")[2] != "__main__":  # a program, not a module
                        load(info.name)
        return failures

    def wants(self, name: str, origin: str | None) -> bool:
        """Whether the module ``name`` (loaded from ``origin``) is profiled whole."""
        if name == "lineprof" or name.startswith("lineprof."):
            return False
        if name in self.modules or name in self.packages:
            return True
        if any(name.startswith(package + ".") for package in self.packages):
            return True
        if origin and (self.files or self.directories) and os.path.isabs(origin):
            real = _real(origin)
            if real in self.files or any(real.startswith(d) for d in self.directories):
                return True
        return False

    def to_spec(self) -> dict[str, Any]:
        """The resolved targets, as JSON data: a child process profiles the same
        (``from_spec``) without resolving them again where paths and sys.path may differ."""
        return {
            "files": sorted(self.files),
            "directories": list(self.directories),
            "modules": sorted(self.modules),
            "packages": sorted(self.packages),
            "attributes": self.attributes,
        }

    @classmethod
    def from_spec(cls, profiler: LineProfiler, spec: dict[str, Any]) -> AutoProfiler:
        auto = cls(profiler)
        auto.files = set(spec.get("files", ()))
        auto.directories = list(spec.get("directories", ()))
        auto.modules = set(spec.get("modules", ()))
        auto.packages = set(spec.get("packages", ()))
        auto.attributes = {k: list(v) for k, v in spec.get("attributes", {}).items()}
        return auto

    @property
    def empty(self) -> bool:
        return not (
            self.files or self.directories or self.modules or self.packages or self.attributes
        )

    # ---- registering --------------------------------------------------------------------

    def register_code(self, code: types.CodeType, with_module_code: bool) -> int:
        """Register every function under ``code`` (and ``code`` itself when asked), once
        per code object."""
        seen = self._registered.get(id(code))
        if seen is not None and seen() is code:
            return 0
        self.registering += 1
        try:
            import weakref  # noqa: PLC0415 (-p targets only: ~1 ms of every command's start-up)

            self._registered[id(code)] = weakref.ref(code)
            added = 0
            if with_module_code:
                added += self.profiler.add_code(code)
            for function_code, qualname in _function_codes(code, ""):
                added += self.profiler.add_code(function_code, qualname)
            return added
        finally:
            self.registering -= 1

    def install(self) -> None:
        """Profile target modules imported from now on; register those already imported."""
        if self.empty or self._finder is not None:
            return
        # What registering a target imports, imported first: a target it imports in turn
        # (collections, which dis needs on 3.12+; weakref under a directory holding the
        # standard library) would be registered half-imported, before its code has run.
        import dis  # noqa: F401, PLC0415 (codemap, for generators: -p runs only)
        import warnings  # noqa: F401, PLC0415
        import weakref  # noqa: F401, PLC0415

        from lineprof import scoping  # noqa: F401, PLC0415

        self._finder = _Finder(self)
        sys.meta_path.insert(0, self._finder)
        for name, module in list(sys.modules.items()):
            if isinstance(module, types.ModuleType) and name != "__main__":
                if self.wants(name, getattr(module, "__file__", None)):
                    self._register_module_object(module)
                self.register_attributes(name, module)

    def uninstall(self) -> None:
        if self._finder is not None and self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        self._finder = None

    def _register_module_object(self, module: types.ModuleType) -> None:
        self.registering += 1
        try:
            from lineprof.scoping import OWN_MEMBERS  # noqa: PLC0415 (enum: only for -p targets)

            before = len(self.profiler.functions)
            self.profiler.add_module(module, scoping_policy=OWN_MEMBERS)
            for function in self.profiler.functions[before:]:
                code = getattr(function, "__code__", None)
                if isinstance(code, types.CodeType):
                    prefix = callables.qualname(function) + ".<locals>."
                    for nested, qualname in _function_codes(code, prefix):
                        self.profiler.add_code(nested, qualname)
        finally:
            self.registering -= 1

    def register_attributes(self, name: str, module: types.ModuleType) -> None:
        """Register the functions and classes targeted inside module ``name``."""
        for path in self.attributes.get(name, ()):
            obj: Any = module
            try:
                for part in path.split("."):
                    obj = getattr(obj, part)
            except AttributeError:
                self.warnings.append(f"-p {name}.{path}: module {name!r} has no {path!r}")
                continue
            self.registering += 1
            try:
                if isinstance(obj, type):
                    from lineprof.scoping import OWN_MEMBERS  # noqa: PLC0415 (see above)

                    self.profiler.add_class(obj, scoping_policy=OWN_MEMBERS)
                elif isinstance(obj, types.ModuleType):
                    self._register_module_object(obj)
                else:
                    self.profiler.add_function(obj)
            except TypeError as exc:
                self.warnings.append(f"-p {name}.{path}: {exc}")
            finally:
                self.registering -= 1

    def exec_module(
        self, loader: Any, module: types.ModuleType, original: Any = None, name: str = ""
    ) -> None:
        """A loader's ``exec_module`` that registers the module's functions first."""
        # The spec's name: a loader's create_module may return a module of another name
        # (six.moves.http_client is http.client).
        name = name or module.__name__
        code = loader.get_code(name)
        if code is None:
            # No code to register (six's lazy ``moves`` modules, a loader that makes its
            # module some other way): the loader's own exec_module, unprofiled.
            if original is None:
                raise ImportError(
                    f"cannot profile module {name!r}: its loader has no code", name=name
                )
            original(loader, module)
            self.register_attributes(name, module)
            return
        self.register_code(code, with_module_code=False)
        exec(code, module.__dict__)
        self.register_attributes(name, module)


class WatchingFinder:
    """A meta path finder that only watches imports: it asks the other finders on
    ``sys.meta_path`` for a module's spec (``find_elsewhere``) and changes what it gets back.
    The lookup is guarded per thread and name, since another finder may import again.  Needs
    only ``find_spec``; subclassing importlib.abc.MetaPathFinder would import
    importlib.resources, tempfile and shutil into every profiled program."""

    def __init__(self) -> None:
        self._local = _thread._local()  # threading.local, without importing threading

    def looking_up(self, fullname: str) -> bool:
        """Whether this thread is inside this finder's own ``find_elsewhere(fullname)``."""
        return fullname in self._local.__dict__.get("busy", ())

    def find_elsewhere(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None
    ) -> importlib.machinery.ModuleSpec | None:
        """The spec another finder gives for ``fullname``, None when none does.  Call only
        when not ``looking_up(fullname)``."""
        busy: set[str] = self._local.__dict__.setdefault("busy", set())
        busy.add(fullname)
        try:
            finders: list[object] = list(sys.meta_path)
            for other in finders:
                find_spec = getattr(other, "find_spec", None)
                if other is self or find_spec is None:
                    continue
                spec = find_spec(fullname, path, target)
                if spec is not None:
                    return spec  # type: ignore[no-any-return]
            return None
        finally:
            busy.discard(fullname)


class _Finder(WatchingFinder):
    """Finds target modules through the other finders and gives their loaders an
    ``exec_module`` that registers the code before running it."""

    def __init__(self, auto: AutoProfiler) -> None:
        super().__init__()
        self.auto = auto

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        auto = self.auto
        if auto.registering:
            return None  # lineprof's own imports (AutoProfiler.registering)
        by_path = bool(auto.files or auto.directories)
        if not by_path and not (fullname in auto.attributes or auto.wants(fullname, None)):
            return None
        if self.looking_up(fullname):
            return None
        spec = self.find_elsewhere(fullname, path, target)
        if spec is None:
            return None
        loader: Any = spec.loader
        wanted = auto.wants(fullname, spec.origin)
        if (wanted or fullname in auto.attributes) and hasattr(loader, "get_code"):
            if hasattr(loader, "__dict__") and "exec_module" not in loader.__dict__:
                original = type(loader).exec_module

                def exec_module(module: types.ModuleType) -> None:
                    try:
                        if wanted:
                            auto.exec_module(loader, module, original, fullname)
                        else:
                            original(loader, module)
                            auto.register_attributes(fullname, module)
                    finally:
                        loader.__dict__.pop("exec_module", None)

                loader.exec_module = exec_module
        return spec


def _module_for_target(target: str) -> tuple[str, bool] | None:
    """The module a ``-p`` target names, and whether its submodules go with it."""
    if os.path.exists(target):
        name = _module_name_of_path(target)
        if name is None:
            return None
        if name.endswith(".__init__"):
            return name.rpartition(".")[0], False
        return name, True
    parts = target.split(".")
    if not all(part.isidentifier() for part in parts):
        return None
    if parts[-1] == "__init__" and len(parts) > 1:
        return ".".join(parts[:-1]), False
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        if _find_spec(name) is not None:
            return name, cut == len(parts)
    return None


def _module_name_of_path(path: str) -> str | None:
    """The dotted name under which ``path`` (a module file or a package directory) imports
    from ``sys.path``, or None; ``pkg/__init__.py`` is ``pkg.__init__``."""
    real = _real(path)
    for entry in sys.path:
        root = _real(entry or os.getcwd()).rstrip(os.sep) + os.sep
        if not real.startswith(root):
            continue
        relative = real[len(root) :]
        if os.path.isdir(real):
            parts = relative.rstrip(os.sep).split(os.sep)
        elif relative.endswith(".py"):
            parts = relative[: -len(".py")].split(os.sep)
        else:
            continue
        if all(part.isidentifier() for part in parts):
            return ".".join(parts)
    return None


def _find_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """Find module ``name`` without importing anything (not even its parent packages)."""
    module = sys.modules.get(name)
    if module is not None:
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    parts = name.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    for depth in range(2, len(parts) + 1):
        locations = spec.submodule_search_locations if spec is not None else None
        if locations is None:
            return None
        sub = ".".join(parts[:depth])
        loaded = sys.modules.get(sub)
        if loaded is not None and getattr(loaded, "__spec__", None) is not None:
            spec = loaded.__spec__
            continue
        spec = importlib.machinery.PathFinder.find_spec(sub, list(locations))
    return spec


def _function_codes(code: types.CodeType, prefix: str) -> Iterable[tuple[types.CodeType, str]]:
    """(code, qualified name) of every function defined under ``code``, nested ones
    included; comprehensions and other hidden scopes are left to the line that runs them."""
    for const in code.co_consts:
        if not isinstance(const, types.CodeType):
            continue
        name = const.co_name
        qualname = str(getattr(const, "co_qualname", prefix + name))
        is_function = bool(const.co_flags & _CO_OPTIMIZED)
        if not is_function:  # a class body: its methods are Class.method
            yield from _function_codes(const, qualname + ".")
        elif name in _COMPREHENSIONS:
            yield from _function_codes(const, qualname + ".")
        elif name.startswith("<") and name != "<lambda>":
            # 3.12+ annotation and type-parameter scopes: not the user's function
            yield from _function_codes(const, prefix)
        else:
            yield const, qualname
            yield from _function_codes(const, qualname + ".<locals>.")


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))

"""Run a script, a module (``-m``), a string (``-c``) or stdin (``-``) as ``__main__``, the way
``python`` itself would: same ``sys.argv``, ``sys.path[0]``, ``__file__``, ``__spec__``, and a
real ``sys.modules['__main__']`` so that pickling the program's classes works.

``prepare`` finds and compiles the code without running anything of it, so that the caller
can register the code objects with a profiler first; ``run`` executes it.  An uncaught
exception leaves ``run`` as is; its traceback, printed by ``sys.excepthook``, starts at the
program's own first frame, as under ``python``.

A caller that goes on after the program (an in-process ``lineprof.cli.main(argv)``) takes
``save_state()`` first and calls what it returns at the end.  ``Silence`` is lineprof -qq's
and -qqq's: the program's standard output (and error) go nowhere.
"""

from __future__ import annotations

import builtins
import importlib.machinery
import importlib.util
import io
import os
import sys
import types

from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO, Any

__all__ = [
    "Prepared",
    "RunError",
    "Silence",
    "enter_main",
    "prepare",
    "run",
    "run_setup",
    "save_state",
]

_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


class RunError(Exception):
    """The program cannot be started: the message is one line for the user.  ``status`` is
    the exit status ``python`` uses for the same problem."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


class Prepared:
    """Code ready to run as ``__main__`` (a plain class: no dataclass import at start-up)."""

    def __init__(
        self,
        code: types.CodeType,
        source: bytes | None,
        filename: str,
        module_name: str,
        argv0: str,
        path0: str | None,
        attributes: dict[str, Any],
    ) -> None:
        self.code = code
        self.source = source  # the source text, when it is a file or a string
        self.filename = filename  # the code's file name (absolute for files)
        self.module_name = module_name  # its name if imported ("__main__" for scripts)
        self.argv0 = argv0
        self.path0 = path0  # what goes first on sys.path (None: leave sys.path alone)
        self.attributes = attributes  # the __main__ module's dunders
        self.module: types.ModuleType | None = None  # made by enter_main

    def __repr__(self) -> str:
        return f"Prepared({self.filename!r} as {self.module_name!r})"


def prepare(kind: str, what: str, safe_path: bool | None = None) -> Prepared:
    """``kind`` is ``script`` (a path, or a name found on PATH), ``module``, ``command`` (the
    text of -c) or ``stdin``."""
    if safe_path is None:
        safe_path = bool(getattr(sys.flags, "safe_path", False))
    if kind == "script":
        return _prepare_script(what, safe_path)
    if kind == "module":
        return _prepare_module(what, safe_path)
    if kind == "command":
        try:
            source = what.encode("utf-8")
        except UnicodeEncodeError as exc:  # bytes the locale cannot decode, as python says
            message = f"unable to decode the command from the command line ({exc})"
            raise RunError(message, 1) from None
        return _prepare_string(source, "<string>", "-c", safe_path)
    if kind == "stdin":
        return _prepare_string(sys.stdin.buffer.read(), "<stdin>", "-", safe_path)
    raise ValueError(f"unknown kind {kind!r}")


def enter_main(prepared: Prepared, args: list[str]) -> None:
    """Make the process look like ``python`` started the program: ``sys.argv = [argv0,
    *args]``, ``sys.path[0]``, and a fresh ``sys.modules['__main__']``, which stays the
    program's afterwards (its atexit handlers and pickles may need it) unless the caller puts
    it back (``save_state``)."""
    module = types.ModuleType("__main__")
    module.__dict__.update(prepared.attributes)
    launcher = sys.modules.get("__main__")
    if launcher is not None and "__annotations__" in vars(launcher):
        # The interpreter gives its __main__ an empty __annotations__ (read by code that
        # annotates nothing itself); so does this one, a fresh one.
        module.__dict__["__annotations__"] = {}
    module.__dict__["__builtins__"] = builtins
    sys.argv[:] = [prepared.argv0, *args]
    if prepared.path0 is not None:
        if sys.path:
            sys.path[0] = prepared.path0
        else:
            sys.path.insert(0, prepared.path0)
    sys.modules["__main__"] = module
    prepared.module = module


def run_setup(path: str) -> None:
    """Run a setup file (``-s``) before the program, in its own namespace; its directory is
    put on sys.path after the program's, as kernprof does."""
    filename = os.path.abspath(path)
    with io.open_code(filename) as stream:
        source = stream.read()
    code = _compile(source, filename, path)
    directory = os.path.dirname(filename)
    if directory not in sys.path:
        sys.path.insert(1 if sys.path else 0, directory)
    _trim_tracebacks()
    exec(code, {"__name__": "__main__", "__file__": filename, "__builtins__": builtins})


def run(prepared: Prepared) -> None:
    """Execute the program in the ``__main__`` module ``enter_main`` made."""
    assert prepared.module is not None, "enter_main first"
    _trim_tracebacks()
    try:
        exec(prepared.code, prepared.module.__dict__)
    except BaseException:
        _trim_tracebacks()  # the program may have installed its own excepthook
        raise


def _prepare_script(name: str, safe_path: bool) -> Prepared:
    path = _find_script(name)
    if os.path.isdir(path):
        raise RunError(f"{name} is a directory; give a script, or a package with -m")
    filename = os.path.abspath(path)
    try:
        with io.open_code(filename) as stream:
            source = stream.read()
    except OSError as exc:
        raise RunError(f"cannot open {name}: {exc.strerror}") from None
    code = _compile(source, filename, name)
    loader = importlib.machinery.SourceFileLoader("__main__", filename)
    attributes = {
        "__name__": "__main__",
        "__file__": filename,
        "__cached__": None,
        "__doc__": None,
        "__loader__": loader,
        "__package__": None,
        "__spec__": None,
    }
    path0 = None if safe_path else os.path.dirname(os.path.realpath(filename))
    return Prepared(code, source, filename, "__main__", name, path0, attributes)


def _find_script(name: str) -> str:
    if os.path.exists(name):
        return name
    if os.sep not in name:  # as kernprof: a script installed on PATH
        for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
            candidate = os.path.join(directory, name)
            if directory and os.path.isfile(candidate):
                return candidate
    hint = ""
    if name == "show":
        hint = " (to display results files: lineprof show FILE...)"
    raise RunError(f"cannot find script {name!r}: no such file{hint}")


def _prepare_module(name: str, safe_path: bool) -> Prepared:
    # python -m puts the working directory first on sys.path before it looks for the module.
    path0 = None if safe_path else os.getcwd()
    if path0 is not None:
        if sys.path:
            sys.path[0] = path0
        else:
            sys.path.insert(0, path0)
    spec = _module_spec(name)
    loader = spec.loader
    assert loader is not None
    try:
        code = loader.get_code(spec.name)  # type: ignore[attr-defined]
    except SyntaxError as exc:
        raise RunError(_syntax_error_message(exc, spec.name), 1) from None
    except (ImportError, OSError) as exc:
        raise RunError(f"cannot load module {spec.name}: {exc}", 1) from None
    if code is None:
        raise RunError(f"no code object available for {spec.name}", 1)
    source = None
    try:
        text = loader.get_source(spec.name)  # type: ignore[attr-defined]
        source = text.encode("utf-8") if isinstance(text, str) else None
    except (ImportError, OSError, AttributeError):
        pass
    filename = spec.origin or code.co_filename
    attributes = {
        "__name__": "__main__",
        "__file__": filename,
        "__cached__": spec.cached,
        "__doc__": None,
        "__loader__": loader,
        "__package__": spec.parent,
        "__spec__": spec,
    }
    return Prepared(code, source, code.co_filename, spec.name, filename, path0, attributes)


def _module_spec(name: str) -> importlib.machinery.ModuleSpec:
    """What ``python -m name`` would run, with python's error messages."""
    if name.startswith("."):
        raise RunError("relative module names are not supported with -m", 1)
    parent = name.rpartition(".")[0]
    if parent:
        # As runpy: the parent packages are imported first, so that an exception their code
        # raises is the program's (its traceback, status 1), and only a package that is not
        # there is lineprof's one-line error (from find_spec, below).
        _trim_tracebacks()
        try:
            __import__(parent)
        except ImportError as exc:
            if exc.name is None or (exc.name != parent and not parent.startswith(exc.name + ".")):
                raise
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        # find_spec imports the parent packages; one of them failed.
        message = f"error while finding module specification for {name!r}"
        raise RunError(f"{message} ({type(exc).__name__}: {exc})", 1) from None
    if spec is None:
        raise RunError(f"no module named {name}", 1)
    if spec.submodule_search_locations is not None:
        if name == "__main__" or name.endswith(".__main__"):
            raise RunError("cannot use package as __main__ module", 1)
        try:
            return _module_spec(name + ".__main__")
        except RunError as exc:
            message = f"{exc}; {name!r} is a package and cannot be directly executed"
            raise RunError(message, 1) from None
    if spec.loader is None or not hasattr(spec.loader, "get_code"):
        raise RunError(f"{name!r} is a namespace package or has no code to execute", 1)
    return spec


def _prepare_string(source: bytes, filename: str, argv0: str, safe_path: bool) -> Prepared:
    code = _compile(source, filename, filename)
    # Keep the text where the report (and tracebacks) look for source lines.  linecache is
    # imported here only: a script's run does without it (sources.py).
    import linecache  # noqa: PLC0415

    try:  # as compile() read it: its coding declaration, else UTF-8
        text = importlib.util.decode_source(source)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        text = source.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    linecache.cache[filename] = (len(text), None, lines, filename)
    attributes = {
        "__name__": "__main__",
        "__doc__": None,
        "__loader__": importlib.machinery.BuiltinImporter,
        "__package__": None,
        "__spec__": None,
    }
    if argv0 == "-":  # as python -: code from stdin has a file name, -c has none
        attributes.update({"__file__": filename, "__cached__": None})
    path0 = None if safe_path else ""
    return Prepared(code, source, filename, "__main__", argv0, path0, attributes)


def _compile(source: bytes, filename: str, shown: str) -> types.CodeType:
    if b"\0" in source:  # python refuses these too; say why in words
        raise RunError(f"cannot run {shown}: not Python source (it contains null bytes)", 1)
    try:
        return compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise RunError(_syntax_error_message(exc, shown), 1) from None
    except ValueError as exc:  # null bytes in the source
        raise RunError(f"cannot compile {shown}: {exc}", 1) from None


def _syntax_error_message(exc: SyntaxError, shown: str) -> str:
    where = shown
    if exc.lineno:
        where += f", line {exc.lineno}"
    text = (exc.text or "").strip()
    detail = f": {text}" if text and text.isprintable() else ""  # not the bytes of a binary
    return f"{type(exc).__name__} in {where}: {exc.msg}{detail}"


# ---- the program's streams, and the process put back afterwards ------------------------


class Silence:
    """``quiet`` >= 2 (lineprof -qq): standard output goes nowhere, the program's included;
    >= 3 (-qqq): standard error too.  As kernprof does, sys.stdout and sys.stderr are
    replaced; the file descriptors (and so child processes, and C code) are left alone."""

    def __init__(self, quiet: int) -> None:
        self.quiet = quiet
        self._saved: list[tuple[str, Any]] = []
        self._sink: IO[str] | None = None

    def start(self) -> None:
        if self.quiet < 2 or self._sink is not None:
            return
        self._sink = open(os.devnull, "w", encoding="utf-8")
        for name in ("stdout", "stderr") if self.quiet >= 3 else ("stdout",):
            self._saved.append((name, getattr(sys, name)))
            setattr(sys, name, self._sink)

    def stop(self) -> None:
        if self._sink is None:
            return
        for name, stream in self._saved:
            setattr(sys, name, stream)
        self._saved.clear()
        self._sink.close()
        self._sink = None

    def __enter__(self) -> Silence:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


_MISSING: Any = object()


def save_state() -> Callable[[], None]:
    """A function that puts back what running a program in this process changes, for a
    caller that goes on afterwards (an in-process ``lineprof.cli.main(argv)``): the same
    ``sys.argv`` and ``sys.path`` lists with their items, ``sys.modules['__main__']``,
    ``sys.excepthook`` (``run`` trims tracebacks) and ``builtins.profile`` (lineprof -b)."""
    argv, argv_items = sys.argv, list(sys.argv)
    path, path_items = sys.path, list(sys.path)
    main_module = sys.modules.get("__main__", _MISSING)
    excepthook = sys.excepthook
    builtin_profile = builtins.__dict__.get("profile", _MISSING)

    def restore() -> None:
        sys.argv = argv
        argv[:] = argv_items
        sys.path = path
        path[:] = path_items
        _put_back(sys.modules, "__main__", main_module)
        sys.excepthook = excepthook
        _put_back(builtins.__dict__, "profile", builtin_profile)

    return restore


def _put_back(mapping: Any, key: str, value: Any) -> None:
    if value is _MISSING:
        mapping.pop(key, None)
    else:
        mapping[key] = value


# ---- tracebacks ---------------------------------------------------------------------------


class _TrimmingHook:
    """An excepthook that drops lineprof's (and runpy's) frames from the start of a
    traceback, then calls the hook it replaced."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook

    def __call__(
        self, kind: type[BaseException], value: BaseException, tb: types.TracebackType | None
    ) -> Any:
        # Everything up to the frame that exec'd the program (or the setup file) is the
        # launcher's: the console script's frame, the command's, runpy's.
        execs = (run.__code__, run_setup.__code__)
        entry = tb
        while entry is not None and entry.tb_frame.f_code not in execs:
            entry = entry.tb_next
        if entry is not None and entry.tb_next is not None:
            first: types.TracebackType | None = entry.tb_next
        else:
            first = tb
            while first is not None and _is_launcher_frame(first.tb_frame.f_code.co_filename):
                first = first.tb_next
        if first is not None:
            tb = _without_import_hook_frames(first)
            value.__traceback__ = tb
        return self.hook(kind, value, tb)


def _without_import_hook_frames(tb: types.TracebackType) -> types.TracebackType:
    """``tb`` without the frames of lineprof's import hook (``-p``: autoprofile's
    exec_module) and the import machinery's frames that lead to them: CPython leaves its own
    out of a traceback through an import, and would have left them out without the hook."""
    entries: list[types.TracebackType] = []
    entry: types.TracebackType | None = tb
    while entry is not None:
        entries.append(entry)
        entry = entry.tb_next
    kept: list[types.TracebackType] = []
    for entry in entries:
        if os.path.dirname(os.path.abspath(entry.tb_frame.f_code.co_filename)) == _OWN_DIR:
            while kept and kept[-1].tb_frame.f_code.co_filename.startswith("<frozen importlib"):
                kept.pop()
            continue
        kept.append(entry)
    if not kept or len(kept) == len(entries):
        return tb
    for before, after in zip(kept, [*kept[1:], None], strict=True):
        before.tb_next = after
    return kept[0]


def _is_launcher_frame(filename: str) -> bool:
    if filename.startswith("<frozen runpy") or os.path.basename(filename) == "runpy.py":
        return True
    return os.path.dirname(os.path.abspath(filename)) == _OWN_DIR


def _trim_tracebacks() -> None:
    if not isinstance(sys.excepthook, _TrimmingHook):
        sys.excepthook = _TrimmingHook(sys.excepthook)

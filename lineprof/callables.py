"""What a callable is made of: the Python functions behind a function, method, property,
partial, decorator's wrapper or callable object; the members a class defines itself; the kind of
code a function runs; and how to rebuild a descriptor around wrapped parts.  LineProfiler
(profiler.py) decides what to do with them."""

from __future__ import annotations

import sys

from lineprof import _types
from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    import functools
    import types
    from collections.abc import Callable
    from typing import Any


# Code flags (inspect's CO_* values): what kind of function a code object makes.  Read here
# rather than through inspect, which would add some ms to every profiled program's start-up.
CO_GENERATOR, CO_COROUTINE, CO_ITERABLE_COROUTINE, CO_ASYNC_GENERATOR = 0x20, 0x80, 0x100, 0x200


def code_flags(func: Any) -> int:
    """co_flags of the code behind ``func`` (through partials and methods), 0 without one."""
    functools = _loaded_functools()
    while functools is not None and isinstance(func, functools.partial):
        func = func.func
    func = getattr(func, "__func__", func)
    code = getattr(func, "__code__", None)
    return code.co_flags if isinstance(code, _types.CodeType) else 0


def qualname(function: Any) -> str:
    """The qualified name results give ``function``'s code.  co_qualname (3.11+) names the code
    wherever it is found (a function assigned into a class is still its own); before 3.11 the
    function's own ``__qualname__`` is the best there is.  Code generated from a string (exec:
    dataclasses' ``__init__``, namedtuple's ``__new__``) shares one file name and first line,
    and its co_qualname is its generator's (``__create_fn__.<locals>.__init__``): the name the
    generator gave the function (``Point.__init__``) tells them apart."""
    code = function.__code__
    if code.co_filename.startswith("<"):
        return str(function.__qualname__)
    return str(getattr(code, "co_qualname", function.__qualname__))


def _unwrap(func: Any) -> Any:
    """The end of the ``__wrapped__`` chain (inspect.unwrap), or ``func`` itself when the chain
    loops."""
    seen = {id(func)}
    current = func
    while hasattr(current, "__wrapped__"):
        current = current.__wrapped__
        if id(current) in seen:
            return func
        seen.add(id(current))
    return current


def _loaded_functools() -> types.ModuleType | None:
    """functools, if the program has imported it.  lineprof does not import it to recognise
    its wrappers: no partialmethod or cached_property can exist before the program imports
    functools, and importing it (collections with it) costs a program that does not ~2 ms of
    start-up (CPython 3.13)."""
    return sys.modules.get("functools")


def is_partial(obj: object) -> bool:
    """A functools.partial or partialmethod."""
    functools = _loaded_functools()
    return functools is not None and isinstance(obj, functools.partial | functools.partialmethod)


def is_cached_property(obj: object) -> bool:
    functools = _loaded_functools()
    return functools is not None and isinstance(obj, functools.cached_property)


def is_descriptor(obj: object) -> bool:
    """A wrapper of callables that is not callable itself (a classmethod, say)."""
    return (
        isinstance(obj, property | staticmethod | classmethod)
        or is_partial(obj)
        or is_cached_property(obj)
    )


def underlying_functions(obj: Any) -> list[types.FunctionType]:
    """The Python functions behind ``obj``; [] when there are none (a C function, a class,
    data)."""
    seen: set[int] = set()
    found: list[types.FunctionType] = []

    def visit(item: Any) -> None:
        if item is None or id(item) in seen:
            return
        seen.add(id(item))
        if isinstance(item, _types.FunctionType):
            inner = _unwrap(item)
            if inner is not item:
                before = len(found)
                visit(inner)
                if len(found) > before:
                    return
            # Not a decorated Python function: this one's own code (@functools.wraps(print)).
            found.append(item)
        elif isinstance(item, _types.MethodType):
            visit(item.__func__)
        elif isinstance(item, staticmethod | classmethod):
            visit(item.__func__)
        elif isinstance(item, property):
            for accessor in (item.fget, item.fset, item.fdel):
                visit(accessor)
        elif is_partial(item):
            visit(item.func)
        elif is_cached_property(item):
            visit(item.func)
        elif isinstance(item, type):
            return  # a namespace, not a function: add_class
        elif hasattr(item, "__wrapped__"):
            visit(item.__wrapped__)
        elif callable(item):
            # Its class's __call__ (that of the class, not of its metaclass).
            for klass in type(item).__mro__:
                if "__call__" in vars(klass):
                    call = vars(klass)["__call__"]
                    if isinstance(call, _types.FunctionType):
                        visit(call)
                    break

    visit(obj)
    return found


def own_members(cls: type) -> list[tuple[str, Any, list[types.FunctionType]]]:
    """The members ``cls`` defines itself: (name, class, []) for a class defined in it, and
    (name, member, its functions defined in it) for a member with such functions.  A function
    or class assigned in from another class or module is not one: its ``__qualname__`` and
    ``__module__`` say where it was defined."""
    members: list[tuple[str, Any, list[types.FunctionType]]] = []
    for name, value in list(vars(cls).items()):
        if isinstance(value, type):
            if _defined_in(value, cls):
                members.append((name, value, []))
            continue
        functions = [f for f in underlying_functions(value) if _defined_in(f, cls)]
        if functions:
            members.append((name, value, functions))
    return members


def has_own_functions(cls: type) -> bool:
    """Whether ``cls`` or a class nested in it defines a Python function itself."""
    return any(
        functions or (isinstance(member, type) and has_own_functions(member))
        for _, member, functions in own_members(cls)
    )


def _defined_in(obj: types.FunctionType | type, cls: type) -> bool:
    # A lambda in the class body is Cls.<lambda>, a method of a nested class Cls.Inner.m.
    parent = str(getattr(obj, "__qualname__", "")).rpartition(".")[0]
    return obj.__module__ == cls.__module__ and parent == cls.__qualname__


def rebuilt(
    obj: Any, parts: list[Any], wrap: Callable[[Any], Any], make: Callable[..., Any]
) -> Any:
    """``make(*parts)`` with each part wrapped, keeping the attributes set on ``obj``; ``obj``
    itself when wrapping changes none of its parts (it profiles already, or has nothing to
    profile)."""
    wrapped = [None if part is None else wrap(part) for part in parts]
    if all(new is old for new, old in zip(wrapped, parts, strict=True)):
        return obj
    new = make(*wrapped)
    old_vars = getattr(obj, "__dict__", None)
    new_vars = getattr(new, "__dict__", None)
    if isinstance(old_vars, dict) and isinstance(new_vars, dict):
        for key, value in old_vars.items():
            new_vars.setdefault(key, value)
    return new


def new_property(prop: property) -> Callable[..., property]:
    # A doc given to the property itself is kept; one it took from its getter it takes again
    # from the wrapped getter (which has the same).
    doc = prop.__doc__ if prop.__doc__ != getattr(prop.fget, "__doc__", None) else None
    name = getattr(prop, "__name__", None)  # CPython 3.13+

    def make(fget: Any, fset: Any, fdel: Any) -> property:
        new = type(prop)(fget, fset, fdel, doc)
        if name is not None and getattr(new, "__name__", None) != name:
            new.__name__ = name  # type: ignore[attr-defined, unused-ignore]
        return new

    return make


def new_cached_property(prop: functools.cached_property[Any]) -> Callable[..., Any]:
    def make(func: Any) -> functools.cached_property[Any]:
        new = type(prop)(func)
        # Set by __set_name__ when the class was made, which does not happen again.
        new.attrname = prop.attrname
        return new

    return make

"""What lineprof takes from ``typing`` at run time, without importing ``typing``.

Every profiled program imports the modules on lineprof's start-up path, and ``typing`` alone
costs it ~3 ms (CPython 3.13, measured against ``python -c pass``), while all lineprof needs
of it at run time is ``TYPE_CHECKING`` and ``NamedTuple``.  Modules write::

    from lineprof._typing import TYPE_CHECKING, NamedTuple

    if TYPE_CHECKING:
        from typing import IO, Any

Type checkers see ``typing.NamedTuple`` itself (and treat any ``TYPE_CHECKING`` as true).
At run time ``NamedTuple`` builds a ``collections.namedtuple`` class with the fields,
defaults, methods and docstring the class body declares, which is what ``typing.NamedTuple``
builds too; where the fields cannot be read (an interpreter that no longer keeps a class's
annotations in its namespace), ``typing.NamedTuple`` does the work.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["TYPE_CHECKING", "NamedTuple"]

# What a namedtuple class defines itself: a class body may not replace these (as in typing).
_RESERVED = frozenset(
    {
        "__new__",
        "__init__",
        "__slots__",
        "__getnewargs__",
        "_fields",
        "_field_defaults",
        "_make",
        "_replace",
        "_asdict",
        "_source",
    }
)
# What the class statement puts in every namespace: not copied onto the namedtuple class.
_SKIPPED = frozenset(
    {
        "__module__",
        "__qualname__",
        "__annotations__",
        "__annotate__",
        "__classcell__",
        "__static_attributes__",
        "__firstlineno__",
        "__orig_bases__",
    }
)


class _NamedTupleMeta(type):
    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
        if not bases:
            return super().__new__(mcs, name, bases, namespace)  # NamedTuple itself
        fields = _fields(namespace)
        if fields is None or bases != (NamedTuple,):
            return _by_typing(name, namespace)
        defaults = [namespace[field] for field in fields if field in namespace]
        if any(field not in namespace for field in fields[len(fields) - len(defaults) :]):
            raise TypeError(f"{name}: a field without a default follows one with a default")
        import collections  # on first use: ``import lineprof`` alone needs none of it (~1.5 ms)

        module = namespace.get("__module__", __name__)
        cls = collections.namedtuple(name, fields, defaults=defaults, module=module)  # type: ignore[misc]
        cls.__qualname__ = namespace.get("__qualname__", name)
        for key, value in namespace.items():
            if key in _RESERVED:
                raise AttributeError(f"{name}: cannot overwrite NamedTuple attribute {key}")
            if key not in _SKIPPED and key not in fields:
                setattr(cls, key, value)
        return cls


def _fields(namespace: dict[str, Any]) -> list[str] | None:
    """The class body's annotated names in order, or None where they cannot be read."""
    annotations = namespace.get("__annotations__")
    if annotations is None and callable(namespace.get("__annotate__")):
        try:  # PEP 649 (3.14+): the body left a function; format 1 is VALUE
            annotations = namespace["__annotate__"](1)
        except Exception:
            return None
    return list(annotations) if isinstance(annotations, dict) else None


def _by_typing(name: str, namespace: dict[str, Any]) -> type:
    import types  # noqa: PLC0415 (only where the fields cannot be read: see the docstring)
    import typing  # noqa: PLC0415

    return types.new_class(name, (typing.NamedTuple,), exec_body=lambda ns: ns.update(namespace))


if TYPE_CHECKING:
    from typing import NamedTuple
else:

    class NamedTuple(metaclass=_NamedTupleMeta):
        """Base class: ``class Point(NamedTuple): x: int; y: int = 0``."""

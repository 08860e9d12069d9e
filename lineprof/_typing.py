"""What lineprof takes from ``typing`` at run time, without importing ``typing``.

Every profiled program imports the modules on lineprof's start-up path, and ``typing`` alone
costs it ~3 ms (CPython 3.13, measured against ``python -c pass``), while all lineprof needs
of it at run time is ``TYPE_CHECKING`` and ``NamedTuple``.  Modules write::

    from lineprof._typing import TYPE_CHECKING, NamedTuple

    if TYPE_CHECKING:
        from typing import IO, Any

Type checkers see ``typing.NamedTuple`` itself (and treat any ``TYPE_CHECKING`` as true).
At run time ``NamedTuple`` builds a tuple class with the fields, defaults, methods and
docstring the class body declares and the attributes ``collections.namedtuple`` gives
(``_fields``, ``_field_defaults``, ``_make``, ``_replace``, ``_asdict``), which is what
``typing.NamedTuple`` builds too, without importing ``collections``; where the fields cannot
be read (an interpreter that no longer keeps a class's annotations in its namespace),
``typing.NamedTuple`` does the work.
"""

# No ``from __future__ import annotations`` here: see lineprof/__init__.py.

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
    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: "dict[str, Any]") -> type:
        if not bases:
            return super().__new__(mcs, name, bases, namespace)  # NamedTuple itself
        fields = _fields(namespace)
        if fields is None or bases != (NamedTuple,):
            return _by_typing(name, namespace)
        defaults = {field: namespace[field] for field in fields if field in namespace}
        if any(field not in namespace for field in fields[len(fields) - len(defaults) :]):
            raise TypeError(f"{name}: a field without a default follows one with a default")
        body: dict[str, Any] = {
            "__slots__": (),
            "__module__": namespace.get("__module__", __name__),
            "__qualname__": namespace.get("__qualname__", name),
            "__doc__": f"{name}({', '.join(fields)})",
            "__match_args__": tuple(fields),
            "_fields": tuple(fields),
            "_field_defaults": defaults,
            **{field: _field(index, field) for index, field in enumerate(fields)},
        }
        for key, value in namespace.items():
            if key in _RESERVED:
                raise AttributeError(f"{name}: cannot overwrite NamedTuple attribute {key}")
            if key not in _SKIPPED and key not in fields:
                body[key] = value
        return type(name, (_Tuple,), body)


def _field(index: int, name: str) -> "Any":
    try:  # what collections.namedtuple uses: a C descriptor
        from _collections import _tuplegetter  # type: ignore[import-not-found]  # noqa: PLC0415

        return _tuplegetter(index, f"Alias for field number {index}")
    except ImportError:
        from _operator import itemgetter  # noqa: PLC0415

        return property(itemgetter(index), doc=f"Alias for field number {index}")


class _Tuple(tuple):  # type: ignore[type-arg]
    """What every named tuple class gets, as ``collections.namedtuple`` gives it, built without
    importing ``collections`` (~2 ms of start-up with ``collections.namedtuple``'s ``eval``
    of each class's ``__new__``): the classes are few and made once, their instances few."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _field_defaults: "dict[str, Any]" = {}

    def __new__(cls, *args: "Any", **kwargs: "Any") -> "Any":
        fields = cls._fields
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} arguments, {len(args)} given")
        values = list(args)
        for field in fields[len(args) :]:
            if field in kwargs:
                values.append(kwargs.pop(field))
            elif field in cls._field_defaults:
                values.append(cls._field_defaults[field])
            else:
                raise TypeError(f"{cls.__name__}() missing required argument: {field!r}")
        if kwargs:
            raise TypeError(f"{cls.__name__}() got an unexpected argument {next(iter(kwargs))!r}")
        return tuple.__new__(cls, values)

    @classmethod
    def _make(cls, iterable: "Any") -> "Any":
        values = tuple(iterable)
        if len(values) != len(cls._fields):
            raise TypeError(f"expected {len(cls._fields)} arguments, got {len(values)}")
        return tuple.__new__(cls, values)

    def _replace(self, **changes: "Any") -> "Any":
        values = [
            changes.pop(field, value) for field, value in zip(self._fields, self, strict=True)
        ]
        if changes:
            raise ValueError(f"got unexpected field names: {list(changes)!r}")
        return tuple.__new__(type(self), values)

    def _asdict(self) -> "dict[str, Any]":
        return dict(zip(self._fields, self, strict=True))

    def __repr__(self) -> str:
        pairs = ", ".join(
            f"{field}={value!r}" for field, value in zip(self._fields, self, strict=True)
        )
        return f"{type(self).__name__}({pairs})"

    def __getnewargs__(self) -> "tuple[Any, ...]":
        return tuple(self)


def _fields(namespace: "dict[str, Any]") -> list[str] | None:
    """The class body's annotated names in order, or None where they cannot be read."""
    annotations = namespace.get("__annotations__")
    if annotations is None and callable(namespace.get("__annotate__")):
        try:  # PEP 649 (3.14+): the body left a function; format 1 is VALUE
            annotations = namespace["__annotate__"](1)
        except Exception:
            return None
    return list(annotations) if isinstance(annotations, dict) else None


def _by_typing(name: str, namespace: "dict[str, Any]") -> type:
    import types  # noqa: PLC0415 (only where the fields cannot be read: see the docstring)
    import typing  # noqa: PLC0415

    return types.new_class(name, (typing.NamedTuple,), exec_body=lambda ns: ns.update(namespace))


if TYPE_CHECKING:
    from typing import NamedTuple
else:

    class NamedTuple(metaclass=_NamedTupleMeta):
        """Base class: ``class Point(NamedTuple): x: int; y: int = 0``."""

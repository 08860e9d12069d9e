"""Scoping policies: which members of a class or module ``add_class``/``add_module`` profile.

line_profiler 5's ``ScopingPolicy``, with its values, its case-insensitive lookup and its
default.  A policy decides, for a namespace (a class or a module) and each thing found in it,
whether that thing is profiled (a function) or descended into (a class, a module):

``exact``        functions defined right in the namespace; no class or module descended into
``children``     functions and classes defined right in it; a package's direct submodules
``descendants``  those, and theirs, at any depth (a class: any qualified name under it; a
                 module: any module whose name is under it)
``siblings``     anything of the same module (in a class); of the same parent package (in a
                 module of a package); modules of the same parent package
``none``         everything found, recursively (modules too: use with care)

``to_policies`` accepts one policy (a ScopingPolicy or a string naming one, any case) for
all three kinds of member, or a mapping with a policy for each of ``'func'``, ``'class'``
and ``'module'``; None is the default (``siblings``, ``siblings``, ``exact``).  Invalid
values raise what line_profiler raises: ValueError for an unknown name, KeyError for a
mapping that lacks a kind, TypeError for anything else.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable, Mapping

from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Literal, TypeAlias

__all__ = ["DEFAULT_SCOPING_POLICIES", "OWN_MEMBERS", "ScopingPolicy"]

if TYPE_CHECKING:  # aliases for type checkers: typing is not imported at run time (_typing.py)
    Kind: TypeAlias = Literal["func", "class", "module"]
    Namespace: TypeAlias = type | types.ModuleType
    ScopingPolicyArg: TypeAlias = "str | ScopingPolicy | Mapping[str, str | ScopingPolicy] | None"


class ScopingPolicy(str, enum.Enum):
    """How ``add_class``/``add_module`` decide what in a namespace to profile."""

    EXACT = "exact"
    CHILDREN = "children"
    DESCENDANTS = "descendants"
    SIBLINGS = "siblings"
    NONE = "none"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def _missing_(cls, value: object) -> ScopingPolicy | None:
        # ScopingPolicy('Children') and ScopingPolicy('NONE') work, as in line_profiler.
        if isinstance(value, str):
            for member in cls:
                if member.value == value.casefold():
                    return member
        return None

    @classmethod
    def to_policies(cls, policies: ScopingPolicyArg = None) -> dict[Kind, ScopingPolicy]:
        """``policies`` as one ScopingPolicy for each kind of member (see the module doc)."""
        if policies is None:
            policies = DEFAULT_SCOPING_POLICIES
        if isinstance(policies, str):
            policy = cls(policies)
            return {"func": policy, "class": policy, "module": policy}
        # Anything but a mapping fails here with a TypeError, as in line_profiler.
        return {kind: cls(policies[kind]) for kind in ("func", "class", "module")}

    def admits(self, namespace: Namespace, kind: Kind) -> Callable[[Any], bool]:
        """Whether a ``kind`` of thing found in ``namespace`` is profiled (a function) or
        descended into (a class, a module) under this policy."""
        if kind == "module":
            if isinstance(namespace, type):
                return _never  # a class holding a module does not lead into it
            return self._module_in_module(namespace)
        if isinstance(namespace, type):
            return self._in_class(namespace, kind)
        return self._in_module(namespace, kind)

    def _in_class(self, cls: type, kind: Kind) -> Callable[[Any], bool]:
        module = cls.__module__
        prefix = cls.__qualname__ + "."

        def same_module(obj: Any) -> bool:
            return bool(getattr(obj, "__module__", None) == module)

        def child(obj: Any) -> bool:
            return same_module(obj) and obj.__qualname__ == prefix + obj.__name__

        def descendant(obj: Any) -> bool:
            return same_module(obj) and str(obj.__qualname__).startswith(prefix)

        return self._pick(kind, child, descendant, same_module)

    def _in_module(self, module: types.ModuleType, kind: Kind) -> Callable[[Any], bool]:
        name = module.__name__
        parent = name.rpartition(".")[0]

        def child(obj: Any) -> bool:
            return bool(getattr(obj, "__module__", None) == name)

        def descendant(obj: Any) -> bool:
            return _under(getattr(obj, "__module__", None), name)

        def sibling(obj: Any) -> bool:
            # line_profiler's: of this module or its parent package ("" matches no module).
            return descendant(obj) or _under(getattr(obj, "__module__", None), parent)

        return self._pick(kind, child, descendant, sibling)

    def _module_in_module(self, module: types.ModuleType) -> Callable[[Any], bool]:
        name = module.__name__
        parent = name.rpartition(".")[0]

        def child(other: types.ModuleType) -> bool:
            return other.__name__.rpartition(".")[0] == name

        def descendant(other: types.ModuleType) -> bool:
            return other.__name__.startswith(name + ".")

        def sibling(other: types.ModuleType) -> bool:
            return bool(parent) and other.__name__.startswith(parent + ".")

        choices: dict[ScopingPolicy, Callable[[Any], bool]] = {
            ScopingPolicy.EXACT: _never,
            ScopingPolicy.CHILDREN: child,
            ScopingPolicy.DESCENDANTS: descendant,
            ScopingPolicy.SIBLINGS: sibling,
            ScopingPolicy.NONE: _always,
        }
        return choices[self]

    def _pick(
        self,
        kind: Kind,
        child: Callable[[Any], bool],
        descendant: Callable[[Any], bool],
        sibling: Callable[[Any], bool],
    ) -> Callable[[Any], bool]:
        choices: dict[ScopingPolicy, Callable[[Any], bool]] = {
            # exact: the functions right here, and no class descended into
            ScopingPolicy.EXACT: _never if kind == "class" else child,
            ScopingPolicy.CHILDREN: child,
            ScopingPolicy.DESCENDANTS: descendant,
            ScopingPolicy.SIBLINGS: sibling,
            ScopingPolicy.NONE: _always,
        }
        return choices[self]


#: line_profiler 5.1's default for add_class and add_module.
DEFAULT_SCOPING_POLICIES: dict[str, str | ScopingPolicy] = {
    "func": ScopingPolicy.SIBLINGS,
    "class": ScopingPolicy.SIBLINGS,
    "module": ScopingPolicy.EXACT,
}

#: What a class or module defines itself, and its nested classes theirs: what ``@profile`` on a
#: class, ``add_function(cls)``, ``%lprun -f``/``-m``, ``-p`` and the pytest plugin register.
OWN_MEMBERS: dict[str, str | ScopingPolicy] = {
    "func": ScopingPolicy.CHILDREN,
    "class": ScopingPolicy.CHILDREN,
    "module": ScopingPolicy.EXACT,
}


def _under(name: object, prefix: str) -> bool:
    return isinstance(name, str) and (name == prefix or name.startswith(prefix + "."))


def _never(_: Any) -> bool:
    return False


def _always(_: Any) -> bool:
    return True

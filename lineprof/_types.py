"""The classes of ``types`` that lineprof tests objects against, without importing ``types``.

``types`` is not loaded in a program that does not ask for it (CPython 3.13), and importing it
costs every profiled program ~0.4 ms of start-up; these are the same classes, taken from
objects that have them.
"""

from __future__ import annotations

import sys

from lineprof._typing import TYPE_CHECKING

__all__ = ["CodeType", "FunctionType", "MethodType", "ModuleType"]


if TYPE_CHECKING:
    from types import CodeType, FunctionType, MethodType, ModuleType
else:

    def _function():
        pass

    class _Class:
        def method(self):
            pass

    FunctionType = type(_function)
    CodeType = type(_function.__code__)
    MethodType = type(_Class().method)
    ModuleType = type(sys)

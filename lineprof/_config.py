"""Environment knobs, read in one place.  Every knob is named LINEPROF_*."""

from __future__ import annotations

import os

BACKENDS = ("auto", "monitoring", "settrace")


def backend() -> str:
    """LINEPROF_BACKEND: which hook a profiling session uses.

    ``auto`` (the default) takes sys.monitoring on CPython 3.12+ and falls back to
    PyEval_SetTrace when every monitoring tool id is taken; ``monitoring`` and ``settrace``
    insist on one.
    """
    value = os.environ.get("LINEPROF_BACKEND", "auto").strip().lower() or "auto"
    if value not in BACKENDS:
        raise ValueError(
            f"LINEPROF_BACKEND={value!r} is not one of {', '.join(BACKENDS)}"
        )
    return value

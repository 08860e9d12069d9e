"""Environment knobs, read in one place.  Every knob is named LINEPROF_*."""

from __future__ import annotations

import os


def backend() -> str:
    """LINEPROF_BACKEND: which hook a profiling session uses.

    ``auto`` (the default) picks the best this interpreter has: ``monitoring``
    (sys.monitoring, CPython 3.12+) or ``setprofile`` (CPython <= 3.11), falling back to
    ``settrace`` when the preferred hook is held by another tool.  Naming a backend insists
    on it.
    """
    return os.environ.get("LINEPROF_BACKEND", "auto").strip().lower() or "auto"

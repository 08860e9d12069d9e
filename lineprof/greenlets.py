"""Greenlets (greenlet, and gevent and eventlet on top of it): each one timed as a thread is.

greenlet switches between stacks of frames inside one thread with no return or yield event, so
to CPython's hooks the frames of the greenlet switched to simply carry on where the others ran.
Untold, lineprof would take them for frames called from the line that switched, and that line
would go on timing while every other greenlet ran: lines read more than the program's wall
time.  greenlet tells a thread's tracing function (``greenlet.settrace``) of each switch; lineprof's
(``_lineprof.greenlet_switched``, csrc/threadstate.c) puts the origin's stack of profiled frames
aside and brings the target's back.  A greenlet is then timed as a thread: a line that switches
out (a gevent socket read, ``gevent.sleep``) is charged the wall time until its greenlet runs
on, what it waited, and what the greenlets that ran meanwhile did is theirs.

greenlet's tracing function belongs to a thread, and only the thread can set its own.
lineprof's goes in on the thread that starts profiling, or that registers a function while
profiling (profiler.py), once greenlet is imported; from then on every other thread puts it in
itself at its first event of each session that reaches lineprof, at the latest its first
profiled call (``_lineprof.set_thread_setup``), before any of its greenlets can have a profiled
frame.  It stands in front of one already there, which
is called after it.  The thread that ends the session takes it out again; in other threads it
stays, doing nothing between sessions (it cannot be taken out from another thread).  greenlet
is never imported here.
"""

from __future__ import annotations

import sys

from lineprof import _lineprof
from lineprof._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Tracer = Callable[[str, Any], Any]


def follow_every_thread() -> None:
    """Follow this thread's switches, and each other thread's from its first event of each
    session."""
    _lineprof.set_thread_setup(follow)
    follow()


def follow() -> None:
    """Have this thread's greenlet switches reach lineprof, if greenlet is imported."""
    greenlet = sys.modules.get("greenlet")
    gettrace = getattr(greenlet, "gettrace", None)
    settrace = getattr(greenlet, "settrace", None)
    if gettrace is None or settrace is None:
        return
    current = gettrace()
    if _is_ours(current):
        return
    settrace(_lineprof.greenlet_switched if current is None else _in_front_of(current))


def unfollow() -> None:
    """Put this thread's earlier greenlet tracing function back, if lineprof's is in place."""
    greenlet = sys.modules.get("greenlet")
    if greenlet is None:
        return
    current = greenlet.gettrace()
    if _is_ours(current):
        greenlet.settrace(getattr(current, "_lineprof_next", None))


def _is_ours(tracer: object) -> bool:
    return tracer is _lineprof.greenlet_switched or hasattr(tracer, "_lineprof_next")


def _in_front_of(tracer: Tracer) -> Tracer:
    switched = _lineprof.greenlet_switched

    def both(event: str, args: Any) -> Any:
        switched(event, args)
        return tracer(event, args)

    both._lineprof_next = tracer  # type: ignore[attr-defined]
    return both

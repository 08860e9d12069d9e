"""Calls a profiled function until a signal stops it.  argv[1]: 'decorator' imports
lineprof's profile (for LINE_PROFILE=1), 'builtin' uses the bare @profile of lineprof -b;
argv[2] (optional): 'own-handler' installs a SIGTERM handler before profiling starts,
'late-handler' after."""

import os
import signal
import sys
import time


def handler(signum, frame):
    print("own handler", flush=True)
    sys.exit(7)


mode = sys.argv[1]
handler_mode = sys.argv[2] if len(sys.argv) > 2 else ""
if handler_mode == "own-handler":
    signal.signal(signal.SIGTERM, handler)
if mode == "decorator":
    from lineprof.decorator import profile
else:
    import builtins

    profile = builtins.profile


@profile
def step(i):
    return i * 2


if handler_mode == "late-handler":
    signal.signal(signal.SIGTERM, handler)
i = 0
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    step(i)
    i += 1
    if i == 10:  # step has run 10 times before the test sends its signal
        print("ready", os.getpid(), flush=True)
    if i % 100 == 0:
        time.sleep(0.001)
print("not interrupted", flush=True)

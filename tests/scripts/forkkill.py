"""Forks children and SIGTERMs each one at once: every child must die of it, as it would
without lineprof (a Python-level SIGTERM handler inherited across fork() loses signals that
arrive before the child has set itself up)."""

import os
import signal
import sys
import time

from lineprof.decorator import profile


@profile
def f():
    return 1


f()
survivors = 0
for _ in range(int(sys.argv[1])):
    pid = os.fork()
    if pid == 0:
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:
            time.sleep(0.001)
        os._exit(0)
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM):
        survivors += 1
print("survivors", survivors)

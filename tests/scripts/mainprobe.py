"""Reports what python would have set up for a script, then ends as argv asks."""

import os
import pickle
import sys

from lineprof.decorator import profile


class Record:
    def __init__(self, value):
        self.value = value


@profile
def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


@profile
def never_called():
    return 0


print("argv", sys.argv)
print("path0", sys.path[0] == os.path.dirname(os.path.realpath(__file__)))
print("file", __file__ == os.path.abspath(__file__), os.path.basename(__file__))
print("name", __name__, __spec__, sys.modules["__main__"].__dict__ is globals())
print("pickle", pickle.loads(pickle.dumps(Record(5))).value)
print("work", work(4), work(2))
action = sys.argv[1] if len(sys.argv) > 1 else ""
if action == "raise":
    raise ValueError("failing on purpose")
if action == "exit":
    sys.exit(int(sys.argv[2]))
if action == "exit-message":
    sys.exit("goodbye")

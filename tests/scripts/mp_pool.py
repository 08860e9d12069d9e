"""multiprocessing with the start method in argv[1]: children run a profiled function."""

import multiprocessing
import sys

from lineprof.decorator import profile


@profile
def square(x):
    return x * x


class Box:
    def __init__(self, value):
        self.value = value


def unbox(box):
    return square(box.value)


if __name__ == "__main__":
    context = multiprocessing.get_context(sys.argv[1])
    with context.Pool(2) as pool:
        print("pool", sum(pool.map(unbox, [Box(i) for i in range(6)])))
    process = context.Process(target=square, args=(3,))
    process.start()
    process.join()
    print("parent", square(4), "child exit", process.exitcode)

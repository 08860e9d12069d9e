"""Runs the profiled ``work`` in child processes, as argv says: ``MODE [START_METHOD]``.

pool M       with Pool(2) as pool: pool.map(work, range(TASKS)); the with block's exit
             terminates the idle workers (SIGTERM)
pool-close M the same, then pool.close() and pool.join(): the workers leave through os._exit
pool-in M    the same as pool-close, from the profiled ``starts_pool``
process M    the parent calls work once, then two Process(target=work) children
executor M   concurrent.futures.ProcessPoolExecutor(2).map(work, range(TASKS))
terminate M  two workers spin in ``busy`` until Pool.terminate() kills them
blocked M    a Process blocks for good in a lock: a SIGTERM, announced to Python just after
             it blocked (as one arriving just before would be), must still end it
subprocess   the parent calls work once, then subprocess.run([sys.executable, this file,
             'direct', '3']) calls it 3 times
fork         the parent calls work once, then os.fork(): the child calls it twice and
             returns from the program
direct N     calls work N times (the subprocess of 'subprocess')

The parent prints one line, 'done MODE'.
"""

import _thread
import multiprocessing
import os
import signal
import subprocess
import sys
import threading

from lineprof import profile

TASKS = 6
STARTED = None


@profile
def work(x):
    return x * x


@profile
def busy(x):
    STARTED.put(x)
    while True:
        x += 1


@profile
def blocked():
    threading.Timer(0.2, _thread.interrupt_main, args=(signal.SIGTERM,)).start()
    lock = threading.Lock()
    lock.acquire()
    lock.acquire()  # interrupt_main only sets CPython's flag: nothing wakes this thread


@profile
def starts_pool(context):
    pool = context.Pool(2)
    assert pool.map(work, range(TASKS)) == [x * x for x in range(TASKS)]
    pool.close()
    pool.join()


def remember(queue):
    global STARTED
    STARTED = queue


def main(mode, method):
    if mode == "direct":
        for i in range(int(method)):
            work(i)
        return
    context = multiprocessing.get_context(method) if method else None
    if mode in ("pool", "pool-close"):
        with context.Pool(2) as pool:
            assert pool.map(work, range(TASKS)) == [x * x for x in range(TASKS)]
            if mode == "pool-close":
                pool.close()
                pool.join()
    elif mode == "pool-in":
        starts_pool(context)
    elif mode == "process":
        work(0)
        children = [context.Process(target=work, args=(i,)) for i in range(2)]
        for child in children:
            child.start()
        for child in children:
            child.join()
            assert child.exitcode == 0, child.exitcode
    elif mode == "executor":
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(2, mp_context=context) as executor:
            assert sum(executor.map(work, range(TASKS))) == sum(x * x for x in range(TASKS))
    elif mode == "terminate":
        queue = context.SimpleQueue()
        pool = context.Pool(2, initializer=remember, initargs=(queue,))
        pool.map_async(busy, [0, 1], chunksize=1)
        started = sorted(queue.get() for _ in range(2))  # both workers are in busy
        assert started == [0, 1], started
        pool.terminate()
        pool.join()
    elif mode == "blocked":
        child = context.Process(target=blocked)
        child.start()
        child.join(60)
        print("exit code", child.exitcode)
        if child.exitcode is None:
            child.kill()
            child.join()
    elif mode == "subprocess":
        work(0)
        subprocess.run([sys.executable, __file__, "direct", "3"], check=True)
    elif mode == "fork":
        work(0)
        pid = os.fork()
        if pid == 0:
            work(1)
            work(2)
            return  # the child ends as a program does: atexit runs
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    else:
        raise SystemExit(f"unknown mode {mode}")
    print("done", mode, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)

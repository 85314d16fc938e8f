"""py_threads_ok.py: a correct threaded Python program that must pass every run in every mode.

What wedge does inside a CPython process must not show: it makes Python calls scheduling
points through a profile function (preload/python.c) and expires short timed waits early with
the clocks moved forward (preload/timeouts.c, serial virtual time).  So this program uses what
a service uses (threading.Lock, Condition with timeouts, Event, Semaphore, queue.Queue,
generators, exceptions across threads), checks its results, checks that no timed wait
returned before its timeout by time.monotonic(), and profiles one thread of its own with
sys.setprofile (its profiler must see its calls)."""
import queue
import sys
import threading
import time

THREADS = 6
ITEMS = 150

errors = []
counter = 0
counter_lock = threading.Lock()


def check(cond, what):
    if not cond:
        errors.append(what)


def timed_waits(me):
    cond = threading.Condition()
    for timeout in (0.001, 0.004, 0.02):
        t0 = time.monotonic()
        with cond:
            woke = cond.wait(timeout)  # nobody notifies: must time out, and not early
        t1 = time.monotonic()
        check(not woke, "thread %d: an unnotified wait returned True" % me)
        check(t1 - t0 >= timeout, "thread %d: wait(%g) returned after %g s" % (me, timeout, t1 - t0))
    ev = threading.Event()
    t0 = time.monotonic()
    check(not ev.wait(0.003), "thread %d: an unset event's wait returned True" % me)
    check(time.monotonic() - t0 >= 0.003, "thread %d: Event.wait returned early" % me)


def squares(n):
    for i in range(n):
        yield i * i


def worker(me, q, sem, out):
    global counter
    timed_waits(me)
    total = 0
    for v in squares(ITEMS):
        with counter_lock:
            counter += 1
        total += v
        if v % 7 == 0:
            try:
                raise ValueError(v)
            except ValueError as e:
                check(e.args[0] == v, "exception lost its argument")
    with sem:
        q.put((me, total))
    out[me] = total


def profiled(seen):
    def prof(frame, event, arg):
        if event == "call":
            seen.append(frame.f_code.co_name)
    sys.setprofile(prof)
    squares_sum = sum(squares(10))
    sys.setprofile(None)
    check(squares_sum == 285, "profiled thread computed %d" % squares_sum)


def main():
    q = queue.Queue()
    sem = threading.Semaphore(2)
    out = [None] * THREADS
    seen = []
    threads = [threading.Thread(target=worker, args=(i, q, sem, out)) for i in range(THREADS)]
    threads.append(threading.Thread(target=profiled, args=(seen,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    want = sum(i * i for i in range(ITEMS))
    got = sorted(q.get_nowait() for _ in range(THREADS))
    check(got == [(i, want) for i in range(THREADS)], "queue results %r" % got[:2])
    check(out == [want] * THREADS, "per-thread results")
    check(counter == THREADS * ITEMS, "counter %d of %d" % (counter, THREADS * ITEMS))
    check("squares" in seen, "the program's own profiler missed its calls: %r" % seen[:5])
    if errors:
        print("py_threads_ok.py: " + "; ".join(errors[:5]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""router_history.py: the history-list story as a Python service writes it ("the GIL covers
me").  24 threads each route 200 tasks and append each result to a shared history whose
append reads the length, calls a method (stamping the entry), and writes the slot and the new
length.  A GIL switch between the read and the write loses an entry.

Natively CPython 3.11 hands the GIL over only after a waiting thread's 5 ms timed wait expires,
and each thread's tasks take less than that: a plain rerun loop almost never fails.
With WEDGE_FIXED=1 in the environment, or --fixed, the append holds a threading.Lock (the
twin, router_history_fixed.py, must never fail)."""
import os
import sys
import threading

THREADS = 24
TASKS = 200
ROUTES = 16

FIXED = "--fixed" in sys.argv or os.environ.get("WEDGE_FIXED") == "1"


class History:
    def __init__(self, size):
        self.slots = [None] * size
        self.length = 0
        self.lock = threading.Lock()

    def stamp(self, entry):
        return (entry[0], entry[1], len(entry))

    def _append(self, entry):
        n = self.length
        stamped = self.stamp(entry)  # a method call between reading the length and writing
        self.slots[n] = stamped
        self.length = n + 1

    def append(self, entry):
        if FIXED:
            with self.lock:
                self._append(entry)
        else:
            self._append(entry)


table = {prefix: (prefix * 7) % ROUTES for prefix in range(ROUTES)}
table_lock = threading.Lock()
history = History(THREADS * TASKS)


def route(task):
    with table_lock:
        hop = table[task % ROUTES]
    return (task, hop)


def worker(me):
    for i in range(TASKS):
        history.append(route(me * TASKS + i))


def main():
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    want = THREADS * TASKS
    if history.length != want:
        print("router_history.py: history lost %d of %d entries" % (want - history.length, want))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

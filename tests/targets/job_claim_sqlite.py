"""job_claim_sqlite.py: the job-claim story as a Python worker behind a database writes it.
Worker processes (os.fork) claim rows of one SQLite file with the sqlite3 module:

    SELECT id FROM jobs WHERE claimed = 0 LIMIT 1       -- check
    UPDATE jobs SET claimed = 1 WHERE id = ?             -- act
    INSERT INTO charges(job, worker) VALUES (?, ?)       -- process

Each statement is its own transaction (autocommit), so another worker can select the same row
between a worker's SELECT and its UPDATE: the job is charged twice.  The parent checks the
charges table after the workers exit.  The busy timeout makes lock contention a retry.

With --fixed (the twin, job_claim_sqlite_fixed.py) the claim is one statement:
    UPDATE jobs SET claimed = 1 WHERE id = (SELECT ... LIMIT 1) AND claimed = 0 RETURNING id
(SQLite >= 3.35; Debian 12 has 3.40)."""
import os
import shutil
import sqlite3
import sys
import tempfile

WORKERS = 3
JOBS = 6
FIXED = "--fixed" in sys.argv


def connect(path):
    db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")  # durability is not what is tested
    return db


def claim(db):
    if FIXED:
        row = db.execute(
            "UPDATE jobs SET claimed = 1 WHERE id = "
            "(SELECT id FROM jobs WHERE claimed = 0 LIMIT 1) AND claimed = 0 RETURNING id"
        ).fetchone()
        return row[0] if row else None
    row = db.execute("SELECT id FROM jobs WHERE claimed = 0 LIMIT 1").fetchone()
    if row is None:
        return None
    db.execute("UPDATE jobs SET claimed = 1 WHERE id = ?", (row[0],))
    return row[0]


def worker(path, me):
    db = connect(path)
    while True:
        job = claim(db)
        if job is None:
            break
        db.execute("INSERT INTO charges(job, worker) VALUES (?, ?)", (job, me))
    db.close()


def main():
    tmp = tempfile.mkdtemp(prefix="job_claim_sqlite_py.")
    path = os.path.join(tmp, "jobs.db")
    try:
        db = connect(path)
        db.execute("CREATE TABLE jobs(id INTEGER PRIMARY KEY, claimed INTEGER NOT NULL)")
        db.execute("CREATE TABLE charges(job INTEGER NOT NULL, worker INTEGER NOT NULL)")
        db.executemany("INSERT INTO jobs VALUES (?, 0)", [(i,) for i in range(JOBS)])
        db.close()  # never carry an open connection across fork
        pids = []
        for w in range(WORKERS):
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    worker(path, w)
                except Exception as e:  # a worker that fails says why, and the run fails
                    print("job_claim_sqlite.py: worker %d: %s" % (w, e))
                    code = 2
                os._exit(code)
            pids.append(pid)
        bad = 0
        for pid in pids:
            _, status = os.waitpid(pid, 0)
            bad |= status != 0
        db = connect(path)
        rows = db.execute("SELECT job, COUNT(*) FROM charges GROUP BY job").fetchall()
        charges = dict(rows)
        db.close()
        for job in range(JOBS):
            if charges.get(job, 0) != 1:
                print("job_claim_sqlite.py: duplicate charge: job %d charged %d times"
                      % (job, charges.get(job, 0)))
                return 1
        return 2 if bad else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

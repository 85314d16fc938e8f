/* job_claim_sqlite: worker processes (fork) claim rows of one SQLite database file.
 *
 *   SELECT id FROM jobs WHERE claimed = 0 LIMIT 1;      -- fetch
 *   UPDATE jobs SET claimed = 1 WHERE id = ?;            -- claim
 *   INSERT INTO charges(job, worker) VALUES (?, ?);      -- process
 *
 * Each statement is its own transaction, so another process can select the same row between a
 * worker's SELECT and its UPDATE: the job is charged twice.  The parent checks the charges
 * table after all workers exited.  A busy timeout makes lock contention a retry, not a failure.
 *
 * WEDGE_FIXED: UPDATE ... WHERE id = ? AND claimed = 0 RETURNING id, and process only when a
 * row came back (SQLite >= 3.35).
 *
 * Usage: job_claim_sqlite [DB_PATH]; without a path a private mkdtemp directory is used and
 * removed afterwards. */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 3
#define JOBS 6

static const char *prog = "job_claim_sqlite";

static sqlite3 *open_db(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "%s: cannot open %s: %s\n", prog, path, db ? sqlite3_errmsg(db) : "?");
        exit(2);
    }
    sqlite3_busy_timeout(db, 10000);
    /* Durability is not what is tested; fsync per commit would make a run take 100 ms. */
    sqlite3_exec(db, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
    return db;
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "%s: %s: %s\n", prog, sql, err ? err : "?");
        exit(2);
    }
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: prepare %s: %s\n", prog, sql, sqlite3_errmsg(db));
        exit(2);
    }
    return st;
}

/* Step a statement to completion of its first row; dies on anything but a row or done. */
static int step(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fprintf(stderr, "%s: step: %s\n", prog, sqlite3_errmsg(db));
        exit(2);
    }
    return rc;
}

static void worker(const char *path, int me)
{
    sqlite3 *db = open_db(path);
    sqlite3_stmt *fetch = prepare(db, "SELECT id FROM jobs WHERE claimed = 0 LIMIT 1");
#ifdef WEDGE_FIXED
    sqlite3_stmt *claim =
        prepare(db, "UPDATE jobs SET claimed = 1 WHERE id = ? AND claimed = 0 RETURNING id");
#else
    sqlite3_stmt *claim = prepare(db, "UPDATE jobs SET claimed = 1 WHERE id = ?");
#endif
    sqlite3_stmt *charge = prepare(db, "INSERT INTO charges(job, worker) VALUES (?, ?)");
    for (;;) {
        sqlite3_reset(fetch);
        if (step(db, fetch) != SQLITE_ROW)
            break;
        int id = sqlite3_column_int(fetch, 0);
        sqlite3_reset(fetch); /* end the read transaction, as a separate request would */

        sqlite3_reset(claim);
        sqlite3_bind_int(claim, 1, id);
        int got = step(db, claim);
#ifdef WEDGE_FIXED
        int won = got == SQLITE_ROW;
        while (got == SQLITE_ROW)
            got = step(db, claim);
        if (!won)
            continue; /* another worker claimed it first */
#else
        (void)got;
#endif
        sqlite3_reset(charge);
        sqlite3_bind_int(charge, 1, id);
        sqlite3_bind_int(charge, 2, me);
        step(db, charge);
    }
    sqlite3_finalize(fetch);
    sqlite3_finalize(claim);
    sqlite3_finalize(charge);
    sqlite3_close(db);
}

int main(int argc, char **argv)
{
    /* Under $TMPDIR when set: a run killed as a hang cannot clean up, and a test can then
     * remove its whole temporary directory instead. */
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/job_claim_sqlite.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char path[4200];
    int own_dir = argc < 2;
    if (own_dir) {
        if (!mkdtemp(dir)) {
            perror("job_claim_sqlite: mkdtemp");
            return 2;
        }
        snprintf(path, sizeof path, "%s/jobs.db", dir);
    } else {
        snprintf(path, sizeof path, "%s", argv[1]);
        unlink(path);
    }

    sqlite3 *db = open_db(path);
    exec_or_die(db, "CREATE TABLE jobs(id INTEGER PRIMARY KEY, claimed INTEGER NOT NULL DEFAULT 0);"
                    "CREATE TABLE charges(job INTEGER NOT NULL, worker INTEGER NOT NULL);");
    exec_or_die(db, "BEGIN");
    for (int i = 1; i <= JOBS; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "INSERT INTO jobs(id) VALUES (%d)", i);
        exec_or_die(db, sql);
    }
    exec_or_die(db, "COMMIT");
    sqlite3_close(db); /* never carry an open connection across fork */

    pid_t pids[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        pids[w] = fork();
        if (pids[w] < 0) {
            perror("job_claim_sqlite: fork");
            return 2;
        }
        if (pids[w] == 0) {
            worker(path, w);
            _exit(0);
        }
    }
    int workers_failed = 0;
    for (int w = 0; w < WORKERS; w++) {
        int st = 0;
        if (waitpid(pids[w], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            workers_failed++;
    }

    db = open_db(path);
    sqlite3_stmt *q = prepare(db, "SELECT job, COUNT(*) FROM charges GROUP BY job HAVING COUNT(*) > 1 "
                                  "ORDER BY job LIMIT 1");
    int dup_job = 0, dup_count = 0;
    if (step(db, q) == SQLITE_ROW) {
        dup_job = sqlite3_column_int(q, 0);
        dup_count = sqlite3_column_int(q, 1);
    }
    sqlite3_finalize(q);
    q = prepare(db, "SELECT COUNT(DISTINCT job) FROM charges");
    step(db, q);
    int distinct = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);

    if (own_dir) {
        char side[4300];
        unlink(path);
        snprintf(side, sizeof side, "%s-journal", path);
        unlink(side);
        rmdir(dir);
    }
    if (workers_failed) {
        fprintf(stderr, "%s: %d worker(s) failed\n", prog, workers_failed);
        return 2;
    }
    if (dup_job) {
        printf("%s: duplicate charge: job %d charged %d times\n", prog, dup_job, dup_count);
        return 1;
    }
    if (distinct != JOBS) {
        printf("%s: only %d of %d jobs charged\n", prog, distinct, JOBS);
        return 1;
    }
    return 0;
}

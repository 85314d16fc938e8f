/* job_claim: worker threads claim jobs from a shared table.  Each worker fetches a job, checks
 * `claimed`, writes an audit line to a mutex-protected log, then sets `claimed` and processes
 * (charges) the job.  Two workers between the check and the set charge one job twice.
 *
 * Natively the first worker usually claims every job before the next one has started.
 * WEDGE_FIXED: the claim is one compare-and-swap; the loser skips the job. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKERS 4
#define JOBS 6

struct job {
    unsigned id;
#ifdef WEDGE_FIXED
    atomic_int claimed;
#else
    int claimed;
#endif
    atomic_int charges;
};

static struct job jobs[JOBS];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* The audit log keeps (worker, job) pairs: cheap, so that natively a worker's whole batch is
 * short and the workers rarely overlap. */
static struct { unsigned worker, job; } audit[WORKERS * JOBS];
static unsigned audit_len;

static void audit_log(unsigned worker, unsigned job)
{
    pthread_mutex_lock(&log_lock);
    if (audit_len < WORKERS * JOBS) {
        audit[audit_len].worker = worker;
        audit[audit_len].job = job;
        audit_len++;
    }
    pthread_mutex_unlock(&log_lock);
}

static int claim(struct job *j)
{
#ifdef WEDGE_FIXED
    int expected = 0;
    return atomic_compare_exchange_strong(&j->claimed, &expected, 1);
#else
    if (j->claimed)
        return 0;
    return 1; /* the caller sets claimed after logging: the check-then-act window */
#endif
}

static void *worker(void *arg)
{
    unsigned me = (unsigned)(size_t)arg;
    for (unsigned i = 0; i < JOBS; i++) {
        struct job *j = &jobs[i];
        if (!claim(j)) /* WEDGE-LINE: claimed_check (the inlined load of claimed is on this line in the line table) */
            continue;
        audit_log(me, j->id);
#ifndef WEDGE_FIXED
        j->claimed = 1; /* WEDGE-LINE: claimed_set */
#endif
        atomic_fetch_add(&j->charges, 1); /* process: charge the customer */
    }
    return NULL;
}

int main(void)
{
    for (unsigned i = 0; i < JOBS; i++)
        jobs[i].id = i;
    pthread_t th[WORKERS];
    for (unsigned i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(size_t)i);
    for (unsigned i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    for (unsigned i = 0; i < JOBS; i++) {
        int c = atomic_load(&jobs[i].charges);
        if (c != 1) {
            printf("job_claim: duplicate charge: job %u processed %d times\n", i, c);
            return 1;
        }
    }
    return 0;
}

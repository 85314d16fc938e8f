/* router_history: ~24 threads each route a short batch of distinct tasks and append each
 * result to a shared history with an unlocked read-modify-write of the length:
 *
 *     n = hist.len; hist.slot[n] = x; hist.len = n + 1;
 *
 * Two threads inside that window at once lose one entry.  The window is a few instructions and
 * each thread's batch is short, so natively threads rarely overlap and a plain rerun loop almost
 * never fails; delays injected at the sync points (thread start, the routing table's mutex,
 * malloc) make the batches overlap.
 *
 * Built twice: with WEDGE_FIXED the append is done under a mutex (the twin must never fail). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 24
#define TASKS 2
#define ROUTES 16

struct route { unsigned prefix; unsigned hop; };

static struct route table[ROUTES];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
    unsigned len;
    unsigned slot[THREADS * TASKS];
} hist;
#ifdef WEDGE_FIXED
static pthread_mutex_t hist_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

struct record { unsigned task; unsigned hop; };

/* The "routing" work: a lookup in the shared table under its lock, and a malloc'd record, as a
 * real router would allocate a result before publishing it. */
static unsigned route_task(unsigned task)
{
    unsigned hop = 0;
    pthread_mutex_lock(&table_lock);
    for (unsigned i = 0; i < ROUTES; i++)
        if (table[i].prefix == (task % ROUTES)) {
            hop = table[i].hop;
            break;
        }
    pthread_mutex_unlock(&table_lock);
    struct record *r = malloc(sizeof *r);
    if (!r)
        abort();
    r->task = task;
    r->hop = hop;
    unsigned x = r->task;
    free(r);
    return x;
}

static void append(unsigned x)
{
#ifdef WEDGE_FIXED
    pthread_mutex_lock(&hist_lock);
#endif
    /* No call between the read of len and the store of len: the whole bug is this window. */
    unsigned n = hist.len; /* WEDGE-LINE: len_read */
    hist.slot[n] = x;
    hist.len = n + 1; /* WEDGE-LINE: len_write */
#ifdef WEDGE_FIXED
    pthread_mutex_unlock(&hist_lock);
#endif
}

static void *router(void *arg)
{
    unsigned id = (unsigned)(size_t)arg;
    for (unsigned t = 0; t < TASKS; t++)
        append(route_task(id * TASKS + t));
    return NULL;
}

int main(void)
{
    for (unsigned i = 0; i < ROUTES; i++) {
        table[i].prefix = i;
        table[i].hop = 100 + i;
    }
    pthread_t th[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, router, (void *)(size_t)i) != 0) {
            fprintf(stderr, "router_history: pthread_create failed\n");
            return 2;
        }
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);

    /* The counting check: every task routed exactly once. */
    unsigned char seen[THREADS * TASKS];
    memset(seen, 0, sizeof seen);
    unsigned len = hist.len;
    for (unsigned i = 0; i < len && i < THREADS * TASKS; i++)
        if (hist.slot[i] < THREADS * TASKS)
            seen[hist.slot[i]]++;
    unsigned missing = 0, dup = 0;
    for (unsigned i = 0; i < THREADS * TASKS; i++) {
        missing += seen[i] == 0;
        dup += seen[i] > 1;
    }
    if (len != THREADS * TASKS || missing || dup) {
        printf("router_history: lost history entries: len %u != %u (%u tasks missing, %u twice)\n",
               len, THREADS * TASKS, missing, dup);
        return 1;
    }
    return 0;
}

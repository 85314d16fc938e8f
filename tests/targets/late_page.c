/* late_page: the racy object is one of many shared ones, and the last to be shared.
 *
 * A service keeps NOBJ small records (a cache's entries, say), each allocated on its own and
 * updated by both workers under one lock, and one tally, allocated last, that each worker
 * bumps once at the end without the lock: `n = t->count; t->count = n + 1`.  Both bumps must
 * count.  The window has no call in it, so only a watched access can split it, and the
 * tally's page is shared after every record's page: a run that watches the first pages it
 * sees shared (at most eight) never watches it.
 *
 * WEDGE_FIXED: the tally is bumped under the lock. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NOBJ 24
#define ROUNDS 3

struct record {
    long hits;
    long last;
};

struct tally {
    volatile long count; /* one load and one store, as written (not one add to memory) */
};

static struct record *records[NOBJ];
static struct tally *tally;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    long id = (long)arg;
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < NOBJ; i++) {
            pthread_mutex_lock(&lock);
            records[i]->hits++;
            records[i]->last = id;
            pthread_mutex_unlock(&lock);
        }
#ifdef WEDGE_FIXED
    pthread_mutex_lock(&lock);
#endif
    long n = tally->count;
    tally->count = n + 1;
#ifdef WEDGE_FIXED
    pthread_mutex_unlock(&lock);
#endif
    return NULL;
}

int main(void)
{
    for (int i = 0; i < NOBJ; i++) {
        records[i] = calloc(1, sizeof *records[i]);
        if (!records[i])
            return 2;
    }
    tally = calloc(1, sizeof *tally);
    if (!tally)
        return 2;
    pthread_t t[2];
    for (long k = 0; k < 2; k++)
        pthread_create(&t[k], NULL, worker, (void *)(k + 1));
    for (int k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    long hits = 0;
    for (int i = 0; i < NOBJ; i++)
        hits += records[i]->hits;
    if (hits != 2L * ROUNDS * NOBJ || tally->count != 2) {
        printf("late_page: tally %ld of 2 (records %ld of %ld)\n", tally->count, hits,
               2L * ROUNDS * NOBJ);
        return 1;
    }
    return 0;
}

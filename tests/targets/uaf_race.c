/* uaf_race - a use-after-free through check-then-use (build with -fsanitize=address).
 *
 * A small server: workers look a connection up in a table and, after taking the stats lock
 * to count the request, read from it; a reaper closes an idle connection (table slot set to
 * NULL, then freed).  The worker's lookup and its use are not under the table lock: when the
 * reaper frees the connection in between, the worker reads freed memory.  Natively the
 * window (the stats lock round trip) is a few percent of a request's time and the reaper
 * closes once, so it fails rarely; ASan turns the stale read into a report.
 *
 * WEDGE_FIXED: the worker holds the table lock from the lookup to the use.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NCONN 4
#define NWORKERS 3
#define REQUESTS 60

struct conn {
    int fd;
    long bytes;
};

static struct conn *table[NCONN];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static long served, total;

/* Parsing a request: work outside the window, so that natively the window is small. */
static long parse(int k)
{
    volatile long h = k;
    for (int i = 0; i < 4000; i++)
        h = h * 31 + i;
    return h;
}

static void *worker(void *arg)
{
    long id = (long)arg;
    for (int r = 0; r < REQUESTS; r++) {
        int k = (int)((id + r) % NCONN);
        parse(k);
#ifdef WEDGE_FIXED
        pthread_mutex_lock(&table_lock);
#endif
        struct conn *c = table[k]; /* check */
        if (c) {
            pthread_mutex_lock(&stats_lock);
            served++;
            pthread_mutex_unlock(&stats_lock);
            long b = c->bytes; /* use: freed meanwhile by the reaper */
            pthread_mutex_lock(&stats_lock);
            total += b;
            pthread_mutex_unlock(&stats_lock);
        }
#ifdef WEDGE_FIXED
        pthread_mutex_unlock(&table_lock);
#endif
    }
    return NULL;
}

static void *reaper(void *arg)
{
    (void)arg;
    parse(0);
    pthread_mutex_lock(&table_lock);
    struct conn *c = table[1];
    table[1] = NULL;
    pthread_mutex_unlock(&table_lock);
    free(c); /* close the idle connection */
    return NULL;
}

int main(void)
{
    for (int i = 0; i < NCONN; i++) {
        table[i] = malloc(sizeof *table[i]);
        table[i]->fd = 3 + i;
        table[i]->bytes = 100 * (i + 1);
    }
    pthread_t w[NWORKERS], r;
    for (long i = 0; i < NWORKERS; i++)
        pthread_create(&w[i], NULL, worker, (void *)i);
    pthread_create(&r, NULL, reaper, NULL);
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(w[i], NULL);
    pthread_join(r, NULL);
    printf("served %ld requests, %ld bytes\n", served, total);
    for (int i = 0; i < NCONN; i++)
        free(table[i]);
    return 0;
}

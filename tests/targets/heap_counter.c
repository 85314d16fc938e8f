/* heap_counter: two threads count into one statistics block on the heap with a plain `++`
 * (load, add, store).  The block comes from make_stats(); a conclusion names it as a heap
 * block by that allocation site and the offset of the field (`hits` is at offset 8), since
 * no variable holds the counter.  Few iterations: natively the second thread starts after
 * the first is done.
 *
 * WEDGE_FIXED: an atomic add. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define ITERS 200

struct stats {
    unsigned long requests;
#ifdef WEDGE_FIXED
    atomic_uint hits;
#else
    volatile unsigned hits; /* one load and one store per increment, as written */
#endif
    unsigned misses;
};

static struct stats *make_stats(void)
{
    struct stats *s = calloc(1, sizeof *s); /* WEDGE-LINE: stats_alloc */
    if (!s)
        abort();
    return s;
}

static void *count(void *arg)
{
    struct stats *s = arg;
    for (unsigned i = 0; i < ITERS; i++) {
#ifdef WEDGE_FIXED
        atomic_fetch_add(&s->hits, 1);
#else
        s->hits++; /* WEDGE-LINE: hits_rmw */
#endif
    }
    return NULL;
}

int main(void)
{
    struct stats *s = make_stats();
    pthread_t a, b;
    pthread_create(&a, NULL, count, s);
    pthread_create(&b, NULL, count, s);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    unsigned total = s->hits;
    free(s);
    if (total != 2 * ITERS) {
        printf("heap_counter: lost %u increments: hits %u != %u\n", 2 * ITERS - total, total,
               2 * ITERS);
        return 1;
    }
    return 0;
}

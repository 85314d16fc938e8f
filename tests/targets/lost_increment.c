/* lost_increment: two threads increment one shared global counter with a plain `counter++`
 * (load, add, store; nothing in between).  An increment is lost when the other thread stores
 * between one thread's load and its store.  Few iterations: natively the second thread starts
 * after the first is done, so a plain rerun almost never fails; a scheduler that preempts
 * between the trapped read and the write makes it fail.
 *
 * WEDGE_FIXED: an atomic add. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define ITERS 200

#ifdef WEDGE_FIXED
static atomic_uint counter;
#else
/* volatile: one load and one store per iteration, as written (no hoisting out of the loop) */
static volatile unsigned counter;
#endif

static void *bump(void *arg)
{
    for (unsigned i = 0; i < ITERS; i++) {
#ifdef WEDGE_FIXED
        atomic_fetch_add(&counter, 1);
#else
        counter++; /* WEDGE-LINE: counter_rmw */
#endif
    }
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, bump, NULL);
    pthread_create(&b, NULL, bump, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    unsigned total = counter;
    if (total != 2 * ITERS) {
        printf("lost_increment: lost %u increments: counter %u != %u\n", 2 * ITERS - total, total,
               2 * ITERS);
        return 1;
    }
    return 0;
}

/* many_threads_ok: N threads (default 300; argv[1]) alive at once.  All meet at a barrier,
 * then wait on a condition variable until the last one arrives and broadcasts, then add to a
 * counter under a mutex.  Correct: must never fail, deadlock or hang in any mode. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_barrier_t barrier;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_here = PTHREAD_COND_INITIALIZER;
static unsigned nthreads, arrived;
static unsigned long sum;

static void *worker(void *arg)
{
    unsigned me = (unsigned)(size_t)arg;
    pthread_barrier_wait(&barrier);
    pthread_mutex_lock(&m);
    if (++arrived == nthreads)
        pthread_cond_broadcast(&all_here);
    while (arrived < nthreads)
        pthread_cond_wait(&all_here, &m);
    sum += me + 1;
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(int argc, char **argv)
{
    nthreads = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 300;
    pthread_t *th = calloc(nthreads, sizeof *th);
    if (!th || !nthreads)
        return 2;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    /* the barrier holds every thread until the last one exists: all alive at once */
    pthread_barrier_init(&barrier, NULL, nthreads);
    for (unsigned i = 0; i < nthreads; i++) {
        int r = pthread_create(&th[i], &a, worker, (void *)(size_t)i);
        if (r) {
            printf("many_threads_ok: pthread_create of thread %u: %s\n", i + 1, strerror(r));
            return 1;
        }
    }
    for (unsigned i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    unsigned long want = (unsigned long)nthreads * (nthreads + 1) / 2;
    if (sum != want) {
        printf("many_threads_ok: sum %lu, expected %lu\n", sum, want);
        return 1;
    }
    return 0;
}

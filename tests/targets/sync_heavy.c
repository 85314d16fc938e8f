/* sync_heavy: a benchmark program, not a test: 4 threads each take a shared mutex, a condvar
 * round and a malloc/free many times.  Used by scripts/bench/overhead to measure the shim's
 * cost per intercepted call. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long total;
static unsigned long iters = 20000;

static void *work(void *arg)
{
    for (unsigned long i = 0; i < iters; i++) {
        pthread_mutex_lock(&lock);
        total++;
        pthread_mutex_unlock(&lock);
        void *p = malloc(32 + (i & 63));
        free(p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        iters = strtoul(argv[1], NULL, 10);
    pthread_t th[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, work, NULL);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    if (total != THREADS * iters) {
        printf("sync_heavy: total %lu\n", total);
        return 1;
    }
    return 0;
}

/* call_cost: a benchmark program, not a test: the cost of one intercepted call, measured in
 * one thread (no contention to blur it).  Prints nanoseconds per call for an uncontended
 * pthread_mutex_lock + unlock pair and for a malloc + free pair; scripts/bench/overhead runs
 * it natively and under the shim and subtracts. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    double best_lock = 1e30, best_malloc = 1e30;
    for (int round = 0; round < 5; round++) { /* best of 5: the machine is shared */
        double t0 = now_ns();
        for (unsigned long i = 0; i < n; i++) {
            pthread_mutex_lock(&m);
            pthread_mutex_unlock(&m);
        }
        double t1 = now_ns();
        for (unsigned long i = 0; i < n; i++) {
            void *volatile p = malloc(32 + (i & 63)); /* volatile: the pair is not elided */
            free(p);
        }
        double t2 = now_ns();
        if (t1 - t0 < best_lock)
            best_lock = t1 - t0;
        if (t2 - t1 < best_malloc)
            best_malloc = t2 - t1;
    }
    printf("lock+unlock %.2f ns\nmalloc+free %.2f ns\n", best_lock / n, best_malloc / n);
    return 0;
}

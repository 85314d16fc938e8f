/* futex_mutex_ok: four threads increment a counter under a futex mutex of the program's own
 * (futex_lock.h).  Correct: must pass every run in every mode.  Exercises the modeled
 * FUTEX_WAIT / FUTEX_WAKE (serial mode) and the futex interception points (noise mode). */
#include <pthread.h>
#include <stdio.h>

#include "futex_lock.h"

#define THREADS 4
#define ROUNDS 2000

static struct fmutex lock;
static unsigned long counter;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        fmutex_lock(&lock);
        unsigned long v = counter;
        if ((i & 63) == 0)
            sched_yield(); /* hold the lock across a switch now and then: contention */
        counter = v + 1;
        fmutex_unlock(&lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    if (counter != (unsigned long)THREADS * ROUNDS) {
        printf("futex_mutex_ok: counter %lu, expected %d\n", counter, THREADS * ROUNDS);
        return 1;
    }
    return 0;
}

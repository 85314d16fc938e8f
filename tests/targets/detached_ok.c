/* detached_ok: detached threads do their work and signal main through a semaphore; main
 * never joins them.  Correct in every mode. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define THREADS 8

static sem_t done;
static unsigned results[THREADS];

static void *job(void *arg)
{
    unsigned me = (unsigned)(size_t)arg;
    unsigned v = 0;
    for (unsigned i = 0; i <= me * 10; i++)
        v += i;
    results[me] = v;
    sem_post(&done); /* the last thing the thread touches */
    return NULL;
}

int main(void)
{
    sem_init(&done, 0, 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (unsigned i = 0; i < THREADS; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, job, (void *)(size_t)i) != 0) {
            printf("detached_ok: pthread_create failed\n");
            return 1;
        }
    }
    pthread_attr_destroy(&attr);
    for (unsigned i = 0; i < THREADS; i++)
        sem_wait(&done);
    for (unsigned i = 0; i < THREADS; i++) {
        unsigned n = i * 10;
        if (results[i] != n * (n + 1) / 2) {
            printf("detached_ok: thread %u result %u\n", i, results[i]);
            return 1;
        }
    }
    return 0;
}

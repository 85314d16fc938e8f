/* double_free_race - a double free through check-then-act (build with -fsanitize=address).
 *
 * Speculative execution: two workers compute the same jobs in the same order, and whichever
 * finishes a job first releases its result buffer: "if the job still has its buffer, log,
 * free it, clear the pointer".  Two workers that both pass the check before either clears
 * the pointer free it twice.  Natively they are rarely within the window (a logging lock
 * round trip) of each other at the same job; ASan reports the second free.
 *
 * WEDGE_FIXED: the buffer is taken (pointer read and cleared) under the job's lock, then
 * freed outside it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NJOBS 6
#define NFINISHERS 2

struct job {
    char *buf;
    pthread_mutex_t lock;
};

static struct job jobs[NJOBS];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static long released;

static void work(int k)
{
    volatile long h = k;
    for (int i = 0; i < 20000; i++)
        h = h * 33 + i;
}

static void release(struct job *j)
{
#ifdef WEDGE_FIXED
    pthread_mutex_lock(&j->lock);
    char *b = j->buf;
    j->buf = NULL;
    pthread_mutex_unlock(&j->lock);
    if (b) {
        pthread_mutex_lock(&log_lock);
        released++;
        pthread_mutex_unlock(&log_lock);
        free(b);
    }
#else
    char *b = j->buf;
    if (b) { /* check */
        pthread_mutex_lock(&log_lock);
        released++;
        pthread_mutex_unlock(&log_lock);
        free(b); /* act: the other worker may have freed it already */
        j->buf = NULL;
    }
#endif
}

static void *finisher(void *arg)
{
    long id = (long)arg;
    for (int k = 0; k < NJOBS; k++) {
        work(k + (int)id * 7);
        release(&jobs[k]);
    }
    return NULL;
}

int main(void)
{
    for (int k = 0; k < NJOBS; k++) {
        jobs[k].buf = malloc(64);
        pthread_mutex_init(&jobs[k].lock, NULL);
    }
    pthread_t t[NFINISHERS];
    for (long i = 0; i < NFINISHERS; i++)
        pthread_create(&t[i], NULL, finisher, (void *)i);
    for (int i = 0; i < NFINISHERS; i++)
        pthread_join(t[i], NULL);
    printf("released %ld buffers\n", released);
    return 0;
}

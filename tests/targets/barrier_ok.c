/* barrier_ok: several phases separated by pthread_barrier_wait.  In each phase every thread
 * writes its own slot, then after the barrier reads its neighbour's slot of that phase.
 * Correct: must never fail or deadlock in any mode. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 4
#define PHASES 6

static pthread_barrier_t barrier;
static unsigned slot[PHASES][THREADS];
static int wrong;
static pthread_mutex_t wrong_lock = PTHREAD_MUTEX_INITIALIZER;

static void *phase_worker(void *arg)
{
    unsigned me = (unsigned)(size_t)arg;
    for (unsigned ph = 0; ph < PHASES; ph++) {
        slot[ph][me] = ph * 100 + me + 1;
        pthread_barrier_wait(&barrier);
        unsigned nb = (me + 1) % THREADS;
        if (slot[ph][nb] != ph * 100 + nb + 1) {
            pthread_mutex_lock(&wrong_lock);
            wrong++;
            pthread_mutex_unlock(&wrong_lock);
        }
        /* second barrier: nobody starts the next phase while a neighbour still reads */
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

int main(void)
{
    pthread_barrier_init(&barrier, NULL, THREADS);
    pthread_t th[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, phase_worker, (void *)(size_t)i);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    if (wrong) {
        printf("barrier_ok: %d reads saw a neighbour's slot before the barrier\n", wrong);
        return 1;
    }
    return 0;
}

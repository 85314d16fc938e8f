/* pipeline_hold [N]: N workers (default 100) each check in and compute an item (stage 1),
 * then deliver it to a shared queue (stage 2).  The worker that checked in last closes the
 * queue after its delivery, believing everyone else done: but the last to check in need not
 * be the last to deliver.  A worker stopped between its two stages while the others pass
 * both delivers to a closed queue, and the run fails (one thread held back while many run).
 *
 * WEDGE_FIXED: the queue closes when all N workers have delivered. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define MAXW 1000

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int nworkers, checked_in, delivered, closed, late = -1;
static int input[MAXW], queue[MAXW], qlen;

static void *worker(void *arg)
{
    int id = (int)(size_t)arg;
    /* stage 1: check in, compute from the shared input */
    pthread_mutex_lock(&m);
    int ticket = checked_in++;
    int item = input[id] * 2 + 1;
    pthread_mutex_unlock(&m);
    /* stage 2: deliver; the last to check in closes the queue */
    pthread_mutex_lock(&m);
    if (closed && late < 0)
        late = id;
    queue[qlen++] = item;
    delivered++;
#ifdef WEDGE_FIXED
    (void)ticket;
    if (delivered == nworkers)
        closed = 1;
#else
    if (ticket == nworkers - 1)
        closed = 1;
#endif
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(int argc, char **argv)
{
    nworkers = argc > 1 ? atoi(argv[1]) : 100;
    if (nworkers < 2 || nworkers > MAXW) {
        fprintf(stderr, "usage: pipeline_hold [N workers, 2..%d]\n", MAXW);
        return 2;
    }
    for (int i = 0; i < nworkers; i++)
        input[i] = i;
    pthread_t t[MAXW];
    for (int i = 0; i < nworkers; i++)
        pthread_create(&t[i], NULL, worker, (void *)(size_t)i);
    for (int i = 0; i < nworkers; i++)
        pthread_join(t[i], NULL);
    if (late >= 0) {
        printf("pipeline_hold: worker %d delivered after the queue was closed\n", late);
        return 1;
    }
    return 0;
}

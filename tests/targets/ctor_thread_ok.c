/* ctor_thread_ok: a constructor starts a worker thread before main (a logging or pool thread
 * of some library); main hands it work and joins it.  Correct: it must pass every run.  A fork
 * server cannot serve it (a fork at main would copy only the main thread): wedge must fall
 * back to one exec per run and say so once. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int work, done;
static pthread_t worker_thread;

static void *worker(void *arg)
{
    pthread_mutex_lock(&lock);
    while (!work)
        pthread_cond_wait(&cond, &lock);
    done = work * 2;
    pthread_mutex_unlock(&lock);
    return NULL;
}

__attribute__((constructor)) static void start_worker(void)
{
    pthread_create(&worker_thread, NULL, worker, NULL);
}

int main(void)
{
    pthread_mutex_lock(&lock);
    work = 21;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    pthread_join(worker_thread, NULL);
    if (done != 42) {
        printf("ctor_thread_ok: worker answered %d\n", done);
        return 1;
    }
    return 0;
}

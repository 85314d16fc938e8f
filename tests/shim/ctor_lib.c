/* A library whose constructor uses threads, locks and the heap before main, and before or
 * after the shim's own constructor: the shim must cope either way (lazy init). */
#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
int ctor_lib_count;

static void *worker(void *arg)
{
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&lock);
        ctor_lib_count++;
        pthread_mutex_unlock(&lock);
        free(malloc(64));
    }
    return arg;
}

__attribute__((constructor)) static void ctor_lib_init(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
}

/* once_ok: many threads race to initialize through pthread_once; the initializer must run
 * exactly once and every thread must see its result.  Correct in every mode. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 16

static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int inits;
static int *config;
static atomic_int bad_reads;

static void init_config(void)
{
    atomic_fetch_add(&inits, 1);
    int *c = malloc(4 * sizeof *c);
    if (!c)
        abort();
    for (int i = 0; i < 4; i++)
        c[i] = 7 * (i + 1);
    config = c;
}

static void *user(void *arg)
{
    pthread_once(&once, init_config);
    if (!config || config[3] != 28)
        atomic_fetch_add(&bad_reads, 1);
    return NULL;
}

int main(void)
{
    pthread_t th[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, user, NULL);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    if (atomic_load(&inits) != 1 || atomic_load(&bad_reads)) {
        printf("once_ok: initializer ran %d times, %d threads saw no config\n",
               atomic_load(&inits), atomic_load(&bad_reads));
        return 1;
    }
    free(config);
    return 0;
}

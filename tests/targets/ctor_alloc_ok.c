/* ctor_alloc_ok: a constructor allocates and fills a table before main (a registry set up at
 * load time); two threads then read it under a mutex.  Correct: it must pass every run.  Its
 * constructor's malloc is a scheduling point in a serial run of its own, so a fork server,
 * which runs constructors once, serves its noise runs only. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int *table;
static long sum;

__attribute__((constructor)) static void fill_table(void)
{
    table = malloc(16 * sizeof *table);
    for (int i = 0; i < 16; i++)
        table[i] = i;
}

static void *reader(void *arg)
{
    for (int i = 0; i < 16; i++) {
        pthread_mutex_lock(&lock);
        sum += table[i];
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, reader, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    if (sum != 2 * 120) {
        printf("ctor_alloc_ok: sum %ld\n", sum);
        return 1;
    }
    return 0;
}

/* main_exits_early_ok: main returns while its threads still run (they loop on a mutex and
 * short sleeps forever).  Returning from main ends the process: it must exit 0 in every mode,
 * and a scheduler must not keep the process alive or hang it. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define THREADS 3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long ticks;

static void *forever(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&lock);
        ticks++;
        pthread_mutex_unlock(&lock);
        usleep(200);
    }
    return NULL;
}

int main(void)
{
    for (unsigned i = 0; i < THREADS; i++) {
        pthread_t t;
        pthread_create(&t, NULL, forever, NULL);
    }
    usleep(2000);
    pthread_mutex_lock(&lock);
    unsigned long seen = ticks;
    pthread_mutex_unlock(&lock);
    printf("main_exits_early_ok: leaving with threads running (%s)\n", seen ? "ticking" : "started");
    return 0;
}

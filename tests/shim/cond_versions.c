/* Condition variables through the symbols programs are linked against (GLIBC_2.3.2):
 * wait, timedwait (with a timeout that expires), signal and broadcast. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ready, consumed;

static void *consumer(void *arg)
{
    pthread_mutex_lock(&lock);
    while (!ready)
        pthread_cond_wait(&cond, &lock);
    consumed++;
    pthread_mutex_unlock(&lock);
    return arg;
}

int main(void)
{
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, consumer, NULL);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000 * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&lock);
    int r = 0;
    while (r == 0) /* nobody signals before the deadline; loop over spurious wake-ups */
        r = pthread_cond_timedwait(&cond, &lock, &ts);
    ready = 1;
    pthread_cond_signal(&cond);
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    if (r != ETIMEDOUT || consumed != 3) {
        printf("timedwait returned %d, consumed %d\n", r, consumed);
        return 1;
    }
    return 0;
}

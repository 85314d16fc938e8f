/* futex_cond_ok: a bounded queue between two producers and two consumers, guarded by a futex
 * mutex and two futex condition variables of the program's own (futex_lock.h): untimed waits,
 * timed waits (FUTEX_WAIT_BITSET with a CLOCK_MONOTONIC deadline, 2 ms, re-checked after a
 * timeout), signal (FUTEX_WAKE) and broadcast (FUTEX_CMP_REQUEUE).  Correct: every item is
 * consumed exactly once; must pass every run in every mode. */
#include <pthread.h>
#include <stdio.h>

#include "futex_lock.h"

#define PRODUCERS 2
#define CONSUMERS 2
#define ITEMS 300 /* per producer */
#define CAP 4

static struct fmutex lock;
static struct fcond not_empty, not_full;
static int queue[CAP];
static unsigned head, len, produced_done;
static unsigned long sum, count;

static void *producer(void *arg)
{
    int base = (int)(size_t)arg * ITEMS;
    for (int i = 1; i <= ITEMS; i++) {
        fmutex_lock(&lock);
        while (len == CAP)
            fcond_wait(&not_full, &lock, NULL);
        queue[(head + len) % CAP] = base + i;
        len++;
        fcond_signal(&not_empty);
        fmutex_unlock(&lock);
    }
    fmutex_lock(&lock);
    produced_done++;
    fcond_broadcast(&not_empty, &lock); /* consumers waiting for the end */
    fmutex_unlock(&lock);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        fmutex_lock(&lock);
        while (len == 0 && produced_done < PRODUCERS) {
            struct timespec dl;
            clock_gettime(CLOCK_MONOTONIC, &dl);
            dl.tv_nsec += 2000000;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
            fcond_wait(&not_empty, &lock, &dl);
        }
        if (len == 0) {
            fmutex_unlock(&lock);
            return NULL;
        }
        int v = queue[head];
        head = (head + 1) % CAP;
        len--;
        sum += (unsigned long)v;
        count++;
        fcond_broadcast(&not_full, &lock);
        fmutex_unlock(&lock);
    }
}

int main(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++)
        pthread_create(&c[i], NULL, consumer, NULL);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&p[i], NULL, producer, (void *)(size_t)i);
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < CONSUMERS; i++)
        pthread_join(c[i], NULL);
    unsigned long n = (unsigned long)PRODUCERS * ITEMS;
    if (count != n || sum != n * (n + 1) / 2) {
        printf("futex_cond_ok: consumed %lu items summing to %lu, expected %lu and %lu\n", count,
               sum, n, n * (n + 1) / 2);
        return 1;
    }
    return 0;
}

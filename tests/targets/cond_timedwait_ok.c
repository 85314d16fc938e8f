/* cond_timedwait_ok: a correct producer/consumer over a bounded queue.  Every wait is a
 * pthread_cond_timedwait with a 1 s timeout inside a loop that rechecks its predicate, so
 * spurious wakeups and timeouts are harmless.  Must never fail or deadlock in any mode. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#define PRODUCERS 2
#define CONSUMERS 2
#define ITEMS 100 /* per producer */
#define CAP 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static unsigned queue[CAP], head, count, produced_done;
static unsigned long long consumed_sum;
static unsigned consumed_n;

static void deadline_in_1s(struct timespec *ts)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += 1;
}

static void *producer(void *arg)
{
    unsigned base = (unsigned)(size_t)arg * ITEMS;
    for (unsigned i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&lock);
        while (count == CAP) {
            struct timespec ts;
            deadline_in_1s(&ts);
            int rc = pthread_cond_timedwait(&not_full, &lock, &ts);
            if (rc != 0 && rc != ETIMEDOUT) {
                printf("cond_timedwait_ok: timedwait returned %d\n", rc);
                pthread_mutex_unlock(&lock);
                return (void *)1;
            }
        }
        queue[(head + count) % CAP] = base + i;
        count++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    produced_done++;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void *consumer(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&lock);
        while (count == 0 && produced_done < PRODUCERS) {
            struct timespec ts;
            deadline_in_1s(&ts);
            int rc = pthread_cond_timedwait(&not_empty, &lock, &ts);
            if (rc != 0 && rc != ETIMEDOUT) {
                printf("cond_timedwait_ok: timedwait returned %d\n", rc);
                pthread_mutex_unlock(&lock);
                return (void *)1;
            }
        }
        if (count == 0) { /* producers done and queue drained */
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        unsigned v = queue[head];
        head = (head + 1) % CAP;
        count--;
        consumed_sum += v;
        consumed_n++;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
    }
}

int main(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];
    for (unsigned i = 0; i < CONSUMERS; i++)
        pthread_create(&c[i], NULL, consumer, NULL);
    for (unsigned i = 0; i < PRODUCERS; i++)
        pthread_create(&p[i], NULL, producer, (void *)(size_t)i);
    int bad = 0;
    for (unsigned i = 0; i < PRODUCERS; i++) {
        void *r;
        pthread_join(p[i], &r);
        bad |= r != NULL;
    }
    for (unsigned i = 0; i < CONSUMERS; i++) {
        void *r;
        pthread_join(c[i], &r);
        bad |= r != NULL;
    }
    unsigned long long n = (unsigned long long)PRODUCERS * ITEMS;
    unsigned long long want = n * (n + 1) / 2;
    if (bad || consumed_n != n || consumed_sum != want) {
        printf("cond_timedwait_ok: consumed %u items, sum %llu, want %llu items, sum %llu\n",
               consumed_n, consumed_sum, n, want);
        return 1;
    }
    return 0;
}

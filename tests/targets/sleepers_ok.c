/* sleepers_ok: threads sleep (nanosleep, usleep) while holding nothing, and wait on each
 * other through a rwlock (writers update a two-field record, readers check it is consistent)
 * and a spinlock (a shared counter).  Correct in every mode; about 10 ms natively. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define WRITERS 2
#define READERS 3
#define ROUNDS 10

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;
static struct { unsigned a, b; } rec; /* invariant under rw: b == 2 * a */
static unsigned spin_count;
static unsigned torn;

static void nap_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

static void *writer(void *arg)
{
    for (unsigned i = 0; i < ROUNDS; i++) {
        pthread_rwlock_wrlock(&rw);
        rec.a++;
        rec.b = 2 * rec.a;
        pthread_rwlock_unlock(&rw);
        pthread_spin_lock(&spin);
        spin_count++;
        pthread_spin_unlock(&spin);
        nap_us(300);
    }
    return NULL;
}

static void *reader(void *arg)
{
    for (unsigned i = 0; i < ROUNDS; i++) {
        pthread_rwlock_rdlock(&rw);
        unsigned a = rec.a, b = rec.b;
        pthread_rwlock_unlock(&rw);
        if (b != 2 * a) {
            pthread_spin_lock(&spin);
            torn++;
            pthread_spin_unlock(&spin);
        }
        pthread_spin_lock(&spin);
        spin_count++;
        pthread_spin_unlock(&spin);
        usleep(250);
    }
    return NULL;
}

int main(void)
{
    pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
    pthread_t th[WRITERS + READERS];
    for (unsigned i = 0; i < WRITERS + READERS; i++)
        pthread_create(&th[i], NULL, i < WRITERS ? writer : reader, NULL);
    for (unsigned i = 0; i < WRITERS + READERS; i++)
        pthread_join(th[i], NULL);
    if (torn || spin_count != (WRITERS + READERS) * ROUNDS || rec.a != WRITERS * ROUNDS) {
        printf("sleepers_ok: torn %u, spin count %u, record %u/%u\n", torn, spin_count, rec.a, rec.b);
        return 1;
    }
    return 0;
}

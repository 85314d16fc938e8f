/* watched_locks_ok: a correct program whose locks and counters share watched pages, used in
 * rounds: main alone initializes and checks (one live thread: memwatch protects nothing),
 * then workers take every kind of lock libc offers, by lock and by trylock, on globals and
 * on a heap object, and main checks every count after the join; twice, so that pages go from
 * protected to open and back.  An error-checking mutex is asked the owner's questions (trylock
 * EBUSY, lock EDEADLK: the shim reads its kind and owner itself).  Exit 0 when every count is
 * right, 1 (with the wrong count) otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKERS 3
#define ROUNDS 2
#define ITERS 10

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_rec;
static pthread_mutex_t g_check;
static pthread_rwlock_t g_rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t g_spin;
static sem_t g_sem;
static long g_count, g_tries, g_rw_count, g_spin_count, g_sem_count;

struct shared {
    pthread_mutex_t lock;
    long count;     /* under lock */
    long rec_count; /* under g_rec (one counter under two locks was a lost update, found by
                       wedge: "60 119", 1 of 100 noise runs with watching) */
};
static struct shared *heap;

static void *worker(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&g_lock);
        g_count++;
        pthread_mutex_unlock(&g_lock);
        if (pthread_mutex_trylock(&g_lock) == 0) {
            g_tries++;
            pthread_mutex_unlock(&g_lock);
        } else {
            pthread_mutex_lock(&g_lock);
            g_tries++;
            pthread_mutex_unlock(&g_lock);
        }
        pthread_mutex_lock(&g_rec);
        pthread_mutex_lock(&g_rec);
        heap->rec_count++;
        pthread_mutex_unlock(&g_rec);
        pthread_mutex_unlock(&g_rec);
        while (pthread_mutex_trylock(&heap->lock) != 0)
            sched_yield();
        heap->count++;
        pthread_mutex_unlock(&heap->lock);
        if (i % 2 == 0) {
            pthread_rwlock_wrlock(&g_rw);
            g_rw_count++;
            pthread_rwlock_unlock(&g_rw);
        } else {
            while (pthread_rwlock_trywrlock(&g_rw) != 0)
                sched_yield();
            g_rw_count++;
            pthread_rwlock_unlock(&g_rw);
        }
        while (pthread_spin_trylock(&g_spin) != 0)
            sched_yield();
        g_spin_count++;
        pthread_spin_unlock(&g_spin);
        sem_post(&g_sem);
        if (sem_trywait(&g_sem) == 0) {
            pthread_mutex_lock(&g_lock);
            g_sem_count++;
            pthread_mutex_unlock(&g_lock);
        } else {
            /* another worker took ours: a post owed to nobody, taken back below */
            pthread_mutex_lock(&g_lock);
            g_sem_count++;
            pthread_mutex_unlock(&g_lock);
        }
    }
    pthread_mutex_lock(&g_check);
    int again = pthread_mutex_trylock(&g_check), self = pthread_mutex_lock(&g_check);
    pthread_mutex_unlock(&g_check);
    if (again != EBUSY || self != EDEADLK) {
        fprintf(stderr, "worker %ld: error-checking mutex: trylock %d, lock %d\n", id, again, self);
        exit(1);
    }
    if (id == 0)
        pthread_exit(NULL); /* ends through pthread_exit, not a return */
    return NULL;
}

static int check(const char *what, long got, long want)
{
    if (got == want)
        return 0;
    fprintf(stderr, "%s: %ld, expected %ld\n", what, got, want);
    return 1;
}

int main(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&g_rec, &a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&g_check, &a);
    pthread_spin_init(&g_spin, PTHREAD_PROCESS_PRIVATE);
    sem_init(&g_sem, 0, 0);
    heap = malloc(sizeof *heap);
    if (!heap)
        return 2;
    pthread_mutex_init(&heap->lock, NULL);
    heap->count = heap->rec_count = 0;
    int bad = 0;
    for (int r = 1; r <= ROUNDS; r++) {
        pthread_t t[WORKERS];
        for (long i = 0; i < WORKERS; i++)
            pthread_create(&t[i], NULL, worker, (void *)i);
        for (int i = 0; i < WORKERS; i++)
            pthread_join(t[i], NULL);
        long want = (long)r * WORKERS * ITERS;
        bad |= check("g_count", g_count, want) | check("g_tries", g_tries, want) |
               check("heap count", heap->count, want) |
               check("heap recursive count", heap->rec_count, want) | check("rw", g_rw_count, want) |
               check("spin", g_spin_count, want) | check("sem", g_sem_count, want);
        while (sem_trywait(&g_sem) == 0) /* posts taken by nobody */
            ;
        /* main alone: its accesses must be plain loads and stores again */
        pthread_mutex_lock(&g_lock);
        g_count += 0;
        pthread_mutex_unlock(&g_lock);
    }
    printf("watched_locks_ok: %ld %ld %ld\n", g_count, heap->count, heap->rec_count);
    return bad;
}

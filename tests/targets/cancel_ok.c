/* cancel_ok: threads cancelled at each kind of cancellation point, and asynchronously, then
 * joined.  Usage: cancel_ok [CASE...]; no argument runs every case.  Each case checks what
 * POSIX promises: the cleanup handlers ran, a thread cancelled in pthread_cond_wait holds the
 * mutex again when they run, and join returns PTHREAD_CANCELED.  Correct: must never fail,
 * deadlock or hang in any mode. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int ready;
static _Atomic int cleaned;
static int errors;
static pthread_mutex_t m;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static volatile unsigned long long_sink;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("cancel_ok: %s\n", what);
        errors++;
    }
}

static void note_cleanup(void *arg)
{
    (void)arg;
    atomic_fetch_add(&cleaned, 1);
}

/* The cleanup handler of a thread cancelled in pthread_cond_wait: the mutex is ours again. */
static void unlock_cleanup(void *arg)
{
    int r = pthread_mutex_unlock(arg);
    check(r == 0, "cond_wait cancelled: mutex not held in the cleanup handler");
    atomic_fetch_add(&cleaned, 1);
}

static void *cond_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    pthread_cleanup_push(unlock_cleanup, &m);
    atomic_store(&ready, 1);
    for (;;)
        pthread_cond_wait(&c, &m); /* nobody signals: only cancellation ends it */
    pthread_cleanup_pop(1);
    return NULL;
}

static void *sleeper(void *arg)
{
    const char *how = arg;
    pthread_cleanup_push(note_cleanup, NULL);
    atomic_store(&ready, 1);
    for (;;) {
        struct timespec ts = { 1000, 0 };
        if (!strcmp(how, "sleep"))
            sleep(1000);
        else if (!strcmp(how, "usleep"))
            usleep(900000);
        else if (!strcmp(how, "nanosleep"))
            nanosleep(&ts, NULL);
        else
            clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    }
    pthread_cleanup_pop(1);
    return NULL;
}

static void *tester(void *arg)
{
    (void)arg;
    pthread_cleanup_push(note_cleanup, NULL);
    atomic_store(&ready, 1);
    for (;;) {
        pthread_testcancel();
        long_sink++;
    }
    pthread_cleanup_pop(1);
    return NULL;
}

static void *sem_waiter(void *arg)
{
    (void)arg;
    pthread_cleanup_push(note_cleanup, NULL);
    atomic_store(&ready, 1);
    for (;;)
        sem_wait(&sem);
    pthread_cleanup_pop(1);
    return NULL;
}

static void *joiner(void *arg)
{
    pthread_t *other = arg;
    pthread_cleanup_push(note_cleanup, NULL);
    atomic_store(&ready, 1);
    pthread_join(*other, NULL);
    check(0, "join: the joined thread ended although nobody cancelled it yet");
    pthread_cleanup_pop(1);
    return NULL;
}

/* Asynchronous cancellation: a pure spin (only async-cancel-safe calls), or a loop of
 * sched_yield (a thread that keeps reaching wedge's scheduling points). */
static void *async_worker(void *arg)
{
    int yield = arg != NULL;
    pthread_cleanup_push(note_cleanup, NULL);
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    atomic_store(&ready, 1);
    for (;;) {
        long_sink++;
        if (yield)
            sched_yield();
    }
    pthread_cleanup_pop(1);
    return NULL;
}

static void wait_ready(void)
{
    while (!atomic_load(&ready))
        usleep(100);
}

static void cancel_and_join(pthread_t t, const char *name)
{
    int r = pthread_cancel(t);
    if (r)
        printf("cancel_ok: %s: pthread_cancel: %s\n", name, strerror(r)), errors++;
    void *ret = NULL;
    r = pthread_join(t, &ret);
    if (r)
        printf("cancel_ok: %s: pthread_join: %s\n", name, strerror(r)), errors++;
    else if (ret != PTHREAD_CANCELED)
        printf("cancel_ok: %s: join returned %p, not PTHREAD_CANCELED\n", name, ret), errors++;
}

static void run_case(const char *name)
{
    atomic_store(&ready, 0);
    int before = atomic_load(&cleaned);
    int want = 1;
    pthread_t t, other;
    if (!strcmp(name, "cond")) {
        pthread_create(&t, NULL, cond_waiter, NULL);
        wait_ready();
        /* the waiter released the mutex in pthread_cond_wait once we can take it */
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
        cancel_and_join(t, name);
        /* the cleanup handler unlocked it: free again */
        check(pthread_mutex_trylock(&m) == 0, "cond: mutex still locked after the join");
        pthread_mutex_unlock(&m);
    } else if (!strcmp(name, "sleep") || !strcmp(name, "usleep") || !strcmp(name, "nanosleep") ||
               !strcmp(name, "clock_nanosleep")) {
        pthread_create(&t, NULL, sleeper, (void *)name);
        wait_ready();
        cancel_and_join(t, name);
    } else if (!strcmp(name, "testcancel")) {
        pthread_create(&t, NULL, tester, NULL);
        wait_ready();
        cancel_and_join(t, name);
    } else if (!strcmp(name, "sem")) {
        pthread_create(&t, NULL, sem_waiter, NULL);
        wait_ready();
        cancel_and_join(t, name);
    } else if (!strcmp(name, "join")) {
        /* a joiner cancelled while it waits for a thread blocked in a condition wait */
        pthread_create(&other, NULL, cond_waiter, NULL);
        wait_ready();
        atomic_store(&ready, 0);
        pthread_create(&t, NULL, joiner, &other);
        wait_ready();
        cancel_and_join(t, name);
        pthread_mutex_lock(&m);
        pthread_mutex_unlock(&m);
        cancel_and_join(other, "join (the joined thread)");
        want = 2;
    } else if (!strcmp(name, "async") || !strcmp(name, "async_yield")) {
        pthread_create(&t, NULL, async_worker, name[5] ? (void *)1 : NULL);
        wait_ready();
        cancel_and_join(t, name);
    } else {
        printf("cancel_ok: unknown case %s\n", name);
        errors++;
        return;
    }
    if (atomic_load(&cleaned) - before != want)
        printf("cancel_ok: %s: %d cleanup handlers ran, expected %d\n", name,
               atomic_load(&cleaned) - before, want), errors++;
}

int main(int argc, char **argv)
{
    static const char *all[] = { "cond", "sleep", "usleep", "nanosleep", "clock_nanosleep",
                                 "testcancel", "sem", "join", "async", "async_yield" };
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&m, &a);
    sem_init(&sem, 0, 0);
    if (argc > 1)
        for (int i = 1; i < argc; i++)
            run_case(argv[i]);
    else
        for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++)
            run_case(all[i]);
    return errors ? 1 : 0;
}

/* timeouts_ok: no timeout fires before its deadline by the program's own clock, and no clock
 * goes backwards.  Threads make short timed waits of every kind wedge may cut short (condition
 * variables on CLOCK_REALTIME and on CLOCK_MONOTONIC, futex waits relative and absolute, poll,
 * select, sem_timedwait, sem_clockwait, epoll_wait, epoll_pwait2), some of them woken by a peer
 * first, and check after each timeout that the clock shows the deadline passed.  Correct: must
 * pass every run in every mode. */
#define _GNU_SOURCE /* sem_clockwait */
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define THREADS 3
#define ROUNDS 40

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond_rt = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cond_mono;
static _Atomic uint32_t fword;
static sem_t sem;
static int epfd, evfd; /* an eventfd the waker writes now and then, watched by epfd */

static int64_t now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec ts_of(int64_t ns)
{
    return (struct timespec){ (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
}

static _Atomic int failures;

static void check(const char *what, clockid_t c, int64_t deadline, int64_t before)
{
    int64_t after = now(c);
    if (after < before) {
        printf("timeouts_ok: %s: clock went backwards (%lld -> %lld)\n", what, (long long)before,
               (long long)after);
        atomic_fetch_add(&failures, 1);
    } else if (after < deadline) {
        printf("timeouts_ok: %s timed out %lld ns before its deadline\n", what,
               (long long)(deadline - after));
        atomic_fetch_add(&failures, 1);
    }
}

/* the eventfd after an epoll wait that did not time out (another waiter may have read it) */
static void drain(void)
{
    uint64_t v;
    if (read(evfd, &v, sizeof v) < 0 && errno != EAGAIN) {
        perror("timeouts_ok: read eventfd");
        atomic_fetch_add(&failures, 1);
    }
}

static void *waiter(void *arg)
{
    unsigned me = (unsigned)(size_t)arg;
    int64_t last_mono = 0;
    for (unsigned i = 0; i < ROUNDS; i++) {
        int64_t tmo = (int64_t)(1 + (i + me) % 3) * 1000000; /* 1-3 ms */
        int64_t m0 = now(CLOCK_MONOTONIC), r0 = now(CLOCK_REALTIME);
        if (m0 < last_mono) {
            printf("timeouts_ok: CLOCK_MONOTONIC went backwards\n");
            atomic_fetch_add(&failures, 1);
        }
        switch ((i + me) % 10) {
        case 0: {
            struct timespec dl = ts_of(r0 + tmo);
            pthread_mutex_lock(&lock);
            int r = pthread_cond_timedwait(&cond_rt, &lock, &dl);
            pthread_mutex_unlock(&lock);
            if (r == ETIMEDOUT)
                check("pthread_cond_timedwait (realtime)", CLOCK_REALTIME, r0 + tmo, r0);
            break;
        }
        case 1: {
            struct timespec dl = ts_of(m0 + tmo);
            pthread_mutex_lock(&lock);
            int r = pthread_cond_timedwait(&cond_mono, &lock, &dl);
            pthread_mutex_unlock(&lock);
            if (r == ETIMEDOUT)
                check("pthread_cond_timedwait (monotonic)", CLOCK_MONOTONIC, m0 + tmo, m0);
            break;
        }
        case 2: {
            struct timespec rel = ts_of(tmo);
            long r = syscall(SYS_futex, (uint32_t *)&fword, FUTEX_WAIT | FUTEX_PRIVATE_FLAG,
                             atomic_load(&fword), &rel, NULL, 0);
            if (r != 0 && errno == ETIMEDOUT)
                check("futex FUTEX_WAIT", CLOCK_MONOTONIC, m0 + tmo, m0);
            break;
        }
        case 3: {
            struct timespec dl = ts_of(m0 + tmo);
            long r = syscall(SYS_futex, (uint32_t *)&fword, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
                             atomic_load(&fword), &dl, NULL, FUTEX_BITSET_MATCH_ANY);
            if (r != 0 && errno == ETIMEDOUT)
                check("futex FUTEX_WAIT_BITSET", CLOCK_MONOTONIC, m0 + tmo, m0);
            break;
        }
        case 4:
            if (poll(NULL, 0, (int)(tmo / 1000000)) == 0)
                check("poll", CLOCK_MONOTONIC, m0 + tmo, m0);
            break;
        case 5: {
            struct timeval tv = { 0, (suseconds_t)(tmo / 1000) };
            if (select(0, NULL, NULL, NULL, &tv) == 0)
                check("select", CLOCK_MONOTONIC, m0 + tmo, m0);
            break;
        }
        case 6: {
            struct timespec dl = ts_of(r0 + tmo);
            if (sem_timedwait(&sem, &dl) != 0 && errno == ETIMEDOUT)
                check("sem_timedwait", CLOCK_REALTIME, r0 + tmo, r0);
            break;
        }
        case 7: {
            struct timespec dl = ts_of(m0 + tmo);
            if (sem_clockwait(&sem, CLOCK_MONOTONIC, &dl) != 0 && errno == ETIMEDOUT)
                check("sem_clockwait", CLOCK_MONOTONIC, m0 + tmo, m0);
            break;
        }
        case 8: {
            struct epoll_event ev;
            if (epoll_wait(epfd, &ev, 1, (int)(tmo / 1000000)) == 0)
                check("epoll_wait", CLOCK_MONOTONIC, m0 + tmo, m0);
            else
                drain();
            break;
        }
        case 9: {
            struct epoll_event ev;
            struct timespec rel = ts_of(tmo);
            if (epoll_pwait2(epfd, &ev, 1, &rel, NULL) == 0)
                check("epoll_pwait2", CLOCK_MONOTONIC, m0 + tmo, m0);
            else
                drain();
            break;
        }
        }
        last_mono = now(CLOCK_MONOTONIC);
    }
    return NULL;
}

/* Wakes the waiters now and then, so that waits end both ways. */
static void *waker(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < ROUNDS; i++) {
        struct timespec d = { 0, 700000 };
        nanosleep(&d, NULL);
        pthread_mutex_lock(&lock);
        pthread_cond_broadcast(&cond_rt);
        pthread_cond_broadcast(&cond_mono);
        pthread_mutex_unlock(&lock);
        atomic_fetch_add(&fword, 1);
        syscall(SYS_futex, (uint32_t *)&fword, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT32_MAX, NULL,
                NULL, 0);
        if (i % 4 == 0)
            sem_post(&sem);
        if (i % 3 == 0) {
            uint64_t one = 1;
            if (write(evfd, &one, sizeof one) != sizeof one)
                atomic_fetch_add(&failures, 1);
        }
    }
    return NULL;
}

int main(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&cond_mono, &a);
    sem_init(&sem, 0, 0);
    evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event want = { .events = EPOLLIN };
    if (evfd < 0 || epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &want) != 0) {
        perror("timeouts_ok: eventfd/epoll");
        return 2;
    }
    pthread_t t[THREADS + 1];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, waiter, (void *)(size_t)i);
    pthread_create(&t[THREADS], NULL, waker, NULL);
    for (unsigned i = 0; i <= THREADS; i++)
        pthread_join(t[i], NULL);
    return atomic_load(&failures) ? 1 : 0;
}

/* futex_lock.h - a mutex and a condition variable of a program's own, made of futexes through
 * syscall(2) as Rust's std, Abseil or a hand-written lock make them: no pthread call.  Shared
 * by the futex_*_ok targets (correct programs that must pass every run in every mode).
 *
 * The mutex is Drepper's three-state mutex ("Futexes Are Tricky", 2011): 0 free, 1 locked,
 * 2 locked with waiters.  The condition variable is a sequence number: a waiter reads it,
 * unlocks, and waits while it is unchanged; signal and broadcast bump it.  Broadcast requeues
 * the waiters onto the mutex (FUTEX_CMP_REQUEUE, as glibc's condition variables did) instead
 * of waking them all into a stampede on the mutex. */
#ifndef FUTEX_LOCK_H
#define FUTEX_LOCK_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline long futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts,
                  _Atomic uint32_t *w2, uint32_t val3)
{
    return syscall(SYS_futex, (uint32_t *)w, op | FUTEX_PRIVATE_FLAG, val, ts, (uint32_t *)w2,
                   val3);
}

struct fmutex { _Atomic uint32_t word; };
struct fcond { _Atomic uint32_t seq; };

static inline void fmutex_lock(struct fmutex *m)
{
    uint32_t c = 0;
    if (atomic_compare_exchange_strong(&m->word, &c, 1))
        return;
    if (c != 2)
        c = atomic_exchange(&m->word, 2);
    while (c != 0) {
        futex(&m->word, FUTEX_WAIT, 2, NULL, NULL, 0);
        c = atomic_exchange(&m->word, 2);
    }
}

static inline void fmutex_unlock(struct fmutex *m)
{
    if (atomic_fetch_sub(&m->word, 1) != 1) {
        atomic_store(&m->word, 0);
        futex(&m->word, FUTEX_WAKE, 1, NULL, NULL, 0);
    }
}

/* abstime: NULL, or a CLOCK_MONOTONIC deadline (FUTEX_WAIT_BITSET).  Returns 0 or ETIMEDOUT
 * (which may also be a wake-up: callers re-check their condition either way). */
static inline int fcond_wait(struct fcond *c, struct fmutex *m, const struct timespec *abstime)
{
    uint32_t seq = atomic_load(&c->seq);
    fmutex_unlock(m);
    long r = abstime ? futex(&c->seq, FUTEX_WAIT_BITSET, seq, abstime, NULL, FUTEX_BITSET_MATCH_ANY)
                     : futex(&c->seq, FUTEX_WAIT, seq, NULL, NULL, 0);
    int e = r != 0 ? errno : 0;
    /* after a requeue we were woken from the mutex word: it may have waiters */
    uint32_t v = atomic_exchange(&m->word, 2);
    while (v != 0) {
        futex(&m->word, FUTEX_WAIT, 2, NULL, NULL, 0);
        v = atomic_exchange(&m->word, 2);
    }
    return e == ETIMEDOUT ? ETIMEDOUT : 0;
}

static inline void fcond_signal(struct fcond *c)
{
    atomic_fetch_add(&c->seq, 1);
    futex(&c->seq, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Called with m held: wake one, requeue the rest onto m (marked contended, so that its
 * unlock wakes them one by one). */
static inline void fcond_broadcast(struct fcond *c, struct fmutex *m)
{
    uint32_t seq = atomic_fetch_add(&c->seq, 1) + 1;
    atomic_store(&m->word, 2);
    while (futex(&c->seq, FUTEX_CMP_REQUEUE, 1, (const struct timespec *)(uintptr_t)INT_MAX,
                 &m->word, seq) < 0 && errno == EAGAIN)
        seq = atomic_load(&c->seq);
}

#endif

/* serial_sync.c - serial mode: the modeled blocking operations.
 *
 * Locks (mutexes, rwlocks, spinlocks) and semaphores keep their real state: a thread takes one
 * with the real try-operation, and when that says busy it waits in the model until someone
 * releases the object, then tries again.  So recursive, error-checking and robust mutexes and
 * reader preference behave exactly as glibc's, and a thread outside the model that uses the
 * same object still excludes correctly.  Condition variables, barriers and pthread_once waits
 * are modeled entirely: their real objects would block in the kernel.
 *
 * Each operation is a scheduling point before it acts.  Errors follow the POSIX functions:
 * an errno value returned (pthread_*), or -1 with errno (sem_*).
 */
#define _GNU_SOURCE
#include "serial_internal.h"
#include "wedge_stream.h"

#include <errno.h>
#include <string.h>

/* glibc internals read here (x86-64, glibc 2.34+), each cited where used. */
#define GLIBC_MUTEX_KIND_MASK 3        /* PTHREAD_MUTEX_KIND_MASK_NP in __data.__kind */
#define GLIBC_MUTEX_PSHARED_BIT 128    /* PTHREAD_MUTEX_PSHARED_BIT in __data.__kind */
#define GLIBC_COND_CLOCK_MONOTONIC 2   /* __PTHREAD_COND_CLOCK_MONOTONIC_MASK in __wrefs */
#define GLIBC_ONCE_INPROGRESS 1
#define GLIBC_ONCE_DONE 2

static int mutex_pshared(const pthread_mutex_t *m)
{
    int kind;
    wedge_mem_peek(&kind, &m->__data.__kind, sizeof kind); /* read by us: no trap */
    return (kind & GLIBC_MUTEX_PSHARED_BIT) != 0;
}

/* A semaphore shared between processes may be posted by another process, which the model
 * does not see: glibc's new_sem has `private` at 8, LLL_PRIVATE 0 or LLL_SHARED 128
 * (FUTEX_PRIVATE_FLAG: glibc's futex calls xor it in).  Measured: sem_init(&s, 0, 0) leaves
 * 0 there, sem_init(&s, 1, 0) 128. */
static int sem_pshared(const sem_t *s)
{
    unsigned priv;
    memcpy(&priv, (const char *)s + 8, sizeof priv);
    return priv != 0;
}

/* A real timed wait outside the model that timed out took wall time virtual time did not
 * see: the program's clock must still show its deadline passed. */
static void outside_timed_out(clockid_t clock, const struct timespec *abstime)
{
    int64_t d = serial_deadline(clock, abstime);
    if (d >= 0)
        wedge_serial_reach(d);
}

/* Try-until-available: the common shape of every lock and semaphore wait.  try_op returns 0
 * (taken), EBUSY/EAGAIN (busy) or another error.  Lock held neither on entry nor on return. */
static int acquire(int (*try_op)(void *), void *obj, unsigned kind, uint64_t site,
                   const struct timespec *abstime, clockid_t clock, int try_only)
{
    int64_t deadline = 0;
    if (abstime && (deadline = serial_deadline(clock, abstime)) < 0) {
        int r = try_op(obj); /* POSIX: an invalid time matters only if we would wait */
        return r == EBUSY || r == EAGAIN ? EINVAL : r;
    }
    struct sthread *self = serial_me();
    for (;;) {
        serial_lock();
        serial_ensure_token(self);
        int r = try_op(obj);
        if (r != EBUSY && r != EAGAIN) {
            serial_unlock();
            return r;
        }
        if (try_only) {
            serial_unlock();
            return r;
        }
        if (abstime && atomic_load(&S.vtime) >= deadline) {
            serial_unlock();
            return ETIMEDOUT;
        }
        serial_block(self, kind, obj, site, abstime != NULL, deadline);
    }
}

/* ---- mutexes ---- */

static int mutex_try(void *m)
{
    pthread_mutex_t *p = (pthread_mutex_t *)m;
    return WEDGE_MEM_LIB_CALL(p, REAL(pthread_mutex_trylock)(p));
}

static int mutex_lock_model(pthread_mutex_t *m, const struct timespec *abstime, uint64_t site)
{
    /* an error-checking mutex the caller already owns: glibc's lock says EDEADLK, trylock
     * only EBUSY (and a wait would be a self-deadlock) */
    pthread_mutex_t copy;
    wedge_mem_peek(&copy, m, sizeof copy);
    if ((copy.__data.__kind & GLIBC_MUTEX_KIND_MASK) == PTHREAD_MUTEX_ERRORCHECK_NP &&
        copy.__data.__owner == (int)gettid())
        return EDEADLK;
    return acquire(mutex_try, m, WEDGE_EV_MUTEX_LOCK, site, abstime, CLOCK_REALTIME, 0);
}

int wedge_serial_mutex_lock(pthread_mutex_t *m, const struct timespec *abstime, int try_only,
                            uint64_t site)
{
    serial_sched_point(try_only ? WEDGE_EV_MUTEX_TRYLOCK : WEDGE_EV_MUTEX_LOCK, site, m, 0, 0);
    if (try_only)
        return WEDGE_MEM_LIB_CALL(m, REAL(pthread_mutex_trylock)(m));
    if (mutex_pshared(m)) {
        /* another process may hold it: wait for it outside the model */
        struct timespec real;
        if (abstime)
            serial_real_abstime(CLOCK_REALTIME, abstime, &real);
        wedge_serial_outside_begin(WEDGE_EV_MUTEX_LOCK, site, m);
        int r = abstime ? REAL(pthread_mutex_timedlock)(m, &real) : REAL(pthread_mutex_lock)(m);
        wedge_serial_outside_end();
        if (r == ETIMEDOUT)
            outside_timed_out(CLOCK_REALTIME, abstime);
        return r;
    }
    return mutex_lock_model(m, abstime, site);
}

#define MUTEX_RETRIERS 8

int wedge_serial_mutex_unlock(pthread_mutex_t *m, uint64_t site)
{
    serial_sched_point(WEDGE_EV_MUTEX_UNLOCK, site, m, 0, 0);
    int r = WEDGE_MEM_LIB_CALL(m, REAL(pthread_mutex_unlock)(m));
    if (r == 0) {
        serial_lock();
        /* the waiters retry: the strategy decides who gets it.  At most MUTEX_RETRIERS of
         * them (the longest waiting): one gets it, the rest wait again, and with hundreds of
         * waiters waking all of them at every unlock costs O(n^2) points per unlock (300
         * threads on one mutex: 1 s a run; 1000: past the timeout) */
        serial_wake_some(m, MUTEX_RETRIERS);
        serial_unlock();
    }
    return r;
}

/* ---- rwlocks ---- */

static int rw_tryrd(void *l)
{
    pthread_rwlock_t *p = (pthread_rwlock_t *)l;
    return WEDGE_MEM_LIB_CALL(p, REAL(pthread_rwlock_tryrdlock)(p));
}

static int rw_trywr(void *l)
{
    pthread_rwlock_t *p = (pthread_rwlock_t *)l;
    return WEDGE_MEM_LIB_CALL(p, REAL(pthread_rwlock_trywrlock)(p));
}

int wedge_serial_rwlock_lock(pthread_rwlock_t *l, int write, const struct timespec *abstime,
                             int try_only, uint64_t site)
{
    unsigned kind = write ? WEDGE_EV_RWLOCK_WRLOCK : WEDGE_EV_RWLOCK_RDLOCK;
    serial_sched_point(kind, site, l, try_only, 0);
    /* a wrlock by the writer itself, or a rdlock by a writer: glibc says EDEADLK */
    int writer = 0;
    if (!try_only)
        wedge_mem_peek(&writer, &l->__data.__cur_writer, sizeof writer);
    if (!try_only && writer == (int)gettid())
        return EDEADLK;
    return acquire(write ? rw_trywr : rw_tryrd, l, kind, site, abstime, CLOCK_REALTIME, try_only);
}

int wedge_serial_rwlock_unlock(pthread_rwlock_t *l, uint64_t site)
{
    serial_sched_point(WEDGE_EV_RWLOCK_UNLOCK, site, l, 0, 0);
    int r = WEDGE_MEM_LIB_CALL(l, REAL(pthread_rwlock_unlock)(l));
    if (r == 0) {
        serial_lock();
        serial_wake_obj(l, 1);
        serial_unlock();
    }
    return r;
}

/* ---- spinlocks ---- */

static int spin_try(void *s)
{
    pthread_spinlock_t *p = (pthread_spinlock_t *)s;
    return WEDGE_MEM_LIB_CALL(p, REAL(pthread_spin_trylock)(p));
}

int wedge_serial_spin_lock(pthread_spinlock_t *s, int try_only, uint64_t site)
{
    serial_sched_point(WEDGE_EV_SPIN_LOCK, site, (const void *)s, try_only, 0);
    return acquire(spin_try, (void *)s, WEDGE_EV_SPIN_LOCK, site, NULL, CLOCK_REALTIME, try_only);
}

int wedge_serial_spin_unlock(pthread_spinlock_t *s, uint64_t site)
{
    serial_sched_point(WEDGE_EV_SPIN_UNLOCK, site, (const void *)s, 0, 0);
    int r = WEDGE_MEM_LIB_CALL(s, REAL(pthread_spin_unlock)(s));
    serial_lock();
    serial_wake_obj((const void *)s, 1);
    serial_unlock();
    return r;
}

/* ---- semaphores ---- */

static int sem_try(void *s)
{
    return WEDGE_MEM_LIB_CALL((sem_t *)s, REAL(sem_trywait)((sem_t *)s)) == 0 ? 0 : errno;
}

int wedge_serial_sem_wait(sem_t *s, clockid_t clock, int clockwait, const struct timespec *abstime,
                          int try_only, uint64_t site)
{
    serial_sched_point(WEDGE_EV_SEM_WAIT, site, s, try_only, 0);
    if (!try_only)
        serial_cancel_point();
    int r;
    if (sem_pshared(s) && !try_only) {
        struct timespec real;
        if (abstime)
            serial_real_abstime(clock, abstime, &real);
        wedge_serial_outside_begin(WEDGE_EV_SEM_WAIT, site, s);
        r = !abstime ? REAL(sem_wait)(s)
            : clockwait ? REAL(sem_clockwait)(s, clock, &real)
                        : REAL(sem_timedwait)(s, &real);
        int saved = errno;
        wedge_serial_outside_end();
        if (r != 0 && saved == ETIMEDOUT)
            outside_timed_out(clock, abstime);
        errno = saved;
        return r;
    }
    r = acquire(sem_try, s, WEDGE_EV_SEM_WAIT, site, abstime, clock, try_only);
    if (r == 0)
        return 0;
    errno = r;
    return -1;
}

int wedge_serial_sem_post(sem_t *s, uint64_t site)
{
    serial_sched_point(WEDGE_EV_SEM_POST, site, s, 0, 0);
    int r = WEDGE_MEM_LIB_CALL(s, REAL(sem_post)(s));
    int saved = errno;
    if (r == 0) {
        serial_lock();
        serial_wake_obj(s, 0); /* one unit: one waiter (it retries; a miss re-blocks it) */
        serial_unlock();
    }
    errno = saved;
    return r;
}

/* ---- condition variables ---- */

/* One wait in SPURIOUS_ONE_IN returns spuriously: a seeded decision per thread and wait, so
 * that replay repeats it. */
#define SPURIOUS_ONE_IN 16u

static int spurious_wakeup(struct sthread *self)
{
    uint64_t h = wedge_decide(wedge_g.token.seed ^ 0x73707572696f7573ull, wedge_g.proc_ordinal,
                              self->ordinal, self->cond_waits++, 0);
    return wedge_below(h, SPURIOUS_ONE_IN) == 0;
}

int wedge_serial_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                           const struct timespec *abstime, uint64_t site)
{
    serial_sched_point(WEDGE_EV_COND_WAIT, site, c, 0, 0);
    serial_cancel_point(); /* a request made meanwhile: acted on with the mutex held */
    /* pthread_cond_timedwait measures against the clock chosen at pthread_cond_init */
    unsigned wrefs = 0;
    if (abstime)
        wedge_mem_peek(&wrefs, &c->__data.__wrefs, sizeof wrefs);
    if (abstime && clock == CLOCK_REALTIME && (wrefs & GLIBC_COND_CLOCK_MONOTONIC))
        clock = CLOCK_MONOTONIC;
    int64_t deadline = 0;
    if (abstime && (deadline = serial_deadline(clock, abstime)) < 0)
        return EINVAL;
    int r = WEDGE_MEM_LIB_CALL(m, REAL(pthread_mutex_unlock)(m));
    if (r)
        return r; /* EPERM: not the owner (error-checking mutex) */
    struct sthread *self = serial_me();
    serial_lock();
    serial_ensure_token(self);
    serial_wake_some(m, MUTEX_RETRIERS); /* the mutex is free: as in unlock */
    int w;
    if (abstime && atomic_load(&S.vtime) >= deadline) {
        serial_unlock();
        w = W_TIMEOUT;
    } else if (spurious_wakeup(self)) {
        /* POSIX allows a wait to return without a signal, and code that waits with `if`
         * instead of `while` is wrong for it: a plain scheduling point, then return 0 */
        serial_reschedule(self, WEDGE_EV_COND_WAIT, 0, site, c, 2);
        w = W_WOKEN;
    } else {
        w = serial_block(self, WEDGE_EV_COND_WAIT, c, site, abstime != NULL, deadline);
    }
    /* relock whatever happened (POSIX: the mutex is held again on return) */
    while ((r = acquire(mutex_try, m, WEDGE_EV_MUTEX_LOCK, site, NULL, CLOCK_REALTIME, 0)) != 0)
        if (r != EINTR)
            break;
    if (r)
        return r;
    if (w == W_CANCEL)
        serial_cancel_point(); /* mutex held again, as POSIX wants for the cleanup handlers */
    return w == W_TIMEOUT ? ETIMEDOUT : 0;
}

int wedge_serial_cond_signal(pthread_cond_t *c, int broadcast, uint64_t site)
{
    serial_sched_point(broadcast ? WEDGE_EV_COND_BROADCAST : WEDGE_EV_COND_SIGNAL, site, c, 0, 0);
    serial_lock();
    serial_wake_obj(c, broadcast);
    serial_unlock();
    return 0;
}

/* ---- barriers ---- */

#define MAX_BARRIERS 128
struct sbarrier {
    const void *addr;
    unsigned count, arrived;
    uint64_t round;
};
static struct sbarrier barriers[MAX_BARRIERS];

static struct sbarrier *barrier_find(const void *b, int create)
{
    struct sbarrier *free_ = NULL;
    for (int i = 0; i < MAX_BARRIERS; i++) {
        if (barriers[i].addr == b)
            return &barriers[i];
        if (!barriers[i].addr && !free_)
            free_ = &barriers[i];
    }
    if (create && free_) {
        memset(free_, 0, sizeof *free_);
        free_->addr = b;
    }
    return create ? free_ : NULL;
}

int wedge_serial_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a, unsigned count,
                              uint64_t site)
{
    int r = REAL(pthread_barrier_init)(b, a, count);
    if (r == 0) {
        serial_lock();
        struct sbarrier *e = barrier_find(b, 1);
        if (e) {
            e->count = count;
            e->arrived = 0;
        }
        serial_unlock();
    }
    return r;
}

int wedge_serial_barrier_destroy(pthread_barrier_t *b, uint64_t site)
{
    serial_lock();
    struct sbarrier *e = barrier_find(b, 0);
    if (e && e->arrived) {
        serial_unlock();
        return EBUSY;
    }
    if (e)
        e->addr = NULL;
    serial_unlock();
    return REAL(pthread_barrier_destroy)(b);
}

int wedge_serial_barrier_wait(pthread_barrier_t *b, uint64_t site)
{
    serial_sched_point(WEDGE_EV_BARRIER_WAIT, site, b, 0, 0);
    struct sthread *self = serial_me();
    serial_lock();
    serial_ensure_token(self);
    struct sbarrier *e = barrier_find(b, 0);
    if (!e) {
        /* initialized before the shim started: glibc keeps the count at offset 8 */
        e = barrier_find(b, 1);
        if (!e) {
            serial_unlock();
            wedge_serial_outside_begin(WEDGE_EV_BARRIER_WAIT, site, b);
            int r = REAL(pthread_barrier_wait)(b);
            wedge_serial_outside_end();
            return r;
        }
        memcpy(&e->count, (const char *)b + 8, sizeof e->count);
    }
    if (++e->arrived >= e->count) {
        e->arrived = 0;
        e->round++;
        serial_wake_obj(b, 1);
        serial_unlock();
        return PTHREAD_BARRIER_SERIAL_THREAD;
    }
    uint64_t round = e->round;
    for (;;) {
        serial_block(self, WEDGE_EV_BARRIER_WAIT, b, site, 0, 0);
        serial_lock();
        if (e->round != round)
            break;
    }
    serial_unlock();
    return 0;
}

/* ---- pthread_once ---- */

int wedge_serial_once(pthread_once_t *once, void (*fn)(void), uint64_t site)
{
    serial_sched_point(WEDGE_EV_ONCE, site, once, 0, 0);
    struct sthread *self = serial_me();
    _Atomic int *state = (_Atomic int *)once;
    for (;;) {
        serial_lock();
        serial_ensure_token(self);
        int v = atomic_load(state);
        if (v & GLIBC_ONCE_DONE) {
            serial_unlock();
            return 0;
        }
        if (!(v & GLIBC_ONCE_INPROGRESS)) {
            serial_unlock();
            break;
        }
        /* another thread runs fn (and may be preempted inside it): wait in the model */
        serial_block(self, WEDGE_EV_ONCE, once, site, 0, 0);
    }
    /* fn is user code: its calls are scheduling points again */
    wedge_self.depth--;
    int r = REAL(pthread_once)(once, fn);
    wedge_self.depth++;
    serial_lock();
    serial_wake_obj(once, 1);
    serial_unlock();
    return r;
}

/* ---- yields and sleeps ---- */

int wedge_serial_yield(uint64_t site)
{
    serial_sched_point(WEDGE_EV_YIELD, site, NULL, 0, 1);
    return 0;
}

int wedge_serial_sleep(clockid_t clock, int flags, const struct timespec *req, uint64_t site)
{
    if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000L || req->tv_sec < 0)
        return EINVAL;
    serial_cancel_point();
    struct sthread *self = serial_me();
    serial_lock();
    serial_ensure_token(self);
    int64_t now = atomic_load(&S.vtime);
    int64_t deadline = (flags & TIMER_ABSTIME)
                           ? serial_deadline(clock, req)
                           : now + (int64_t)req->tv_sec * 1000000000LL + req->tv_nsec;
    if (deadline <= now) {
        /* nothing to wait for: a yield */
        serial_reschedule(self, WEDGE_EV_SLEEP, 1, site, NULL, 0);
        return 0;
    }
    if (serial_sleep_for_real(self, deadline))
        return 0;
    return serial_sleep_until(self, deadline, site);
}

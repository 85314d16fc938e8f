/* sync.c - mutexes, rwlocks, condition variables, semaphores, barriers, spinlocks, yields.
 *
 * Noise mode: each operation is an interception point (maybe a delay) before the real call,
 * and a thread waiting in the real call is marked blocked for hang reports.  Serial mode: the
 * operation is modeled by serial.c so that the kernel never blocks the token holder.
 */
#include "shim.h"

#include <errno.h>

/* Noise-mode body for an operation that may block: point, mark blocked, real call. */
/* With memory watching, the object's page is opened for the call: a futex wait on a
 * protected page fails with EFAULT, which glibc treats as fatal (memwatch). */
#define NOISE_BLOCKING(kind, obj, site, call)                                                \
    do {                                                                                     \
        wedge_noise_point(kind, site, obj, 0);                                               \
        wedge_set_blocked(kind, obj, site);                                                  \
        int mw_ = wedge_g.memory ? wedge_mem_io_begin((const void *)(obj), 64) : 0;          \
        r = call;                                                                            \
        if (mw_)                                                                             \
            wedge_mem_io_end(mw_);                                                           \
        wedge_set_running();                                                                 \
    } while (0)

/* ---- mutexes ---- */

/* The two calls of every critical section: with no token the exported wrapper is a load, a
 * branch and a tail call (4 instructions; the compiler will not shrink-wrap the whole body
 * into that, so the rest is a function of its own that gets the caller's pc). */
static __attribute__((noinline)) int mutex_lock(pthread_mutex_t *m, const void *pc)
{
    if (!wedge_enter())
        return REAL(pthread_mutex_lock)(m);
    uint64_t site = wedge_site_of(pc);
    int r;
    if (wedge_g.serial) {
        r = wedge_serial_mutex_lock(m, NULL, 0, site);
    } else if (wedge_g.memory && wedge_mem_lock_pollable(m)) {
        /* explaining replay: taken without opening the page for a futex wait (memwatch.c) */
        wedge_noise_point(WEDGE_EV_MUTEX_LOCK, site, m, 0);
        wedge_set_blocked(WEDGE_EV_MUTEX_LOCK, m, site);
        if (wedge_mem_lock_poll(m, &r) != 0) {
            int mw = wedge_mem_io_begin(m, 64);
            r = REAL(pthread_mutex_lock)(m);
            if (mw)
                wedge_mem_io_end(mw);
        }
        wedge_set_running();
    } else {
        NOISE_BLOCKING(WEDGE_EV_MUTEX_LOCK, m, site, REAL(pthread_mutex_lock)(m));
    }
    wedge_leave();
    return r;
}

/* Reached by a tail jump from the wrapper (wedge_hot): the return address is its caller's. */
int wedge_mutex_lock_body(pthread_mutex_t *m)
{
    return mutex_lock(m, WEDGE_CALLER_PC());
}

WEDGE_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    return wedge_hot.pthread_mutex_lock(m);
}

WEDGE_WRAPPER(int, pthread_mutex_trylock, (pthread_mutex_t *m), m)
{
    if (!wedge_enter())
        return REAL(pthread_mutex_trylock)(m);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial) {
        r = wedge_serial_mutex_lock(m, NULL, 1, site);
    } else {
        wedge_noise_point(WEDGE_EV_MUTEX_TRYLOCK, site, m, 0);
        r = WEDGE_MEM_LIB_CALL(m, REAL(pthread_mutex_trylock)(m));
    }
    wedge_leave();
    return r;
}

WEDGE_WRAPPER(int, pthread_mutex_timedlock, (pthread_mutex_t *m, const struct timespec *abstime), m,
              abstime)
{
    if (!wedge_enter())
        return REAL(pthread_mutex_timedlock)(m, abstime);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial)
        r = wedge_serial_mutex_lock(m, abstime, 0, site);
    else
        NOISE_BLOCKING(WEDGE_EV_MUTEX_LOCK, m, site, REAL(pthread_mutex_timedlock)(m, abstime));
    wedge_leave();
    return r;
}

static __attribute__((noinline)) int mutex_unlock(pthread_mutex_t *m, const void *pc)
{
    if (!wedge_enter())
        return REAL(pthread_mutex_unlock)(m);
    uint64_t site = wedge_site_of(pc);
    int r;
    if (wedge_g.serial) {
        r = wedge_serial_mutex_unlock(m, site);
    } else {
        r = WEDGE_MEM_LIB_CALL(m, REAL(pthread_mutex_unlock)(m));
        /* after the release: the window between two critical sections is where
         * check-then-act across a lock hides */
        wedge_noise_point(WEDGE_EV_MUTEX_UNLOCK, site, m, 0);
    }
    wedge_leave();
    return r;
}

int wedge_mutex_unlock_body(pthread_mutex_t *m)
{
    return mutex_unlock(m, WEDGE_CALLER_PC());
}

WEDGE_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    return wedge_hot.pthread_mutex_unlock(m);
}

/* ---- rwlocks ---- */

static int rwlock(pthread_rwlock_t *l, int write, const struct timespec *abstime, int try_only,
                  uint64_t site)
{
    int r;
    unsigned kind = write ? WEDGE_EV_RWLOCK_WRLOCK : WEDGE_EV_RWLOCK_RDLOCK;
    if (wedge_g.serial)
        return wedge_serial_rwlock_lock(l, write, abstime, try_only, site);
    if (try_only) {
        wedge_noise_point(kind, site, l, 1);
        return write ? REAL(pthread_rwlock_trywrlock)(l) : REAL(pthread_rwlock_tryrdlock)(l);
    }
    if (abstime)
        NOISE_BLOCKING(kind, l, site,
                       write ? REAL(pthread_rwlock_timedwrlock)(l, abstime)
                             : REAL(pthread_rwlock_timedrdlock)(l, abstime));
    else
        NOISE_BLOCKING(kind, l, site,
                       write ? REAL(pthread_rwlock_wrlock)(l) : REAL(pthread_rwlock_rdlock)(l));
    return r;
}

#define RWLOCK_WRAPPER(name, args, write, abstime, try_only, ...)                            \
    WEDGE_WRAPPER(int, name, args, __VA_ARGS__)                                              \
    {                                                                                        \
        if (!wedge_enter())                                                                  \
            return REAL(name)(__VA_ARGS__);                                                  \
        int r = rwlock(l, write, abstime, try_only, wedge_site_of(WEDGE_CALLER_PC()));       \
        wedge_leave();                                                                       \
        return r;                                                                            \
    }

RWLOCK_WRAPPER(pthread_rwlock_rdlock, (pthread_rwlock_t * l), 0, NULL, 0, l)
RWLOCK_WRAPPER(pthread_rwlock_tryrdlock, (pthread_rwlock_t * l), 0, NULL, 1, l)
RWLOCK_WRAPPER(pthread_rwlock_timedrdlock, (pthread_rwlock_t * l, const struct timespec *t), 0,
               t, 0, l, t)
RWLOCK_WRAPPER(pthread_rwlock_wrlock, (pthread_rwlock_t * l), 1, NULL, 0, l)
RWLOCK_WRAPPER(pthread_rwlock_trywrlock, (pthread_rwlock_t * l), 1, NULL, 1, l)
RWLOCK_WRAPPER(pthread_rwlock_timedwrlock, (pthread_rwlock_t * l, const struct timespec *t), 1,
               t, 0, l, t)

WEDGE_WRAPPER(int, pthread_rwlock_unlock, (pthread_rwlock_t *l), l)
{
    if (!wedge_enter())
        return REAL(pthread_rwlock_unlock)(l);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial) {
        r = wedge_serial_rwlock_unlock(l, site);
    } else {
        r = REAL(pthread_rwlock_unlock)(l);
        wedge_noise_point(WEDGE_EV_RWLOCK_UNLOCK, site, l, 0);
    }
    wedge_leave();
    return r;
}

/* ---- condition variables (exported unversioned: they satisfy the GLIBC_2.3.2 references
 * programs are linked against; the real ones are looked up by that version) ---- */

static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                     const struct timespec *abstime, uint64_t site)
{
    int r;
    if (wedge_g.serial)
        return wedge_serial_cond_wait(c, m, clock, abstime, site);
    /* A short timed wait may expire early (timeouts.c): CPython's GIL changes hands when its
     * waiter's 5 ms wait does.  The real call gets the program's deadline on the kernel's
     * clock (the run's clocks may have been moved forward), or the earlier moment. */
    const struct timespec *t = abstime;
    struct timespec real_t;
    clockid_t cclock = clock;
    int64_t early = -1;
    if (abstime) {
        /* pthread_cond_timedwait measures on the clock chosen at pthread_cond_init */
        if (clock == CLOCK_REALTIME && (c->__data.__wrefs & 2 /* CLOCK_MONOTONIC mask */))
            cclock = CLOCK_MONOTONIC;
        t = wedge_timed_abstime(site, c, cclock, abstime, &real_t, &early);
    }
    /* the mutex is waited for too, when the wait ends (memwatch: see NOISE_BLOCKING) */
    int mw_m = wedge_g.memory ? wedge_mem_io_begin(m, 64) : 0;
    if (!abstime)
        NOISE_BLOCKING(WEDGE_EV_COND_WAIT, c, site, REAL(pthread_cond_wait)(c, m));
    else if (clock == CLOCK_REALTIME)
        NOISE_BLOCKING(WEDGE_EV_COND_WAIT, c, site, REAL(pthread_cond_timedwait)(c, m, t));
    else
        NOISE_BLOCKING(WEDGE_EV_COND_WAIT, c, site, REAL(pthread_cond_clockwait)(c, m, clock, t));
    if (mw_m)
        wedge_mem_io_end(mw_m);
    if (abstime)
        wedge_timed_end(c, cclock, abstime, early, r == ETIMEDOUT);
    return r;
}

WEDGE_WRAPPER(int, pthread_cond_wait, (pthread_cond_t *c, pthread_mutex_t *m), c, m)
{
    if (!wedge_enter())
        return REAL(pthread_cond_wait)(c, m);
    int r = cond_wait(c, m, CLOCK_REALTIME, NULL, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_WRAPPER(int, pthread_cond_timedwait,
              (pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime), c, m, abstime)
{
    if (!wedge_enter())
        return REAL(pthread_cond_timedwait)(c, m, abstime);
    int r = cond_wait(c, m, CLOCK_REALTIME, abstime, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_WRAPPER(int, pthread_cond_clockwait,
              (pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock, const struct timespec *abstime),
              c, m, clock, abstime)
{
    if (!wedge_enter())
        return REAL(pthread_cond_clockwait)(c, m, clock, abstime);
    int r = cond_wait(c, m, clock, abstime, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

static int cond_signal(pthread_cond_t *c, int broadcast, uint64_t site)
{
    if (wedge_g.serial)
        return wedge_serial_cond_signal(c, broadcast, site);
    wedge_noise_point(broadcast ? WEDGE_EV_COND_BROADCAST : WEDGE_EV_COND_SIGNAL, site, c, 0);
    return broadcast ? REAL(pthread_cond_broadcast)(c) : REAL(pthread_cond_signal)(c);
}

WEDGE_WRAPPER(int, pthread_cond_signal, (pthread_cond_t *c), c)
{
    if (!wedge_enter())
        return REAL(pthread_cond_signal)(c);
    int r = cond_signal(c, 0, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_WRAPPER(int, pthread_cond_broadcast, (pthread_cond_t *c), c)
{
    if (!wedge_enter())
        return REAL(pthread_cond_broadcast)(c);
    int r = cond_signal(c, 1, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

/* ---- semaphores ---- */

/* clock: the clock of abstime (sem_timedwait's is CLOCK_REALTIME); clockwait: called as
 * sem_clockwait (CPython 3.11's threading.Lock with a timeout, Condition.wait(timeout)). */
static int sem_wait_common(sem_t *s, clockid_t clock, int clockwait,
                           const struct timespec *abstime, int try_only, uint64_t site)
{
    int r;
    if (wedge_g.serial)
        return wedge_serial_sem_wait(s, clock, clockwait, abstime, try_only, site);
    if (try_only) {
        wedge_noise_point(WEDGE_EV_SEM_WAIT, site, s, 1);
        return REAL(sem_trywait)(s);
    }
    if (!abstime) {
        NOISE_BLOCKING(WEDGE_EV_SEM_WAIT, s, site, REAL(sem_wait)(s));
        return r;
    }
    /* a short one may expire early, as a condition wait may (timeouts.c) */
    struct timespec real_t;
    int64_t early;
    const struct timespec *t = wedge_timed_abstime(site, s, clock, abstime, &real_t, &early);
    NOISE_BLOCKING(WEDGE_EV_SEM_WAIT, s, site,
                   clockwait ? REAL(sem_clockwait)(s, clock, t) : REAL(sem_timedwait)(s, t));
    int saved = errno;
    wedge_timed_end(s, clock, abstime, early, r != 0 && saved == ETIMEDOUT);
    errno = saved;
    return r;
}

WEDGE_WRAPPER(int, sem_wait, (sem_t *s), s)
{
    if (!wedge_enter())
        return REAL(sem_wait)(s);
    int r = sem_wait_common(s, CLOCK_REALTIME, 0, NULL, 0, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_WRAPPER(int, sem_trywait, (sem_t *s), s)
{
    if (!wedge_enter())
        return REAL(sem_trywait)(s);
    int r = sem_wait_common(s, CLOCK_REALTIME, 0, NULL, 1, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_WRAPPER(int, sem_timedwait, (sem_t *s, const struct timespec *abstime), s, abstime)
{
    if (!wedge_enter())
        return REAL(sem_timedwait)(s, abstime);
    int r = sem_wait_common(s, CLOCK_REALTIME, 0, abstime, 0, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abstime)
{
    /* only the clocks sem_clockwait accepts are modeled; the real call says EINVAL to others */
    if ((clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) || !wedge_enter())
        return REAL(sem_clockwait)(s, clock, abstime);
    int r = sem_wait_common(s, clock, 1, abstime, 0, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_WRAPPER(int, sem_post, (sem_t *s), s)
{
    if (!wedge_enter())
        return REAL(sem_post)(s);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial) {
        r = wedge_serial_sem_post(s, site);
    } else {
        wedge_noise_point(WEDGE_EV_SEM_POST, site, s, 0);
        r = REAL(sem_post)(s);
    }
    wedge_leave();
    return r;
}

/* ---- barriers ---- */

WEDGE_EXPORT int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a,
                                      unsigned count)
{
    if (!wedge_enter())
        return REAL(pthread_barrier_init)(b, a, count);
    int r = wedge_g.serial ? wedge_serial_barrier_init(b, a, count, wedge_site_of(WEDGE_CALLER_PC()))
                           : REAL(pthread_barrier_init)(b, a, count);
    wedge_leave();
    return r;
}

WEDGE_EXPORT int pthread_barrier_destroy(pthread_barrier_t *b)
{
    if (!wedge_enter())
        return REAL(pthread_barrier_destroy)(b);
    int r = wedge_g.serial ? wedge_serial_barrier_destroy(b, wedge_site_of(WEDGE_CALLER_PC()))
                           : REAL(pthread_barrier_destroy)(b);
    wedge_leave();
    return r;
}

WEDGE_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
    if (!wedge_enter())
        return REAL(pthread_barrier_wait)(b);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial)
        r = wedge_serial_barrier_wait(b, site);
    else
        NOISE_BLOCKING(WEDGE_EV_BARRIER_WAIT, b, site, REAL(pthread_barrier_wait)(b));
    wedge_leave();
    return r;
}

/* ---- spinlocks ---- */

WEDGE_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
    if (!wedge_enter())
        return REAL(pthread_spin_lock)(s);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial)
        r = wedge_serial_spin_lock(s, 0, site);
    else
        NOISE_BLOCKING(WEDGE_EV_SPIN_LOCK, (void *)s, site, REAL(pthread_spin_lock)(s));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
    if (!wedge_enter())
        return REAL(pthread_spin_trylock)(s);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial) {
        r = wedge_serial_spin_lock(s, 1, site);
    } else {
        wedge_noise_point(WEDGE_EV_SPIN_LOCK, site, (void *)s, 1);
        r = REAL(pthread_spin_trylock)(s);
    }
    wedge_leave();
    return r;
}

WEDGE_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
    if (!wedge_enter())
        return REAL(pthread_spin_unlock)(s);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (wedge_g.serial) {
        r = wedge_serial_spin_unlock(s, site);
    } else {
        r = REAL(pthread_spin_unlock)(s);
        wedge_noise_point(WEDGE_EV_SPIN_UNLOCK, site, (void *)s, 0);
    }
    wedge_leave();
    return r;
}

/* ---- yields ---- */

WEDGE_EXPORT int sched_yield(void)
{
    if (!wedge_enter())
        return REAL(sched_yield)();
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    int r;
    if (WEDGE_UNLIKELY(wedge_sanitizer_runtime) && wedge_site_in_sanitizer(site)) {
        r = REAL(sched_yield)(); /* inside the runtime, its locks held (noise.c says why) */
    } else if (wedge_g.serial) {
        r = wedge_serial_yield(site);
    } else {
        wedge_noise_point(WEDGE_EV_YIELD, site, NULL, 0);
        r = REAL(sched_yield)();
    }
    wedge_leave();
    return r;
}

/* pthread_yield: glibc's header redirects it to sched_yield, so it is covered above. */

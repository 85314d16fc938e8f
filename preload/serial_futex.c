/* serial_futex.c - serial mode: futexes through syscall(2), modeled.
 *
 * A private futex is a word of this process's memory, and every thread that waits or wakes
 * on it through libc's syscall() comes here, so the model is exact: FUTEX_WAIT blocks the
 * caller in the model if the word still holds the expected value (checked under the
 * scheduler lock with the token held, so no wake-up is lost between the check and the
 * block), and FUTEX_WAKE makes up to N waiters on that address runnable, oldest first, as
 * the kernel does.  The timed variants wait in virtual time (FUTEX_WAIT's timeout relative
 * on CLOCK_MONOTONIC, FUTEX_WAIT_BITSET's absolute, on CLOCK_REALTIME with
 * FUTEX_CLOCK_REALTIME); the bitset variants match waiters by bitset; REQUEUE and CMP_REQUEUE
 * move waiters to the second address; WAKE_OP does the real operation (the atomic update of
 * the second word) and wakes modeled waiters on both words (a waiter woken without cause is
 * a spurious wake-up, which every futex user handles).
 *
 * Outside the model: shared futexes (no FUTEX_PRIVATE_FLAG: another process may wake them)
 * and the PI family wait as calls outside the model (a point, then the real call).  Every
 * wake is also made for real, for waiters the model does not know (a thread that waited
 * before the shim started, or from inside a call that passes through).  A waker the shim
 * cannot see (a raw syscall instruction) would leave a modeled waiter blocked: before calling
 * the run a deadlock, the scheduler wakes the futex waiters whose word changed
 * (serial_futex_stale).
 */
#define _GNU_SOURCE
#include "serial_internal.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>

/* Per slot: the value and bitset a futex waiter waits with (beside S.t[], not in it). */
static uint32_t futex_val[SERIAL_MAX_THREADS];
static uint32_t futex_bits[SERIAL_MAX_THREADS];

/* The futex word, read by the model: its page opened around the read only where it may be
 * protected (wedge_mem_lib_begin's look: no lock and no system call on the other pages, where
 * every modeled futex call used to take memwatch's lock and two sigprocmask calls) */
static uint32_t load_word(const uint32_t *addr)
{
    int mw = wedge_g.memory ? wedge_mem_lib_begin(addr, sizeof *addr) : 0;
    uint32_t v = atomic_load_explicit((_Atomic uint32_t *)addr, memory_order_seq_cst);
    if (mw)
        wedge_mem_io_end(mw);
    return v;
}

static int is_futex_waiter(const struct sthread *t, const void *addr)
{
    return t->state == T_BLOCKED && t->wait_kind == WEDGE_EV_FUTEX_WAIT && t->wait_obj == addr;
}

/* The oldest modeled waiter on addr whose bitset meets mask (lock held), or NULL. */
static struct sthread *oldest_waiter(const void *addr, uint32_t mask)
{
    struct sthread *first = NULL;
    for (int i = 0; i < S.hi; i++) {
        struct sthread *t = &S.t[i];
        if (is_futex_waiter(t, addr) && (futex_bits[i] & mask) &&
            (!first || t->wait_seq < first->wait_seq))
            first = t;
    }
    return first;
}

/* Wake up to n modeled waiters on addr, oldest first (lock held).  Returns how many. */
static long wake_model(const void *addr, long n, uint32_t mask)
{
    long woken = 0;
    struct sthread *t;
    while (woken < n && (t = oldest_waiter(addr, mask)) != NULL) {
        t->state = T_RUNNABLE;
        t->woke = W_WOKEN;
        woken++;
    }
    return woken;
}

int serial_futex_stale(void)
{
    int n = 0;
    for (int i = 0; i < S.hi; i++) {
        struct sthread *t = &S.t[i];
        if (t->state == T_BLOCKED && t->wait_kind == WEDGE_EV_FUTEX_WAIT &&
            load_word(t->wait_obj) != futex_val[i]) {
            t->state = T_RUNNABLE;
            t->woke = W_WOKEN;
            n++;
        }
    }
    return n;
}

static long fail(int e)
{
    errno = e;
    return -1;
}

static long futex_wait(uint32_t *addr, uint32_t val, int64_t deadline, uint32_t bits,
                       uint64_t site)
{
    if (bits == 0)
        return fail(EINVAL);
    struct sthread *self = serial_me();
    serial_lock();
    serial_ensure_token(self);
    /* the check the kernel makes, made with the token held: a waker needs the token too, so
     * it either changed the word before this (EAGAIN) or wakes us after we block */
    if (load_word(addr) != val) {
        serial_unlock();
        return fail(EAGAIN);
    }
    if (deadline >= 0 && atomic_load(&S.vtime) >= deadline) {
        serial_unlock();
        return fail(ETIMEDOUT);
    }
    futex_val[serial_index(self)] = val;
    futex_bits[serial_index(self)] = bits;
    int w = serial_block(self, WEDGE_EV_FUTEX_WAIT, addr, site, deadline >= 0, deadline);
    return w == W_TIMEOUT ? fail(ETIMEDOUT) : 0;
}

/* The real call for waiters the model does not know; its count added to ours. */
static long also_real(long modeled, uint32_t *addr, int op, long n, const void *ts,
                      uint32_t *addr2, uint32_t val3)
{
    int saved = errno;
    long r = REAL(syscall)(SYS_futex, addr, op, n, ts, addr2, val3);
    if (r < 0 && !modeled)
        return r; /* the kernel's error (EFAULT, EINVAL) */
    errno = saved;
    return modeled + (r < 0 ? 0 : r);
}

/* Outside the model: a point, then the real call with the token kept (the grace period and
 * the watchdog as for any call outside the model). */
static long outside(uint32_t *addr, int op, uint32_t val, const struct timespec *ts,
                    uint32_t *addr2, uint32_t val3, uint64_t site)
{
    if (!wedge_futex_is_wait(op)) {
        serial_sched_point(WEDGE_EV_FUTEX_WAKE, site, addr, val, 0);
        return REAL(syscall)(SYS_futex, addr, op, val, ts, addr2, val3);
    }
    wedge_serial_outside_begin(WEDGE_EV_FUTEX_WAIT, site, addr);
    long r = REAL(syscall)(SYS_futex, addr, op, val, ts, addr2, val3);
    int saved = errno;
    wedge_serial_outside_end();
    errno = saved;
    return r;
}

long wedge_serial_futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts,
                        uint32_t *addr2, uint32_t val3, uint64_t site)
{
    int cmd = op & FUTEX_CMD_MASK;
    if (!(op & FUTEX_PRIVATE_FLAG))
        return outside(addr, op, val, ts, addr2, val3, site);
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        int64_t deadline = -1;
        if (ts) {
            if (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L || ts->tv_sec < 0)
                return fail(EINVAL);
            if (cmd == FUTEX_WAIT)
                deadline = atomic_load(&S.vtime) + wedge_ts_ns(ts);
            else
                deadline = serial_deadline(
                    (op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC, ts);
        }
        return futex_wait(addr, val, deadline, cmd == FUTEX_WAIT ? ~0u : val3, site);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
        uint32_t mask = cmd == FUTEX_WAKE ? ~0u : val3;
        if (mask == 0)
            return fail(EINVAL);
        serial_sched_point(WEDGE_EV_FUTEX_WAKE, site, addr, val, 0);
        long n = (int)val < 0 ? INT_MAX : (long)(int)val;
        serial_lock();
        long woken = wake_model(addr, n, mask);
        serial_unlock();
        if (woken >= n)
            return woken;
        return also_real(woken, addr, op, n - woken, ts, addr2, val3);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
        /* the timeout argument is the number of waiters to requeue */
        long nwake = (int)val < 0 ? INT_MAX : (long)(int)val;
        long nreq = (long)(uintptr_t)ts;
        serial_sched_point(WEDGE_EV_FUTEX_WAKE, site, addr, val, 0);
        serial_lock();
        if (cmd == FUTEX_CMP_REQUEUE && load_word(addr) != val3) {
            serial_unlock();
            return fail(EAGAIN);
        }
        long woken = wake_model(addr, nwake, ~0u);
        long moved = 0;
        struct sthread *t;
        while (moved < nreq && (t = oldest_waiter(addr, ~0u)) != NULL) {
            t->wait_obj = addr2;
            moved++;
        }
        serial_unlock();
        long modeled = cmd == FUTEX_CMP_REQUEUE ? woken + moved : woken;
        return also_real(modeled, addr, op, val, ts, addr2, val3);
    }
    case FUTEX_WAKE_OP: {
        serial_sched_point(WEDGE_EV_FUTEX_WAKE, site, addr, val, 0);
        long r = REAL(syscall)(SYS_futex, addr, op, val, ts, addr2, val3);
        if (r < 0)
            return r;
        serial_lock();
        long woken = wake_model(addr, (int)val < 0 ? INT_MAX : (long)(int)val, ~0u);
        woken += wake_model(addr2, (long)(uintptr_t)ts, ~0u);
        serial_unlock();
        return r + woken;
    }
    default:
        return outside(addr, op, val, ts, addr2, val3, site);
    }
}

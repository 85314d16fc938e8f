/* futex.c - syscall(2), for the futex calls made through it.
 *
 * Programs with their own locks (Rust's std::sync::Mutex and Condvar, Abseil, folly, hand-
 * written ones) wait and wake with syscall(SYS_futex, ...) through libc: no pthread call at
 * all.  Each such call is an interception point.  Noise mode: a point before the real call
 * (a wait may also expire early, timeouts.c).  Serial mode: the private futex operations are
 * modeled (serial_futex.c), so that a waiter is not runnable until a wake on its address and
 * the kernel never blocks the token holder; shared (cross-process) futexes and the PI family
 * are calls outside the model.
 *
 * Every other system call, and every call in other modes or from inside the shim, passes
 * straight through: the shim itself calls syscall() for its own futexes, which land here too
 * (wedge_enter() fails inside the shim).  A futex made with a raw syscall instruction (Go,
 * libgomp, glibc itself) never comes here: serial.c's watchdog notices a holder asleep in one
 * and says so (WEDGE_RUN_UNSEEN_FUTEX).
 */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <sys/syscall.h>

int wedge_futex_is_wait(int op)
{
    switch (op & FUTEX_CMD_MASK) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
    case FUTEX_LOCK_PI:
    case FUTEX_WAIT_REQUEUE_PI:
#ifdef FUTEX_LOCK_PI2
    case FUTEX_LOCK_PI2:
#endif
        return 1;
    default:
        return 0;
    }
}

/* Noise mode: a point, then the real call; a short timed wait may expire early. */
static long noise_futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts,
                        uint32_t *addr2, uint32_t val3, uint64_t site)
{
    int cmd = op & FUTEX_CMD_MASK;
    int wait = wedge_futex_is_wait(op);
    wedge_noise_point(wait ? WEDGE_EV_FUTEX_WAIT : WEDGE_EV_FUTEX_WAKE, site, addr, val);
    if (!wait) {
        /* CMP_REQUEUE and WAKE_OP read or write the words: not on a watched page (memwatch) */
        int mw = wedge_g.memory ? wedge_mem_io_begin(addr, sizeof *addr) : 0;
        int two = cmd == FUTEX_REQUEUE || cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_WAKE_OP;
        int mw2 = wedge_g.memory && two ? wedge_mem_io_begin(addr2, sizeof *addr2) : 0;
        long r = REAL(syscall)(SYS_futex, addr, op, val, ts, addr2, val3);
        int saved = errno;
        if (mw2)
            wedge_mem_io_end(mw2);
        if (mw)
            wedge_mem_io_end(mw);
        errno = saved;
        return r;
    }
    clockid_t clock = (op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
    const struct timespec *t = ts;
    struct timespec real_ts;
    int64_t deadline = -1; /* on the program's clock, for an early expiry */
    if (ts && (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) && ts->tv_nsec >= 0 &&
        ts->tv_nsec < 1000000000L && ts->tv_sec >= 0) {
        int64_t now = wedge_clock_now(clock);
        /* FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's absolute */
        deadline = cmd == FUTEX_WAIT ? now + wedge_ts_ns(ts) : wedge_ts_ns(ts);
        int64_t early = wedge_early_wait(site, addr, deadline - now);
        if (early >= 0) {
            real_ts = wedge_ns_ts(cmd == FUTEX_WAIT ? early : wedge_clock_real(clock) + early);
            t = &real_ts;
        } else {
            deadline = -1;
            if (cmd == FUTEX_WAIT_BITSET)
                t = wedge_abstime_real(clock, ts, &real_ts);
        }
    }
    wedge_set_blocked(WEDGE_EV_FUTEX_WAIT, addr, site);
    /* a futex word on a watched page: the kernel would fail with EFAULT (memwatch) */
    int mw = wedge_g.memory ? wedge_mem_io_begin(addr, sizeof *addr) : 0;
    long r = REAL(syscall)(SYS_futex, addr, op, val, t, addr2, val3);
    int saved = errno;
    if (mw)
        wedge_mem_io_end(mw);
    wedge_set_running();
    if (r != 0 && saved == ETIMEDOUT && deadline >= 0)
        wedge_clock_reach(clock, deadline);
    if (ts)
        wedge_early_done(addr, r != 0 && saved == ETIMEDOUT && deadline >= 0);
    errno = saved;
    return r;
}

WEDGE_EXPORT long syscall(long nr, ...)
{
    /* x86-64 passes up to six arguments in registers: take six, pass six */
    va_list ap;
    va_start(ap, nr);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (nr != SYS_futex || !wedge_enter())
        return REAL(syscall)(nr, a1, a2, a3, a4, a5, a6);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    uint32_t *addr = (uint32_t *)a1, *addr2 = (uint32_t *)a5;
    const struct timespec *ts = (const struct timespec *)a4;
    /* a lock's word, not lock-free data: the campaign keeps its compare-and-swap pairs out
     * of the rf arms' share (cli/portfolio.c, "Lock-free code").  The second word of a
     * requeue or wake-op is a futex word too. */
    wedge_futex_note(addr);
    int cmd = (int)a2 & FUTEX_CMD_MASK;
    if (cmd == FUTEX_REQUEUE || cmd == FUTEX_CMP_REQUEUE || cmd == FUTEX_WAKE_OP ||
        cmd == FUTEX_CMP_REQUEUE_PI || cmd == FUTEX_WAIT_REQUEUE_PI)
        wedge_futex_note(addr2);
    long r = wedge_g.serial
                 ? wedge_serial_futex(addr, (int)a2, (uint32_t)a3, ts, addr2, (uint32_t)a6, site)
                 : noise_futex(addr, (int)a2, (uint32_t)a3, ts, addr2, (uint32_t)a6, site);
    int saved = errno;
    wedge_leave();
    errno = saved;
    return r;
}

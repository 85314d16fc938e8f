/* serial_syscall.c - raw futex waits through syscall(2) in serial mode.
 *
 * A program with its own locks waits with syscall(SYS_futex, FUTEX_WAIT...) for a thread of
 * the same process: without this wrapper the token holder would sleep in the kernel while the
 * thread that would wake it waits for the token, until the watchdog's long limit for threads
 * asleep in unknown calls.  Here the wait is a call outside the model: a scheduling point,
 * and the token moves on after a short grace if the wait really sleeps.  Every other system
 * call, and every call in other modes or from inside the shim, passes straight through: the
 * shim itself calls syscall() for its own futexes, which land here too.
 */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <sys/syscall.h>

static int futex_waits(long op)
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

WEDGE_EXPORT long syscall(long nr, ...)
{
    /* x86-64 passes up to six arguments in registers: take six, pass six */
    va_list ap;
    va_start(ap, nr);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);
    if (nr != SYS_futex || !futex_waits(a2) ||
        atomic_load_explicit(&wedge_g.init_state, memory_order_acquire) != 2 || !wedge_g.serial ||
        !wedge_enter())
        return REAL(syscall)(nr, a1, a2, a3, a4, a5, a6);
    uint64_t site = wedge_site_of(WEDGE_CALLER_PC());
    wedge_serial_outside_begin(WEDGE_EV_BLOCKING_CALL, site, (const void *)a1);
    long r = REAL(syscall)(nr, a1, a2, a3, a4, a5, a6);
    int saved = errno;
    wedge_serial_outside_end();
    wedge_leave();
    errno = saved;
    return r;
}

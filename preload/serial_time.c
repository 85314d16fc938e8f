/* serial_time.c - the clock in serial mode: virtual time (serial.c) instead of the wall clock;
 * in noise mode the wall clock moved forward by the skew of timed waits that expired early
 * (timeouts.c).
 *
 * Sleeps and timed waits advance virtual time instead of waiting, so the program's clock must
 * agree with them: a thread that slept 1 s sees 1 s more, a deadline computed as now + 1 s is
 * reached when virtual time says so, and a replay reads the same values.  Other modes, and
 * CPU-time clocks, pass through.  No wedge_enter(): reading the clock is no scheduling point,
 * and the values must be virtual for the shim's own callers too. */
#define _GNU_SOURCE
#include "serial_internal.h"

#include <sys/time.h>

static int virtual_now(clockid_t clock, int64_t *ns)
{
    if (atomic_load_explicit(&wedge_g.init_state, memory_order_acquire) != 2)
        return -1;
    if (!wedge_g.serial) {
        int64_t skew = wedge_clock_skewed(clock) ? wedge_clock_skew() : 0;
        if (skew == 0)
            return -1;
        *ns = wedge_clock_now(clock);
        return 0;
    }
    return wedge_serial_now(clock, ns);
}

WEDGE_EXPORT int clock_gettime(clockid_t clock, struct timespec *ts)
{
    int64_t ns;
    if (virtual_now(clock, &ns) != 0)
        return REAL(clock_gettime)(clock, ts);
    ts->tv_sec = (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
    return 0;
}

WEDGE_EXPORT int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    int64_t ns;
    if (virtual_now(CLOCK_REALTIME, &ns) != 0)
        return REAL(gettimeofday)(tv, tz);
    tv->tv_sec = (time_t)(ns / 1000000000LL);
    tv->tv_usec = (suseconds_t)(ns % 1000000000LL / 1000);
    return 0;
}

WEDGE_EXPORT time_t time(time_t *out)
{
    int64_t ns;
    if (virtual_now(CLOCK_REALTIME, &ns) != 0)
        return REAL(time)(out);
    time_t t = (time_t)(ns / 1000000000LL);
    if (out)
        *out = t;
    return t;
}

int64_t wedge_serial_vtime(void)
{
    return atomic_load(&S.vtime);
}

void wedge_serial_reach(int64_t v)
{
    int64_t cur = atomic_load(&S.vtime);
    while (v > cur && !atomic_compare_exchange_weak(&S.vtime, &cur, v))
        ;
}

/* sleep.c - sleep, usleep, nanosleep, clock_nanosleep.
 * Noise mode: an interception point, then the real sleep.  Serial mode: serial.c sleeps in
 * virtual time when every other thread is blocked. */
#include "shim.h"

#include <errno.h>

static int do_sleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem,
                    uint64_t site)
{
    int r;
    if (wedge_g.serial)
        return wedge_serial_sleep(clock, flags, req, site);
    wedge_noise_point(WEDGE_EV_SLEEP, site, NULL,
                      (uint64_t)req->tv_sec * 1000000u + (uint64_t)req->tv_nsec / 1000u);
    wedge_set_blocked(WEDGE_EV_SLEEP, NULL, site);
    /* an absolute time is the program's: on the kernel's clock it is earlier by the skew */
    struct timespec real_req;
    if (flags & TIMER_ABSTIME)
        req = wedge_abstime_real(clock, req, &real_req);
    r = REAL(clock_nanosleep)(clock, flags, req, rem);
    wedge_set_running();
    return r;
}

WEDGE_EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req,
                                 struct timespec *rem)
{
    if (!wedge_enter())
        return REAL(clock_nanosleep)(clock, flags, req, rem);
    int r = do_sleep(clock, flags, req, rem, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r;
}

WEDGE_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (!wedge_enter())
        return REAL(nanosleep)(req, rem);
    if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000L || req->tv_sec < 0) {
        wedge_leave();
        errno = EINVAL;
        return -1;
    }
    int r = do_sleep(CLOCK_REALTIME, 0, req, rem, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    if (r) {
        errno = r;
        return -1;
    }
    return 0;
}

WEDGE_EXPORT int usleep(useconds_t us)
{
    if (!wedge_enter())
        return REAL(usleep)(us);
    struct timespec ts = { us / 1000000u, (long)(us % 1000000u) * 1000 };
    int r = do_sleep(CLOCK_REALTIME, 0, &ts, NULL, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    if (r) {
        errno = r;
        return -1;
    }
    return 0;
}

WEDGE_EXPORT unsigned sleep(unsigned s)
{
    if (!wedge_enter())
        return REAL(sleep)(s);
    struct timespec ts = { s, 0 }, rem = { 0, 0 };
    int r = do_sleep(CLOCK_REALTIME, 0, &ts, &rem, wedge_site_of(WEDGE_CALLER_PC()));
    wedge_leave();
    return r ? (unsigned)rem.tv_sec + (rem.tv_nsec > 0) : 0;
}
